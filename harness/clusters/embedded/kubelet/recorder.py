"""Fire-and-forget Events from the kubelet and the scheduler, through the API side's ``record_event``.

Like a real EventRecorder, a failed Event write is logged and dropped: it never blocks pod work.
"""

from __future__ import annotations

import logging
from typing import Any

from ..apiserver.events import record_event
from .api import Obj, RegistryLike

log = logging.getLogger(__name__)
#: source.host of kubelet events (the node name), set by the Kubelet at start
NODE_NAME = {"value": "embedded-node"}


async def emit(
    registry: RegistryLike,
    involved: Obj,
    reason: str,
    message: str,
    *,
    type: str = "Normal",
    component: str = "kubelet",
    field_path: str | None = None,
) -> None:
    host = NODE_NAME["value"] if component == "kubelet" else None
    target: Any = registry  # the real Registry; fakes in unit tests quack alike
    try:
        await record_event(
            target,
            {"apiVersion": "v1", "kind": "Pod", **involved},
            reason,
            message,
            type=type,
            component=component,
            field_path=field_path,
            host=host,
        )
    except Exception as exc:
        log.debug("event %s on %s dropped: %s", reason, involved.get("metadata", {}).get("name"), exc)


def container_field_path(pod: Obj, name: str) -> str:
    """``involvedObject.fieldPath`` of an Event about container ``name``: ``spec.containers{name}`` or
    ``spec.initContainers{name}`` (app containers are looked up first), as the kubelet's container refs."""
    spec = pod.get("spec") or {}
    for field in ("containers", "initContainers"):
        if any(c.get("name") == name for c in spec.get(field) or []):
            return f"spec.{field}{{{name}}}"
    return f"implicitly required container {name}"
