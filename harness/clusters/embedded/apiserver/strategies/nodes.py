"""Nodes (pkg/registry/core/node): the kubelet registers its Node with a status (kept on create), and
``kubectl get nodes`` columns.
"""

from __future__ import annotations

from typing import Any

from ..resource import RW, Resource
from ..selectors import META_FIELDS, field_getter
from ..strategy import Strategy
from ..tables import age, none_if_empty

Obj = dict[str, Any]

NODES = Resource("nodes", "node", "Node", "", "v1", False, ("no",), RW, ("status",))


class NodeStrategy(Strategy):
    field_labels = {**META_FIELDS, "spec.unschedulable": field_getter("spec", "unschedulable")}
    columns = (("Status", "string", 0), ("Roles", "string", 0), ("Age", "string", 0),
               ("Version", "string", 0), ("Internal-IP", "string", 1), ("External-IP", "string", 1),
               ("OS-Image", "string", 1), ("Kernel-Version", "string", 1),
               ("Container-Runtime", "string", 1))  # fmt: skip

    def row(self, o: Obj) -> list[Any]:
        status = o.get("status") or {}
        ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
        state = "Ready" if ready and ready.get("status") == "True" else "NotReady"
        if (o.get("spec") or {}).get("unschedulable"):
            state += ",SchedulingDisabled"
        info = status.get("nodeInfo") or {}
        addr = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
        labels = (o.get("metadata") or {}).get("labels") or {}
        roles = ",".join(
            sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
        )
        return [state, none_if_empty(roles), age(o), info.get("kubeletVersion", ""),
                none_if_empty(addr.get("InternalIP")), none_if_empty(addr.get("ExternalIP")),
                info.get("osImage", ""), info.get("kernelVersion", ""),
                info.get("containerRuntimeVersion", "")]  # fmt: skip


STRATEGIES = (NodeStrategy(NODES),)
