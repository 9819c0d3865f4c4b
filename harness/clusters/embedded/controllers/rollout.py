"""Pure rollout arithmetic of the deployment controller (k8s.io/kubernetes/pkg/controller/deployment/util).

Why separate: these numbers (pod-template-hash, surge/unavailable fenceposts, how far to scale which
ReplicaSet) decide what a client sees during a hub upgrade; they are pure and unit-tested on their own.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

from .objects import Obj

POD_TEMPLATE_HASH = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"

_SAFE_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


def _fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def safe_encode(s: str) -> str:
    """rand.SafeEncodeString: map each byte onto consonants and digits so no words (or bad words) appear."""
    return "".join(_SAFE_ALPHANUMS[b % len(_SAFE_ALPHANUMS)] for b in s.encode())


def pod_template_hash(template: Obj, collision_count: int | None = None) -> str:
    """controller.ComputeHash: FNV-32a over the template (canonical JSON here) and the collision count."""
    data = json.dumps(template_without_hash(template), sort_keys=True, separators=(",", ":")).encode()
    if collision_count is not None:
        data += collision_count.to_bytes(4, "little")
    return safe_encode(str(_fnv32a(data)))


def template_without_hash(template: Obj) -> Obj:
    t = copy.deepcopy(template)
    labels = t.get("metadata", {}).get("labels")
    if labels is not None:
        labels.pop(POD_TEMPLATE_HASH, None)
    return t


def templates_equal(a: Obj, b: Obj) -> bool:
    """EqualIgnoreHash: two pod templates are the same rollout when they differ only in the hash label."""
    return template_without_hash(a) == template_without_hash(b)


def int_or_percent(value: Any, total: int, *, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        scaled = int(value[:-1]) * total / 100
        return math.ceil(scaled) if round_up else math.floor(scaled)
    return int(value)


def replicas(obj: Obj) -> int:
    r = obj.get("spec", {}).get("replicas")
    return 1 if r is None else int(r)


def resolve_fenceposts(deployment: Obj) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) as absolute numbers; Recreate has neither."""
    strategy = deployment.get("spec", {}).get("strategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return 0, 0
    ru = strategy.get("rollingUpdate") or {}
    desired = replicas(deployment)
    surge = int_or_percent(ru.get("maxSurge", "25%"), desired, round_up=True)
    unavailable = int_or_percent(ru.get("maxUnavailable", "25%"), desired, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, min(unavailable, desired)


def new_rs_new_replicas(deployment: Obj, all_rs_replicas: int, new_rs_replicas: int) -> int:
    """NewRSNewReplicas for RollingUpdate: scale the new RS up without exceeding replicas + maxSurge."""
    desired = replicas(deployment)
    surge, _ = resolve_fenceposts(deployment)
    max_total = desired + surge
    if all_rs_replicas >= max_total:
        return new_rs_replicas
    scale_up = min(max_total - all_rs_replicas, desired - new_rs_replicas)
    return new_rs_replicas + max(scale_up, 0)


def rs_replicas(rs: Obj) -> int:
    return int(rs.get("spec", {}).get("replicas") or 0)


def rs_available(rs: Obj) -> int:
    return int(rs.get("status", {}).get("availableReplicas") or 0)


def old_scale_downs(deployment: Obj, new_rs: Obj | None, old_rss: list[Obj]) -> dict[str, int]:
    """reconcileOldReplicaSets: new spec.replicas per old RS name, never dropping below minAvailable.

    First unhealthy old replicas are removed (they do not count towards availability anyway), then available
    ones, oldest ReplicaSet first, as long as the total stays >= replicas - maxUnavailable.
    """
    desired = replicas(deployment)
    _, max_unavailable = resolve_fenceposts(deployment)
    min_available = desired - max_unavailable
    all_rss = [*old_rss, *([new_rs] if new_rs else [])]
    all_pods = sum(rs_replicas(rs) for rs in all_rss)
    new_unavailable = (rs_replicas(new_rs) - rs_available(new_rs)) if new_rs else 0
    max_scaled_down = all_pods - min_available - new_unavailable
    target = {rs["metadata"]["name"]: rs_replicas(rs) for rs in old_rss}
    if max_scaled_down <= 0:
        return target
    ordered = sorted(
        old_rss, key=lambda r: (r["metadata"].get("creationTimestamp") or "", r["metadata"]["name"])
    )
    for rs in ordered:  # cleanupUnhealthyReplicas
        if max_scaled_down <= 0:
            break
        name = rs["metadata"]["name"]
        unhealthy = target[name] - rs_available(rs)
        if unhealthy <= 0:
            continue
        step = min(max_scaled_down, unhealthy)
        target[name] -= step
        max_scaled_down -= step
    available = sum(rs_available(rs) for rs in all_rss)
    budget = available - min_available
    for rs in ordered:  # scaleDownOldReplicaSetsForRollingUpdate
        if budget <= 0:
            break
        name = rs["metadata"]["name"]
        step = min(target[name], budget)
        target[name] -= step
        budget -= step
    return target


def next_revision(rss: list[Obj]) -> int:
    revs = [int((rs["metadata"].get("annotations") or {}).get(REVISION, "0") or 0) for rs in rss]
    return max(revs, default=0) + 1
