"""The three PATCH flavours kube-apiserver accepts: JSON merge, JSON patch and strategic merge.

Strategic merge follows k8s.io/apimachinery/pkg/util/strategicpatch for the fields that kubectl and
KubeSpawner touch: lists with a merge key (containers/volumes/env by ``name``, volumeMounts by ``mountPath``,
container ports by ``containerPort``, service ports by ``port``, ownerReferences by ``uid``, conditions by
``type``), merged primitive lists (``finalizers``), and the directives ``$patch: delete|replace|merge``,
``$setElementOrder/<f>``, ``$deleteFromPrimitiveList/<f>`` and ``$retainKeys``.  Other lists are replaced.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from . import errors

# field name -> merge key, for lists merged by key; (parent, field) overrides for context-dependent ones
_MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "ownerReferences": "uid",
    "conditions": "type",
    "hostAliases": "ip",
    "secrets": "name",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
}
_PRIMITIVE_MERGE = {"finalizers"}


def _merge_key(path: tuple[str, ...], field: str) -> str | None:
    if field == "ports":
        # Service spec ports merge by port, container ports by containerPort
        if "containers" in path or "initContainers" in path or "ephemeralContainers" in path:
            return "containerPort"
        if len(path) >= 1 and path[-1] == "spec":
            return "port"
        return None
    return _MERGE_KEYS.get(field)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


# ---- RFC 6902 --------------------------------------------------------------------------------------------
def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise errors.bad_request(f"the server rejected our request due to an error in our request: {path}")
    return [_unescape(t) for t in path[1:].split("/")]


def _resolve(doc: Any, tokens: list[str]) -> Any:
    cur = doc
    for t in tokens:
        if isinstance(cur, dict):
            if t not in cur:
                raise KeyError(t)
            cur = cur[t]
        elif isinstance(cur, list):
            cur = cur[int(t)]
        else:
            raise KeyError(t)
    return cur


def _container(doc: Any, tokens: list[str]) -> tuple[Any, str]:
    return _resolve(doc, tokens[:-1]), tokens[-1]


def _add(doc: Any, tokens: list[str], value: Any) -> Any:
    if not tokens:
        return value
    parent, key = _container(doc, tokens)
    if isinstance(parent, list):
        if key == "-":
            parent.append(value)
        else:
            idx = int(key)
            if idx < 0 or idx > len(parent):
                raise IndexError(key)
            parent.insert(idx, value)
    elif isinstance(parent, dict):
        parent[key] = value
    else:
        raise KeyError(key)
    return doc


def _remove(doc: Any, tokens: list[str]) -> Any:
    parent, key = _container(doc, tokens)
    if isinstance(parent, list):
        return parent.pop(int(key))
    if isinstance(parent, dict):
        if key not in parent:
            raise KeyError(key)
        return parent.pop(key)
    raise KeyError(key)


def json_patch(doc: Any, ops: Any) -> Any:
    """RFC 6902 JSON patch; failures are the apiserver's 422/500-style messages as 400-class ApiErrors."""
    if not isinstance(ops, list):
        raise errors.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(doc)
    for op in ops:
        kind = op.get("op")
        try:
            tokens = _pointer(op.get("path", ""))
            if kind == "add":
                doc = _add(doc, tokens, copy.deepcopy(op.get("value")))
            elif kind == "remove":
                _remove(doc, tokens)
            elif kind == "replace":
                if tokens:
                    _resolve(doc, tokens)  # must exist
                    parent, key = _container(doc, tokens)
                    if isinstance(parent, list):
                        parent[int(key)] = copy.deepcopy(op.get("value"))
                    else:
                        parent[key] = copy.deepcopy(op.get("value"))
                else:
                    doc = copy.deepcopy(op.get("value"))
            elif kind in ("move", "copy"):
                src = _pointer(op.get("from", ""))
                value = copy.deepcopy(_resolve(doc, src))
                if kind == "move":
                    _remove(doc, src)
                doc = _add(doc, tokens, value)
            elif kind == "test":
                if _resolve(doc, tokens) != op.get("value"):
                    raise errors.ApiError(
                        errors.status_body(
                            422, "Invalid", "the server rejected our request due to an error in our request"
                        )
                    )
            else:
                raise errors.bad_request(f"Unexpected kind: {kind}")
        except (KeyError, IndexError, ValueError, TypeError):
            raise errors.ApiError(
                errors.status_body(
                    422,
                    "Invalid",
                    "the server rejected our request due to an error in our request",
                )
            ) from None
    return doc


