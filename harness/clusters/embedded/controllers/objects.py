"""Small pure helpers over API objects (plain dicts) shared by the controllers.

Why a module: keys, finalizers, owner references, selectors and pod readiness are read the same way by every
controller, and the real semantics (e.g. a pod being "active") must not drift between them.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from ..apiserver.selectors import labels_match, selector_from_match

Key = tuple[str, str]
Obj = dict[str, Any]


def key_of(obj: Obj) -> Key:
    """(namespace or "", name) of an object."""
    meta = obj.get("metadata", {})
    return (meta.get("namespace") or "", meta["name"])


def now() -> str:
    """The current time as the API serialises metav1.Time (RFC 3339, seconds, UTC)."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str | None) -> _dt.datetime | None:
    if not value:
        return None
    return _dt.datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=_dt.timezone.utc)


def meta(obj: Obj) -> dict[str, Any]:
    return obj.setdefault("metadata", {})


def is_terminating(obj: Obj) -> bool:
    return bool(obj.get("metadata", {}).get("deletionTimestamp"))


def has_finalizer(obj: Obj, name: str) -> bool:
    return name in (obj.get("metadata", {}).get("finalizers") or [])


def without_finalizer(obj: Obj, name: str) -> list[str]:
    return [f for f in (obj.get("metadata", {}).get("finalizers") or []) if f != name]


def uid(obj: Obj) -> str:
    return str(obj.get("metadata", {}).get("uid", ""))


def owner_refs(obj: Obj) -> list[dict[str, Any]]:
    return list(obj.get("metadata", {}).get("ownerReferences") or [])


def controller_ref(obj: Obj) -> dict[str, Any] | None:
    for ref in owner_refs(obj):
        if ref.get("controller"):
            return ref
    return None


def is_controlled_by(obj: Obj, owner: Obj) -> bool:
    ref = controller_ref(obj)
    return ref is not None and ref.get("uid") == uid(owner)


def owner_reference(owner: Obj, *, controller: bool = True, block: bool = True) -> dict[str, Any]:
    """An ownerReference to ``owner`` as controllers set it (controller=true, blockOwnerDeletion=true)."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": uid(owner),
        "controller": controller,
        "blockOwnerDeletion": block,
    }


def object_reference(obj: Obj) -> dict[str, Any]:
    """A targetRef / involvedObject style reference."""
    m = obj.get("metadata", {})
    ref: dict[str, Any] = {"kind": obj.get("kind", "")}
    if m.get("namespace"):
        ref["namespace"] = m["namespace"]
    ref["name"] = m.get("name", "")
    ref["uid"] = m.get("uid", "")
    if obj.get("apiVersion"):
        ref["apiVersion"] = obj["apiVersion"]
    if m.get("resourceVersion"):
        ref["resourceVersion"] = m["resourceVersion"]
    return ref


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str] | None) -> bool:
    """metav1.LabelSelector semantics: an empty selector matches everything, None matches nothing."""
    if selector is None:
        return False
    return labels_match(selector_from_match(selector), {"metadata": {"labels": labels or {}}})


def map_selector_matches(selector: dict[str, str] | None, labels: dict[str, str] | None) -> bool:
    """A Service-style ``{k: v}`` selector; empty/None selects nothing (as the endpoints controller)."""
    if not selector:
        return False
    labels = labels or {}
    return all(labels.get(k) == v for k, v in selector.items())


def pod_condition(pod: Obj, ctype: str) -> dict[str, Any] | None:
    for c in pod.get("status", {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def pod_is_ready(pod: Obj) -> bool:
    c = pod_condition(pod, "Ready")
    return c is not None and c.get("status") == "True"


def pod_is_terminated(pod: Obj) -> bool:
    return pod.get("status", {}).get("phase") in ("Succeeded", "Failed")


def pod_is_active(pod: Obj) -> bool:
    """controller.IsPodActive: not terminated and not being deleted."""
    return not pod_is_terminated(pod) and not is_terminating(pod)


def pod_is_available(pod: Obj, min_ready_seconds: int, at: _dt.datetime | None = None) -> bool:
    """podutil.IsPodAvailable: Ready for at least ``min_ready_seconds``."""
    c = pod_condition(pod, "Ready")
    if c is None or c.get("status") != "True":
        return False
    if min_ready_seconds <= 0:
        return True
    since = parse_time(c.get("lastTransitionTime"))
    at = at or _dt.datetime.now(_dt.timezone.utc)
    return since is not None and (at - since).total_seconds() >= min_ready_seconds


def set_condition(conditions: list[dict[str, Any]], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Replace the condition of ``new['type']``, keeping lastTransitionTime when the status is unchanged."""
    out = []
    for c in conditions:
        if c.get("type") == new["type"]:
            if c.get("status") == new.get("status") and "lastTransitionTime" in c:
                new = {**new, "lastTransitionTime": c["lastTransitionTime"]}
            continue
        out.append(c)
    out.append(new)
    return out
