"""core/v1 Events as client-go's event recorder writes them (what KubeSpawner's event reflector reads).

Repeats of the same (object, reason, message, source) within the process update ``count`` and
``lastTimestamp`` of the first Event instead of creating a new one, as the recorder's correlator does.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .errors import ApiError
from .meta import now

if TYPE_CHECKING:
    from .registry import Registry

Obj = dict[str, Any]

#: (namespace, involved uid, reason, message, component) -> event name
_SEEN: dict[tuple[str, str, str, str, str], str] = {}


def _involved(obj: Obj) -> Obj:
    meta = obj.get("metadata") or {}
    ref: Obj = {
        "kind": obj.get("kind", ""),
        "namespace": meta.get("namespace", ""),
        "name": meta.get("name", ""),
    }
    ref.update(uid=meta.get("uid", ""), apiVersion=obj.get("apiVersion", ""))
    ref["resourceVersion"] = meta.get("resourceVersion", "")
    if obj.get("fieldPath"):
        ref["fieldPath"] = obj["fieldPath"]
    return {k: v for k, v in ref.items() if v != "" or k in ("kind", "name")}


def _as_object(ref: Obj) -> Obj:
    """An ObjectReference ({kind, namespace, name, uid, apiVersion}) in the shape of an object."""
    return {
        "kind": ref.get("kind", ""),
        "apiVersion": ref.get("apiVersion", ""),
        "fieldPath": ref.get("fieldPath", ""),
        "metadata": {k: ref.get(k, "") for k in ("namespace", "name", "uid", "resourceVersion")},
    }


async def record_event(
    registry: Registry,
    involved: Obj,
    reason: str,
    message: str,
    *,
    type: str = "Normal",
    component: str,
    field_path: str | None = None,
    host: str | None = None,
) -> None:
    """Create (or bump) an Event about ``involved`` (a full object or an ObjectReference-like dict).

    ``field_path`` (e.g. ``spec.containers{notebook}``) goes into involvedObject.fieldPath as the kubelet's
    container events have it; ``host`` into source.host.
    """
    ref = _involved(involved if "metadata" in involved else _as_object(involved))
    if field_path:
        ref["fieldPath"] = field_path
    namespace = ref.get("namespace") or "default"
    key = (namespace, f"{ref.get('uid') or ref['name']}{field_path or ''}", reason, message, component)
    stamp = now()
    name = _SEEN.get(key)
    if name is not None:
        try:
            existing = await registry.get("events", namespace, name)
            existing["count"] = int(existing.get("count") or 1) + 1
            existing["lastTimestamp"] = stamp
            await registry.update("events", namespace, existing)
            return
        except ApiError:
            pass  # deleted meanwhile (or namespace gone): fall through and create
    name = f"{ref['name']}.{time.time_ns():x}"
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": namespace},
        "involvedObject": ref,
        "reason": reason,
        "message": message,
        "source": {"component": component, **({"host": host} if host else {})},
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
        "type": type,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": "",
    }
    try:
        await registry.create("events", namespace, event)
    except ApiError as e:
        if e.code in (403, 404):
            return  # namespace terminating or gone: real recorders drop the event too
        raise
    _SEEN[key] = name
