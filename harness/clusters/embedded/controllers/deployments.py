"""The Deployment controller: template → ReplicaSet (by pod-template-hash), Recreate/RollingUpdate, status.

Why: z2jh-style hubs run as Deployments with the Recreate strategy (the hub's sqlite PVC is ReadWriteOnce),
and scenarios restart or upgrade the hub; clients then watch ReplicaSets, revisions, status counts and the
Available/Progressing conditions as kube-controller-manager writes them.
"""

from __future__ import annotations

import copy
from typing import Any

from ..apiserver.errors import ApiError
from .base import Controller, delete_if_present
from .deployment_status import deployment_status, status_differs
from .informer import Informer, InformerFactory
from .objects import (
    Key,
    Obj,
    controller_ref,
    is_controlled_by,
    is_terminating,
    owner_reference,
    pod_is_terminated,
    uid,
)
from .recorder import emit
from .rollout import (
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    POD_TEMPLATE_HASH,
    REVISION,
    new_rs_new_replicas,
    next_revision,
    old_scale_downs,
    pod_template_hash,
    replicas,
    resolve_fenceposts,
    rs_replicas,
    templates_equal,
)

COMPONENT = "deployment-controller"
_SKIP_ANNOTATIONS = {
    REVISION,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "kubectl.kubernetes.io/last-applied-configuration",
}


def new_replicaset(d: Obj, count: int, revision: int) -> Obj:
    """The ReplicaSet for the deployment's current template (name ``<deployment>-<pod-template-hash>``)."""
    collision = d.get("status", {}).get("collisionCount")
    template = copy.deepcopy(d["spec"]["template"])
    h = pod_template_hash(template, collision)
    template.setdefault("metadata", {}).setdefault("labels", {})[POD_TEMPLATE_HASH] = h
    selector = copy.deepcopy(d["spec"].get("selector") or {})
    selector.setdefault("matchLabels", {})[POD_TEMPLATE_HASH] = h
    surge, _ = resolve_fenceposts(d)
    ann = {k: v for k, v in (d["metadata"].get("annotations") or {}).items() if k not in _SKIP_ANNOTATIONS}
    ann.update(
        {
            DESIRED_REPLICAS: str(replicas(d)),
            MAX_REPLICAS: str(replicas(d) + surge),
            REVISION: str(revision),
        }
    )
    spec: dict[str, Any] = {"replicas": count, "selector": selector, "template": template}
    if d["spec"].get("minReadySeconds"):
        spec["minReadySeconds"] = d["spec"]["minReadySeconds"]
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{d['metadata']['name']}-{h}",
            "namespace": d["metadata"]["namespace"],
            "labels": dict(template["metadata"]["labels"]),
            "annotations": ann,
            "ownerReferences": [owner_reference(d)],
        },
        "spec": spec,
        # what the real apiserver stores on create (ReplicaSetStatus.replicas is not omitempty)
        "status": {"replicas": 0},
    }


