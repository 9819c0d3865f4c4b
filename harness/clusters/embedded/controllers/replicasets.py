"""The ReplicaSet controller: keep ``spec.replicas`` active pods, report their readiness in status.

Why: the hub and proxy run as Deployments; a test that deletes the hub pod must see it replaced by a new pod
named ``<rs>-<random>`` with the ReplicaSet as its controller, exactly as kube-controller-manager does.
Creations and deletions are tracked as *expectations* so that a reconcile running before the pod informer
caught up never creates (or deletes) twice.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

from ..apiserver.errors import ApiError
from .base import Controller
from .informer import Informer, InformerFactory
from .objects import (
    Key,
    Obj,
    controller_ref,
    is_controlled_by,
    is_terminating,
    now,
    owner_reference,
    pod_is_active,
    pod_is_available,
    pod_is_ready,
    set_condition,
)
from .recorder import emit
from .rollout import replicas

COMPONENT = "replicaset-controller"
#: a pod create/delete not observed within this many seconds is assumed lost (client-go uses 5 minutes)
EXPECTATION_TIMEOUT = 30.0
#: at most this many pods are created or deleted per reconcile (burstReplicas)
BURST = 500


@dataclass
class Expectations:
    adds: set[str] = field(default_factory=set)
    deletes: set[str] = field(default_factory=set)
    deadline: float = 0.0

    def satisfied(self) -> bool:
        return (not self.adds and not self.deletes) or time.monotonic() > self.deadline


def pod_from_template(rs: Obj) -> Obj:
    """The pod a ReplicaSet creates: generateName ``<rs>-``, template labels/annotations, controller ref."""
    template = copy.deepcopy(rs.get("spec", {}).get("template") or {})
    tmeta = template.get("metadata") or {}
    meta: dict[str, Any] = {
        "generateName": f"{rs['metadata']['name']}-",
        "namespace": rs["metadata"]["namespace"],
    }
    if tmeta.get("labels"):
        meta["labels"] = tmeta["labels"]
    if tmeta.get("annotations"):
        meta["annotations"] = tmeta["annotations"]
    if tmeta.get("finalizers"):
        meta["finalizers"] = tmeta["finalizers"]
    meta["ownerReferences"] = [owner_reference(rs)]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": template.get("spec") or {}}


_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def deletion_order(pods: list[Obj]) -> list[Obj]:
    """controller.ActivePods ordering: the cheapest pods to lose come first.

    Unscheduled before scheduled, Pending before Unknown before Running, not-ready before ready, and the
    most recently created first.
    """

    def rank(p: Obj) -> tuple[int, int, int]:
        return (
            1 if p.get("spec", {}).get("nodeName") else 0,
            _PHASE_RANK.get(p.get("status", {}).get("phase", "Pending"), 0),
            1 if pod_is_ready(p) else 0,
        )

    newest_first = sorted(pods, key=lambda p: p["metadata"].get("creationTimestamp") or "", reverse=True)
    return sorted(newest_first, key=rank)


def replicaset_status(rs: Obj, pods: list[Obj]) -> dict[str, Any]:
    """calculateStatus: counts over the active pods the ReplicaSet controls."""
    active = [p for p in pods if pod_is_active(p)]
    tlabels = (rs.get("spec", {}).get("template", {}).get("metadata") or {}).get("labels") or {}
    min_ready = int(rs.get("spec", {}).get("minReadySeconds") or 0)
    labeled = sum(
        1 for p in active if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in tlabels.items())
    )
    counts = {
        "fullyLabeledReplicas": labeled,
        "readyReplicas": sum(1 for p in active if pod_is_ready(p)),
        "availableReplicas": sum(1 for p in active if pod_is_available(p, min_ready)),
        "observedGeneration": rs["metadata"].get("generation", 1),
    }
    # replicas is always serialised; the other counts are omitempty
    return {"replicas": len(active), **{k: v for k, v in counts.items() if v}}


class ReplicaSetController(Controller):
    name = COMPONENT

    def __init__(self, registry: Any, informers: InformerFactory, config: Any) -> None:
        super().__init__(registry, informers, config)
        self.replicasets = self.watch("replicasets")
        self.pods = self.watch("pods")
        self.replicasets.add_handler(self.enqueue_on_event)
        self.pods.add_handler(self._on_pod)
        self.expectations: dict[Key, Expectations] = {}

    def primary(self) -> Informer:
        return self.replicasets

    def _on_pod(self, event_type: str, pod: Obj, old: Obj | None) -> None:
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return
        key = (pod["metadata"].get("namespace", ""), ref["name"])
        exp = self.expectations.get(key)
        if exp is not None:
            name = pod["metadata"]["name"]
            if event_type == "ADDED":
                exp.adds.discard(name)
            if event_type == "DELETED" or is_terminating(pod):
                exp.deletes.discard(name)
        self.queue.add(key)

    async def reconcile(self, key: Key) -> float | None:
        rs = self.replicasets.get(*key)
        if rs is None:
            self.expectations.pop(key, None)
            return None
        pods = [p for p in self.pods.list(key[0]) if is_controlled_by(p, rs)]
        exp = self.expectations.get(key)
        failure: str | None = None
        again: float | None = None
        if exp is not None and not exp.satisfied():
            again = max(exp.deadline - time.monotonic(), 0.0) + 0.1  # in case the watch never shows them
        elif not is_terminating(rs):
            failure = await self._manage(key, rs, [p for p in pods if pod_is_active(p)])
        await self._update_status(rs, pods, failure)
        min_ready = int(rs.get("spec", {}).get("minReadySeconds") or 0)
        if min_ready and any(pod_is_ready(p) and not pod_is_available(p, min_ready) for p in pods):
            again = min(again or min_ready, float(min_ready))  # look again when they become available
        return again

    async def _manage(self, key: Key, rs: Obj, active: list[Obj]) -> str | None:
        diff = len(active) - replicas(rs)
        exp = Expectations(deadline=time.monotonic() + EXPECTATION_TIMEOUT)
        self.expectations[key] = exp
        ns = key[0]
        if diff < 0:
            for _ in range(min(-diff, BURST)):
                try:
                    pod = await self.registry.create("pods", ns, pod_from_template(rs))
                except ApiError as e:
                    msg = str(e.status.get("message", e))
                    await emit(
                        self.registry,
                        rs,
                        "FailedCreate",
                        f"Error creating: {msg}",
                        component=COMPONENT,
                        type="Warning",
                    )
                    return msg
                name = pod["metadata"]["name"]
                if self.pods.get(ns, name) is None:
                    exp.adds.add(name)
                await emit(self.registry, rs, "SuccessfulCreate", f"Created pod: {name}", component=COMPONENT)
        elif diff > 0:
            for pod in deletion_order(active)[: min(diff, BURST)]:
                name = pod["metadata"]["name"]
                try:
                    await self.registry.delete("pods", ns, name)
                except ApiError as e:
                    if e.code == 404:
                        continue
                    await emit(
                        self.registry,
                        rs,
                        "FailedDelete",
                        f"Error deleting: {e}",
                        component=COMPONENT,
                        type="Warning",
                    )
                    raise
                cached = self.pods.get(ns, name)
                if cached is not None and not is_terminating(cached):
                    exp.deletes.add(name)
                await emit(self.registry, rs, "SuccessfulDelete", f"Deleted pod: {name}", component=COMPONENT)
        return None

    async def _update_status(self, rs: Obj, pods: list[Obj], failure: str | None) -> None:
        status = replicaset_status(rs, pods)
        conditions = list(rs.get("status", {}).get("conditions") or [])
        if failure is not None:
            conditions = set_condition(
                conditions,
                {
                    "type": "ReplicaFailure",
                    "status": "True",
                    "lastTransitionTime": now(),
                    "reason": "FailedCreate",
                    "message": failure,
                },
            )
        elif conditions:
            conditions = [c for c in conditions if c.get("type") != "ReplicaFailure"]
        if conditions:
            status["conditions"] = conditions
        if status == rs.get("status"):
            return
        new = copy.deepcopy(rs)
        new["status"] = status
        await self.registry.update("replicasets", rs["metadata"]["namespace"], new, subresource="status")
