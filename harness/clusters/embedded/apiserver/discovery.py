"""Discovery documents (/version, /api, /apis, APIResourceLists) and /openapi/v2 for kubectl.

The OpenAPI v2 document is built from the 1.30 JSON schemas that ``kubernetes-validate`` bundles: its
definitions keep ``x-kubernetes-patch-merge-key``/``-strategy`` and ``x-kubernetes-group-version-kind``, which
is what ``kubectl apply`` and ``kubectl explain`` read.
"""

from __future__ import annotations

import functools
import json
import platform
import re
from typing import Any

from .. import version as version_info
from .resources import RESOURCES, group_versions

Obj = dict[str, Any]

#: OpenAPI ``info.version``: the gitVersion up to any ``-`` (genericapiserver's Config.Complete)
OPENAPI_VERSION = version_info.GIT_VERSION.split("-")[0]


def version() -> Obj:
    """``/version``: apimachinery's version.Info of the release the cluster claims (version.py)."""
    return {
        "major": version_info.MAJOR,
        "minor": version_info.MINOR,
        "gitVersion": version_info.GIT_VERSION,
        "gitCommit": version_info.GIT_COMMIT,
        "gitTreeState": "clean",
        "buildDate": version_info.BUILD_DATE,
        "goVersion": version_info.GO_VERSION,
        "compiler": "gc",
        "platform": f"linux/{'amd64' if platform.machine() in ('x86_64', 'AMD64') else platform.machine()}",
    }


def api_versions(server_address: str) -> Obj:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group(name: str, version: str) -> Obj:
    gv = {"groupVersion": f"{name}/{version}", "version": version}
    return {"name": name, "versions": [gv], "preferredVersion": gv}


def api_group_list() -> Obj:
    groups = [gv.split("/")[0] for gv in group_versions() if "/" in gv]
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group(g, "v1") for g in dict.fromkeys(groups)],
    }


def api_group(name: str) -> Obj | None:
    if not any(r.group == name for r in RESOURCES):
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, "v1")}


_SUB_VERBS = {
    "status": ["get", "patch", "update"],
    "scale": ["get", "patch", "update"],
    "binding": ["create"],
    "eviction": ["create"],
    "log": ["get"],
    "exec": ["create", "get"],
    "portforward": ["create", "get"],
    "finalize": ["update"],
    "token": ["create"],
}
_SUB_KIND = {
    "binding": "Binding",
    "eviction": "Eviction",
    "log": "Pod",
    "exec": "PodExecOptions",
    "portforward": "PodPortForwardOptions",
    "scale": "Scale",
    "token": "TokenRequest",
}


def resource_list(group_version: str) -> Obj | None:
    resources = group_versions().get(group_version)
    if resources is None:
        return None
    out: list[Obj] = []
    for r in resources:
        entry: Obj = {
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": list(r.verbs),
        }
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        if r.categories:
            entry["categories"] = list(r.categories)
        out.append(entry)
        for sub in r.subresources:
            sub_entry: Obj = {
                "name": f"{r.plural}/{sub}",
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": _SUB_KIND.get(sub, r.kind),
                "verbs": _SUB_VERBS.get(sub, ["get"]),
            }
            if sub == "scale":
                sub_entry.update(group="autoscaling", version="v1")
            out.append(sub_entry)
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": out}


# ---- OpenAPI v2 --------------------------------------------------------------------------------------------
def _convert(node: Any, ref_prefix: str, nullable: bool) -> Any:
    """JSON-schema definitions as OpenAPI: refs under ``ref_prefix``; ``["x", "null"]`` types become ``x``
    (plus ``nullable`` in OpenAPI 3; OpenAPI 2 has no way to say it)."""
    if isinstance(node, list):
        return [_convert(v, ref_prefix, nullable) for v in node]
    if not isinstance(node, dict):
        return node
    out: Obj = {}
    for k, v in node.items():
        if k == "$ref" and isinstance(v, str):
            out[k] = ref_prefix + re.sub(r"^.*#/\$defs/", "", v)
        elif k == "type" and isinstance(v, list):
            types = [t for t in v if t != "null"]
            if len(types) == 1:
                out[k] = types[0]
            if nullable and "null" in v:
                out["nullable"] = True
        elif (
            not nullable
            and k in ("oneOf", "anyOf")
            and isinstance(v, list)
            and len(v) == 2
            and {"type": "null"} in v
        ):
            out.update(_convert(next(x for x in v if x != {"type": "null"}), ref_prefix, nullable))
        else:
            out[k] = _convert(v, ref_prefix, nullable)
    return out


@functools.lru_cache(maxsize=1)
def _definitions() -> Obj:
    from .schema import _ROOT

    return dict(json.loads(_ROOT.joinpath("_definitions.json").read_text())["$defs"])


_PATCH_PARAMS = [
    {"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
    for name in ("dryRun", "fieldManager", "fieldValidation", "force")
]


def _v3_paths(group_version: str) -> Obj:
    paths: Obj = {}
    prefix = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
    for r in group_versions()[group_version]:
        if "patch" not in r.verbs:
            continue
        scope = f"{prefix}/namespaces/{{namespace}}" if r.namespaced else prefix
        gvk = {"group": r.group, "version": r.version, "kind": r.kind}
        paths[f"{scope}/{r.plural}/{{name}}"] = {
            "patch": {
                "operationId": f"patch{r.kind}",
                "parameters": _PATCH_PARAMS,
                "responses": {"200": {"description": "OK"}},
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": gvk,
            }
        }
    return paths


@functools.lru_cache(maxsize=16)
def openapi_v3_bytes(group_version: str) -> bytes | None:
    """OpenAPI 3 for one group/version: PATCH paths (with fieldValidation) and all 1.30 schemas."""
    if group_version not in group_versions():
        return None
    doc = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": OPENAPI_VERSION},
        "paths": _v3_paths(group_version),
        "components": {"schemas": _convert(_definitions(), "#/components/schemas/", nullable=True)},
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def openapi_v3_root() -> Obj:
    """The /openapi/v3 index kubectl reads first; hashes let clients cache per group/version."""
    import hashlib

    paths: Obj = {}
    for gv in group_versions():
        key = "api/v1" if gv == "v1" else f"apis/{gv}"
        digest = hashlib.sha512(openapi_v3_bytes(gv) or b"").hexdigest()[:128].upper()
        paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
    return {"paths": paths}


@functools.lru_cache(maxsize=1)
def openapi_v2_bytes() -> bytes:
    """Swagger 2.0 with the 1.30 definitions (no paths: kubectl uses definitions only)."""
    defs = _definitions()
    doc = {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": OPENAPI_VERSION},
        "paths": {},
        "definitions": _convert(defs, "#/definitions/", nullable=False),
    }
    return json.dumps(doc, separators=(",", ":")).encode()
