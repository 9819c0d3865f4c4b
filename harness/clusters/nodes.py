"""Is every node back after a restart? Pure probes over Node objects, shared by the backends.

"Ready" alone does not say a node came back: right after a restart command returns, the Node still
carries the Ready condition its kubelet posted before going down, until the node lifecycle controller
marks it Unknown some 40 s later. A kubelet that starts posts its status at once, so a Ready
condition whose heartbeat differs from the one seen before the restart is the kubelet's new report.
"""

from __future__ import annotations

from typing import Any

Heartbeats = dict[str, str | None]


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """The object's status condition of type ``kind`` (a Node's or a Pod's "Ready"), if it has one."""
    for found in (obj.get("status") or {}).get("conditions") or []:
        if found.get("type") == kind:
            return dict(found)
    return None


def ready_heartbeats(nodes: list[dict[str, Any]]) -> Heartbeats:
    """Each node's Ready heartbeat, to compare with after a restart."""
    return {
        node["metadata"]["name"]: (condition(node, "Ready") or {}).get("lastHeartbeatTime") for node in nodes
    }


def nodes_problem(nodes: list[dict[str, Any]], before: Heartbeats | None = None) -> str | None:
    """None once there are nodes, all Ready, each (of those in ``before``) with a heartbeat newer than
    it had there; else what is still wrong, for a wait's "last seen"."""
    if not nodes:
        return "no nodes registered"
    waiting = []
    for node in nodes:
        name = node["metadata"]["name"]
        ready = condition(node, "Ready")
        if ready is None or ready.get("status") != "True":
            waiting.append(f"{name} not Ready ({(ready or {}).get('message', 'no Ready condition')})")
        elif before is not None and name in before and ready.get("lastHeartbeatTime") == before[name]:
            waiting.append(f"{name}: kubelet has not reported since the restart")
    return "; ".join(waiting) or None
