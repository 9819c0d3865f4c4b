"""Storage-object-in-use protection: the ``kubernetes.io/pvc-protection`` and ``pv-protection`` finalizers.

Why: deleting a user's PVC while their server pod still mounts it must not pull the data away — on a real
cluster the PVC stays ``Terminating`` until no scheduled, non-terminated pod uses it, and a PV stays until it
is no longer Bound.  Tests of "delete the PVC while the server runs" depend on that window existing.
"""

from __future__ import annotations

import copy
from typing import Any

from .base import Controller
from .informer import Informer, InformerFactory
from .objects import Key, Obj, has_finalizer, is_terminating, pod_is_terminated, without_finalizer

PVC_FINALIZER = "kubernetes.io/pvc-protection"
PV_FINALIZER = "kubernetes.io/pv-protection"


def claims_of_pod(pod: Obj) -> set[str]:
    """Names of the PVCs a pod's volumes reference (generic ephemeral volumes are ``<pod>-<volume>``)."""
    out: set[str] = set()
    for vol in pod.get("spec", {}).get("volumes") or []:
        if vol.get("persistentVolumeClaim"):
            out.add(vol["persistentVolumeClaim"].get("claimName", ""))
        elif vol.get("ephemeral"):
            out.add(f"{pod['metadata']['name']}-{vol.get('name', '')}")
    return out


def pod_blocks_claim(pod: Obj, claim: str) -> bool:
    """A scheduled pod that has not terminated and references the claim keeps it alive."""
    if not pod.get("spec", {}).get("nodeName") or pod_is_terminated(pod):
        return False
    return claim in claims_of_pod(pod)


async def _set_finalizers(registry: Any, resource: str, obj: Obj, finalizers: list[str]) -> None:
    new = copy.deepcopy(obj)
    new["metadata"]["finalizers"] = finalizers
    await registry.update(resource, obj["metadata"].get("namespace"), new)


async def _ensure_finalizer(registry: Any, resource: str, obj: Obj, finalizer: str) -> None:
    """Live objects carry the finalizer (admission adds it; objects from before it existed get it here)."""
    if not has_finalizer(obj, finalizer):
        await _set_finalizers(
            registry, resource, obj, [*(obj["metadata"].get("finalizers") or []), finalizer]
        )


class PVCProtectionController(Controller):
    name = "pvc-protection-controller"

    def __init__(self, registry: Any, informers: InformerFactory, config: Any) -> None:
        super().__init__(registry, informers, config)
        self.claims = self.watch("persistentvolumeclaims")
        self.pods = self.watch("pods")
        self.claims.add_handler(self.enqueue_on_event)
        self.pods.add_handler(self._on_pod)

    def primary(self) -> Informer:
        return self.claims

    def _on_pod(self, event_type: str, pod: Obj, old: Obj | None) -> None:
        if event_type == "DELETED" or pod_is_terminated(pod) or is_terminating(pod):
            ns = pod["metadata"].get("namespace", "")
            for name in claims_of_pod(pod):
                self.queue.add((ns, name))

    async def reconcile(self, key: Key) -> float | None:
        pvc = self.claims.get(*key)
        if pvc is None:
            return None
        if not is_terminating(pvc):
            await _ensure_finalizer(self.registry, "persistentvolumeclaims", pvc, PVC_FINALIZER)
            return None
        if not has_finalizer(pvc, PVC_FINALIZER) or await self._in_use(key):
            return None
        await _set_finalizers(
            self.registry, "persistentvolumeclaims", pvc, without_finalizer(pvc, PVC_FINALIZER)
        )
        return None

    async def _in_use(self, key: Key) -> bool:
        """Cache first; before releasing, ask the API server (a just-created pod may not be cached yet)."""
        ns, name = key
        if any(pod_blocks_claim(p, name) for p in self.pods.list(ns)):
            return True
        pods, _ = await self.registry.list("pods", ns)
        return any(pod_blocks_claim(p, name) for p in pods)


class PVProtectionController(Controller):
    name = "pv-protection-controller"

    def __init__(self, registry: Any, informers: InformerFactory, config: Any) -> None:
        super().__init__(registry, informers, config)
        self.volumes = self.watch("persistentvolumes")
        self.volumes.add_handler(self.enqueue_on_event)

    def primary(self) -> Informer:
        return self.volumes

    async def reconcile(self, key: Key) -> float | None:
        pv = self.volumes.get(None, key[1])
        if pv is None:
            return None
        if not is_terminating(pv):
            await _ensure_finalizer(self.registry, "persistentvolumes", pv, PV_FINALIZER)
            return None
        if has_finalizer(pv, PV_FINALIZER) and pv.get("status", {}).get("phase") != "Bound":
            await _set_finalizers(self.registry, "persistentvolumes", pv, without_finalizer(pv, PV_FINALIZER))
        return None