class DeploymentController(Controller):
    name = COMPONENT

    def __init__(self, registry: Any, informers: InformerFactory, config: Any) -> None:
        super().__init__(registry, informers, config)
        self.deployments = self.watch("deployments")
        self.replicasets = self.watch("replicasets")
        self.pods = self.watch("pods")
        self.deployments.add_handler(self.enqueue_on_event)
        self.replicasets.add_handler(self._on_replicaset)
        self.pods.add_handler(self._on_pod)

    def primary(self) -> Informer:
        return self.deployments

    def _on_replicaset(self, event_type: str, rs: Obj, old: Obj | None) -> None:
        ref = controller_ref(rs)
        if ref is not None and ref.get("kind") == "Deployment":
            self.queue.add((rs["metadata"].get("namespace", ""), ref["name"]))

    def _on_pod(self, event_type: str, pod: Obj, old: Obj | None) -> None:
        """Recreate waits for old pods to be gone: wake the deployment when one goes."""
        if event_type != "DELETED" and not pod_is_terminated(pod):
            return
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return
        rs = self.replicasets.get(pod["metadata"].get("namespace"), ref["name"])
        if rs is not None:
            self._on_replicaset("MODIFIED", rs, None)

    async def reconcile(self, key: Key) -> float | None:
        d = self.deployments.get(*key)
        if d is None or is_terminating(d):
            return None
        rss = [rs for rs in self.replicasets.list(key[0]) if is_controlled_by(rs, d)]
        matching = sorted(
            (rs for rs in rss if templates_equal(rs["spec"].get("template") or {}, d["spec"]["template"])),
            key=lambda rs: rs["metadata"].get("creationTimestamp") or "",
        )
        new_rs = matching[0] if matching else None
        old_rss = [rs for rs in rss if rs is not new_rs]
        created = False
        if d["spec"].get("paused"):
            pass
        elif (d["spec"].get("strategy") or {}).get("type") == "Recreate":
            new_rs, created = await self._recreate(d, new_rs, old_rss)
        else:
            new_rs, created = await self._rolling(d, new_rs, old_rss)
        if new_rs is not None:
            d = await self._sync_revision(d, new_rs)
            await self._cleanup(d, old_rss)
        all_rss = [self.replicasets.get(key[0], rs["metadata"]["name"]) or rs for rs in old_rss]
        if new_rs is not None:
            all_rss.append(self.replicasets.get(key[0], new_rs["metadata"]["name"]) or new_rs)
        await self._update_status(d, new_rs, all_rss, created)
        return self._requeue_for_deadline(d)

    def _requeue_for_deadline(self, d: Obj) -> float | None:
        deadline = d.get("spec", {}).get("progressDeadlineSeconds")
        return float(deadline) + 1 if deadline else None

    async def _recreate(self, d: Obj, new_rs: Obj | None, old_rss: list[Obj]) -> tuple[Obj | None, bool]:
        active_old = [rs for rs in old_rss if rs_replicas(rs) > 0]
        for rs in active_old:
            await self._scale(d, rs, 0)
        if active_old or self._old_pods_running(d, old_rss):
            return new_rs, False
        created = False
        if new_rs is None:
            new_rs, created = await self._create_new_rs(d, old_rss, replicas(d))
        if new_rs is not None and rs_replicas(new_rs) != replicas(d):
            new_rs = await self._scale(d, new_rs, replicas(d))
        return new_rs, created

    def _old_pods_running(self, d: Obj, old_rss: list[Obj]) -> bool:
        """oldPodsRunning: old ReplicaSets still report replicas, or one of their pods has not terminated."""
        if any(int(rs.get("status", {}).get("replicas") or 0) > 0 for rs in old_rss):
            return True
        old_uids = {uid(rs) for rs in old_rss}
        for pod in self.pods.list(d["metadata"]["namespace"]):
            ref = controller_ref(pod)
            if ref is not None and ref.get("uid") in old_uids and not pod_is_terminated(pod):
                return True
        return False

    async def _rolling(self, d: Obj, new_rs: Obj | None, old_rss: list[Obj]) -> tuple[Obj | None, bool]:
        created = False
        all_replicas = sum(rs_replicas(rs) for rs in old_rss)
        if new_rs is None:
            count = new_rs_new_replicas(d, all_replicas, 0) if old_rss else replicas(d)
            new_rs, created = await self._create_new_rs(d, old_rss, count)
        else:
            current = rs_replicas(new_rs)
            want = min(new_rs_new_replicas(d, all_replicas + current, current), replicas(d))
            if current > replicas(d):
                want = replicas(d)
            if want != current:
                new_rs = await self._scale(d, new_rs, want)
        if new_rs is None:
            return None, created
        for rs in old_rss:
            target = old_scale_downs(d, new_rs, old_rss)[rs["metadata"]["name"]]
            if target != rs_replicas(rs):
                await self._scale(d, rs, target)
                break  # one step at a time; the next reconcile sees the new counts
        return new_rs, created

    async def _create_new_rs(self, d: Obj, old_rss: list[Obj], count: int) -> tuple[Obj | None, bool]:
        rs = new_replicaset(d, count, next_revision(old_rss))
        ns = d["metadata"]["namespace"]
        try:
            created = dict(await self.registry.create("replicasets", ns, rs))
        except ApiError as e:
            if e.code != 409:
                raise
            existing = await self.registry.get("replicasets", ns, rs["metadata"]["name"])
            if is_controlled_by(existing, d) and templates_equal(
                existing["spec"]["template"], d["spec"]["template"]
            ):
                return dict(existing), False
            new = copy.deepcopy(d)  # hash collision: bump collisionCount and try again with a new name
            new.setdefault("status", {})["collisionCount"] = int(new["status"].get("collisionCount") or 0) + 1
            await self.registry.update("deployments", ns, new, subresource="status")
            raise
        if count > 0:
            await emit(
                self.registry,
                d,
                "ScalingReplicaSet",
                f"Scaled up replica set {created['metadata']['name']} to {count}",
                component=COMPONENT,
            )
        return created, True

    async def _scale(self, d: Obj, rs: Obj, count: int) -> Obj:
        before = rs_replicas(rs)
        new = copy.deepcopy(rs)
        new["spec"]["replicas"] = count
        surge, _ = resolve_fenceposts(d)
        ann = new["metadata"].setdefault("annotations", {})
        ann[DESIRED_REPLICAS] = str(replicas(d))
        ann[MAX_REPLICAS] = str(replicas(d) + surge)
        updated = dict(await self.registry.update("replicasets", rs["metadata"]["namespace"], new))
        if count != before:
            direction = "up" if count > before else "down"
            await emit(
                self.registry,
                d,
                "ScalingReplicaSet",
                f"Scaled {direction} replica set {rs['metadata']['name']} to {count}",
                component=COMPONENT,
            )
        return updated

    async def _sync_revision(self, d: Obj, new_rs: Obj) -> Obj:
        rev = (new_rs["metadata"].get("annotations") or {}).get(REVISION)
        if not rev or (d["metadata"].get("annotations") or {}).get(REVISION) == rev:
            return d
        new = copy.deepcopy(d)
        new["metadata"].setdefault("annotations", {})[REVISION] = rev
        return dict(await self.registry.update("deployments", d["metadata"]["namespace"], new))

    async def _cleanup(self, d: Obj, old_rss: list[Obj]) -> None:
        """Delete drained old ReplicaSets beyond spec.revisionHistoryLimit (default 10), oldest first."""
        limit = d["spec"].get("revisionHistoryLimit")
        limit = 10 if limit is None else int(limit)
        drained = [
            rs
            for rs in old_rss
            if rs_replicas(rs) == 0 and not rs.get("status", {}).get("replicas") and not is_terminating(rs)
        ]
        excess = len(drained) - limit
        if excess <= 0:
            return
        drained.sort(key=lambda rs: int((rs["metadata"].get("annotations") or {}).get(REVISION, "0") or 0))
        for rs in drained[:excess]:
            await delete_if_present(
                self.registry, "replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"]
            )

    async def _update_status(self, d: Obj, new_rs: Obj | None, all_rss: list[Obj], created: bool) -> None:
        status = deployment_status(d, new_rs, all_rss, created)
        if not status_differs(status, d.get("status") or {}):
            return
        new = copy.deepcopy(d)
        new["status"] = status
        await self.registry.update("deployments", d["metadata"]["namespace"], new, subresource="status")
