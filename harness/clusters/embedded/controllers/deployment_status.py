"""Deployment status as kube-controller-manager computes it: replica counts summed over the
ReplicaSets, and the Available/Progressing conditions (NewReplicaSetAvailable, ReplicaSetUpdated,
ProgressDeadlineExceeded) with their transition times.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from .objects import Obj, now, parse_time
from .rollout import replicas, resolve_fenceposts


def new_condition(ctype: str, status: str, reason: str, message: str) -> dict[str, Any]:
    t = now()
    return {
        "type": ctype,
        "status": status,
        "lastUpdateTime": t,
        "lastTransitionTime": t,
        "reason": reason,
        "message": message,
    }


def _get_condition(conditions: list[dict[str, Any]], ctype: str) -> dict[str, Any] | None:
    return next((c for c in conditions if c.get("type") == ctype), None)


def set_deployment_condition(conditions: list[dict[str, Any]], cond: dict[str, Any]) -> list[dict[str, Any]]:
    """SetDeploymentCondition: unchanged status+reason is a no-op; same status keeps lastTransitionTime."""
    current = _get_condition(conditions, cond["type"])
    if (
        current is not None
        and current.get("status") == cond["status"]
        and current.get("reason") == cond["reason"]
    ):
        return conditions
    if current is not None and current.get("status") == cond["status"]:
        cond = {**cond, "lastTransitionTime": current.get("lastTransitionTime", cond["lastTransitionTime"])}
    return [*(c for c in conditions if c.get("type") != cond["type"]), cond]


def deployment_complete(d: Obj, status: dict[str, Any]) -> bool:
    want = replicas(d)
    return (
        status.get("updatedReplicas", 0) == want
        and status.get("replicas", 0) == want
        and status.get("availableReplicas", 0) == want
        and status.get("observedGeneration", 0) >= d["metadata"].get("generation", 1)
    )


def deployment_progressing(old: dict[str, Any], new: dict[str, Any]) -> bool:
    def old_replicas(s: dict[str, Any]) -> int:
        return int(s.get("replicas", 0)) - int(s.get("updatedReplicas", 0))

    return (
        new.get("updatedReplicas", 0) > old.get("updatedReplicas", 0)
        or old_replicas(new) < old_replicas(old)
        or new.get("readyReplicas", 0) > old.get("readyReplicas", 0)
        or new.get("availableReplicas", 0) > old.get("availableReplicas", 0)
    )


def deployment_status(d: Obj, new_rs: Obj | None, all_rss: list[Obj], created: bool) -> dict[str, Any]:
    """calculateStatus + syncRolloutStatus: counts over all ReplicaSets, Available and Progressing."""
    old = d.get("status") or {}

    def total(field: str, rss: list[Obj]) -> int:
        return sum(int(rs.get("status", {}).get(field) or 0) for rs in rss)

    want = replicas(d)
    available = total("availableReplicas", all_rss)
    counts = {
        "observedGeneration": d["metadata"].get("generation", 1),
        "replicas": total("replicas", all_rss),
        "updatedReplicas": total("replicas", [new_rs] if new_rs else []),
        "readyReplicas": total("readyReplicas", all_rss),
        "availableReplicas": available,
        "unavailableReplicas": max(want - available, 0),
    }
    status: dict[str, Any] = {k: v for k, v in counts.items() if v}
    conditions = list(old.get("conditions") or [])
    _, max_unavailable = resolve_fenceposts(d)
    if available >= want - max_unavailable:
        cond = new_condition(
            "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability."
        )
    else:
        cond = new_condition(
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        )
    conditions = set_deployment_condition(conditions, cond)
    rs_name = new_rs["metadata"]["name"] if new_rs else ""
    if created:
        conditions = set_deployment_condition(
            conditions,
            new_condition(
                "Progressing", "True", "NewReplicaSetCreated", f'Created new replica set "{rs_name}"'
            ),
        )
    elif new_rs is not None and _get_condition(conditions, "Progressing") is None:
        conditions = set_deployment_condition(
            conditions,
            new_condition("Progressing", "True", "FoundNewReplicaSet", f'Found new replica set "{rs_name}"'),
        )
    conditions = _progress(d, old, status, conditions, rs_name)
    if conditions:
        status["conditions"] = conditions
    if old.get("collisionCount") is not None:
        status["collisionCount"] = old["collisionCount"]
    return status


def _progress(
    d: Obj, old: dict[str, Any], status: dict[str, Any], conditions: list[dict[str, Any]], rs_name: str
) -> list[dict[str, Any]]:
    current = _get_condition(conditions, "Progressing")
    complete = (
        status.get("replicas", 0) == status.get("updatedReplicas", 0)
        and current is not None
        and current.get("reason") == "NewReplicaSetAvailable"
    )
    if complete or not rs_name:
        return conditions
    if deployment_complete(d, status):
        return set_deployment_condition(
            conditions,
            new_condition(
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{rs_name}" has successfully progressed.',
            ),
        )
    if deployment_progressing(old, status):
        cond = new_condition(
            "Progressing", "True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.'
        )
        if current is not None and current.get("status") == "True":
            cond["lastTransitionTime"] = current.get("lastTransitionTime", cond["lastTransitionTime"])
        return [*(c for c in conditions if c.get("type") != "Progressing"), cond]
    deadline = d.get("spec", {}).get("progressDeadlineSeconds")
    last = parse_time(current.get("lastUpdateTime")) if current else None
    if (
        deadline is not None
        and last is not None
        and (_dt.datetime.now(_dt.timezone.utc) - last).total_seconds() > int(deadline)
    ):
        return set_deployment_condition(
            conditions,
            new_condition(
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                f'ReplicaSet "{rs_name}" has timed out progressing.',
            ),
        )
    return conditions


def status_differs(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Compare statuses ignoring condition timestamps that are rewritten on every computation."""

    def strip(s: dict[str, Any]) -> dict[str, Any]:
        conds = [
            {k: v for k, v in c.items() if k not in ("lastUpdateTime",)} for c in s.get("conditions") or []
        ]
        return {**s, "conditions": conds}

    return strip(a) != strip(b)