# ---- strategic merge -------------------------------------------------------------------------------------
def strategic_merge(original: Any, patch: Any, path: tuple[str, ...] = ()) -> Any:
    """Apply a strategic merge patch to ``original`` (neither is modified)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(original, dict):
        original = {}
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    result = copy.deepcopy(original)
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$patch", "$retainKeys"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list):
                result[field] = [x for x in result[field] if x not in value]
            continue
        if value is None:
            result.pop(key, None)
            continue
        if isinstance(value, dict):
            merged = strategic_merge(result.get(key), value, (*path, key))
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _merge_list(result.get(key), value, path, key)
        else:
            result[key] = value
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    for key, order in patch.items():
        if key.startswith("$setElementOrder/") and isinstance(result.get(key.split("/", 1)[1]), list):
            field = key.split("/", 1)[1]
            result[field] = _apply_order(result[field], order, _merge_key(path, field))
    return result


def _merge_list(original: Any, patch: list[Any], path: tuple[str, ...], field: str) -> list[Any]:
    if not isinstance(original, list):
        original = []
    if field in _PRIMITIVE_MERGE:
        out = list(original)
        for item in patch:
            if item not in out:
                out.append(item)
        return out
    mk = _merge_key(path, field)
    if mk is None or not all(isinstance(i, dict) for i in patch):
        if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
            return [i for i in patch if not (isinstance(i, dict) and "$patch" in i)]
        return copy.deepcopy(patch)
    if any(i.get("$patch") == "replace" for i in patch):
        return [copy.deepcopy(i) for i in patch if "$patch" not in i]
    out = copy.deepcopy(original)
    for item in patch:
        key = item.get(mk)
        idx = next((n for n, o in enumerate(out) if isinstance(o, dict) and o.get(mk) == key), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                out.pop(idx)
            continue
        if idx is None:
            out.append(strategic_merge({}, item, (*path, field)))
        else:
            out[idx] = strategic_merge(out[idx], item, (*path, field))
    return out


def _apply_order(items: list[Any], order: list[Any], mk: str | None) -> list[Any]:
    """Reorder per ``$setElementOrder``; items not named keep their relative order at the end."""

    def ident(x: Any) -> Any:
        return json.dumps(x.get(mk) if mk and isinstance(x, dict) else x, sort_keys=True)

    wanted = [ident(o) for o in order]
    ranked = sorted(
        enumerate(items),
        key=lambda p: (wanted.index(ident(p[1])) if ident(p[1]) in wanted else len(wanted), p[0]),
    )
    return [i for _, i in ranked]


PATCH_TYPES = {
    "application/merge-patch+json": "merge",
    "application/json-patch+json": "json",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
}


def apply_patch(original: dict[str, Any], patch: Any, patch_type: str) -> dict[str, Any]:
    if patch_type == "merge":
        if not isinstance(patch, dict):
            raise errors.bad_request(
                "json: cannot unmarshal array into Go value of type map[string]interface {}"
            )
        return merge_patch(original, patch)
    if patch_type == "json":
        result = json_patch(original, patch)
    elif patch_type == "strategic":
        if not isinstance(patch, dict):
            raise errors.bad_request(
                "json: cannot unmarshal array into Go value of type map[string]interface {}"
            )
        result = strategic_merge(original, patch)
    else:
        raise errors.unsupported_media_type(patch_type)
    if not isinstance(result, dict):
        raise errors.bad_request("the patch produced a non-object")
    return result
