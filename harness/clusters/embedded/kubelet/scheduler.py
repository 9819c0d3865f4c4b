"""The scheduler of a one-node cluster: bind pods to the node once their PVCs allow it.

Only volume checks matter with one node, and they produce what kube-scheduler 1.20 reports:
``persistentvolumeclaim "x" not found`` (SchedulerError) for a missing claim and
``0/1 nodes are available: 1 pod has unbound immediate PersistentVolumeClaims.`` (Unschedulable) for an
unbound Immediate claim. A WaitForFirstConsumer claim gets the ``volume.kubernetes.io/selected-node``
annotation (that triggers provisioning) and the pod is bound once the claim is Bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from .api import Obj, RegistryLike, get_or_none, is_not_found
from .recorder import emit
from .runtime import now_rfc3339

log = logging.getLogger(__name__)
COMPONENT = "default-scheduler"
ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node"
RETRY_SECONDS = 1.0
#: how often the same FailedScheduling message is repeated while the pod stays unschedulable
EVENT_REPEAT_SECONDS = 30.0


class Unschedulable(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class WaitingForVolume(Exception):
    """A WaitForFirstConsumer claim is being provisioned: retry quietly."""


def _expression_matches(expr: Obj, labels: dict[str, str]) -> bool:
    key, op, values = expr.get("key", ""), expr.get("operator", ""), expr.get("values") or []
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    if op in ("Gt", "Lt") and key in labels and values:
        try:
            have, want = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    return False


def node_matches(pod: Obj, labels: dict[str, str]) -> bool:
    """True when ``nodeSelector`` and requiredDuringSchedulingIgnoredDuringExecution both accept the node."""
    spec = pod.get("spec") or {}
    if any(labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()):
        return False
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms") or []
    if not terms:
        return True
    # terms are ORed; a term's expressions are ANDed (matchFields on metadata.name is honoured too)
    for term in terms:
        exprs = term.get("matchExpressions") or []
        fields = term.get("matchFields") or []
        if all(_expression_matches(e, labels) for e in exprs) and all(
            _expression_matches(f, {"metadata.name": labels.get("kubernetes.io/hostname", "")})
            for f in fields
        ):
            return True
    return False


class Scheduler:
    def __init__(self, registry: RegistryLike, node_name: str) -> None:
        self.registry = registry
        self.node_name = node_name
        self.pending: dict[str, Obj] = {}
        self._reported: dict[str, tuple[str, float]] = {}
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Watch pods and bind the unscheduled ones; retry the unschedulable ones every second."""
        watcher = asyncio.create_task(self._watch())
        try:
            while True:
                for uid, pod in list(self.pending.items()):
                    await self._try(uid, pod)
                self._wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), RETRY_SECONDS)
        finally:
            watcher.cancel()

    async def _watch(self) -> None:
        while True:
            try:
                async with contextlib.aclosing(self.registry.watch("pods")) as pods:
                    async for etype, pod in pods:
                        self._observe(etype, pod)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a closed/expired watch: start again from a fresh list
                log.debug("scheduler watch restarted: %s", exc)
                await asyncio.sleep(0.2)

    def _observe(self, etype: str, pod: Obj) -> None:
        uid = pod["metadata"]["uid"]
        spec = pod.get("spec") or {}
        wanted = (
            etype != "DELETED"
            and not spec.get("nodeName")
            and not pod["metadata"].get("deletionTimestamp")
            and spec.get("schedulerName", COMPONENT) == COMPONENT
            and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
        )
        if wanted:
            self.pending[uid] = pod
            self._wake.set()
        else:
            self.pending.pop(uid, None)
            self._reported.pop(uid, None)

    async def _try(self, uid: str, pod: Obj) -> None:
        try:
            await self.check_node_selection(pod)
            await self.check_volumes(pod)
            await self.bind(pod)
            self.pending.pop(uid, None)
            self._reported.pop(uid, None)
        except WaitingForVolume:
            return
        except Unschedulable as exc:
            await self._report(uid, pod, exc)
        except Exception as exc:
            if is_not_found(exc):
                self.pending.pop(uid, None)
            else:
                log.warning("scheduling %s failed: %s", pod["metadata"]["name"], exc)

    async def check_node_selection(self, pod: Obj) -> None:
        """nodeSelector and required node affinity against the node's labels (NodeAffinity plugin)."""
        node = await get_or_none(self.registry, "nodes", None, self.node_name)
        labels = ((node or {}).get("metadata") or {}).get("labels") or {}
        if not node_matches(pod, labels):
            raise Unschedulable(
                "Unschedulable", "0/1 nodes are available: 1 node(s) didn't match node selector."
            )

    async def check_volumes(self, pod: Obj) -> None:
        namespace = pod["metadata"]["namespace"]
        for volume in pod["spec"].get("volumes") or []:
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if not claim:
                continue
            pvc = await get_or_none(self.registry, "persistentvolumeclaims", namespace, claim)
            if pvc is None:
                raise Unschedulable("SchedulerError", f'persistentvolumeclaim "{claim}" not found')
            if pvc["metadata"].get("deletionTimestamp"):
                raise Unschedulable("SchedulerError", f'persistentvolumeclaim "{claim}" is being deleted')
            if (pvc.get("status") or {}).get("phase") == "Bound":
                continue
            if await self._wait_for_first_consumer(pvc):
                annotations = pvc["metadata"].get("annotations") or {}
                if annotations.get(ANN_SELECTED_NODE) != self.node_name:
                    await self.registry.patch(
                        "persistentvolumeclaims",
                        namespace,
                        claim,
                        {"metadata": {"annotations": {ANN_SELECTED_NODE: self.node_name}}},
                    )
                raise WaitingForVolume(claim)
            raise Unschedulable(
                "Unschedulable",
                "0/1 nodes are available: 1 pod has unbound immediate PersistentVolumeClaims.",
            )

    async def _wait_for_first_consumer(self, pvc: Obj) -> bool:
        name = (pvc.get("spec") or {}).get("storageClassName")
        if not name:
            return False
        sc = await get_or_none(self.registry, "storageclasses", None, name)
        return bool(sc and sc.get("volumeBindingMode") == "WaitForFirstConsumer")

    async def bind(self, pod: Obj) -> None:
        meta = pod["metadata"]
        bind = getattr(self.registry, "bind", None)  # Registry.bind: the pods/binding subresource
        if bind is not None:
            await bind(meta["namespace"], meta["name"], self.node_name)
        else:
            current = await self.registry.get("pods", meta["namespace"], meta["name"])
            current["spec"]["nodeName"] = self.node_name
            await self.registry.update("pods", meta["namespace"], current)
        await emit(
            self.registry,
            pod,
            "Scheduled",
            f"Successfully assigned {meta['namespace']}/{meta['name']} to {self.node_name}",
            component=COMPONENT,
        )

    async def _report(self, uid: str, pod: Obj, exc: Unschedulable) -> None:
        last = self._reported.get(uid)
        if last and last[0] == exc.message and time.monotonic() - last[1] < EVENT_REPEAT_SECONDS:
            return
        self._reported[uid] = (exc.message, time.monotonic())
        await emit(self.registry, pod, "FailedScheduling", exc.message, type="Warning", component=COMPONENT)
        status = dict(pod.get("status") or {})
        status["phase"] = "Pending"
        status["conditions"] = [
            {
                "type": "PodScheduled",
                "status": "False",
                "lastProbeTime": None,
                "lastTransitionTime": now_rfc3339(),
                "reason": exc.reason,
                "message": exc.message,
            }
        ]
        meta = pod["metadata"]
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"]},
            "status": status,
        }
        try:
            await self.registry.update("pods", meta["namespace"], body, subresource="status")
        except Exception as err:
            log.debug("could not set PodScheduled=False on %s: %s", meta["name"], err)
