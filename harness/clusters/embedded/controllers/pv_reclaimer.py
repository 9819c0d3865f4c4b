"""Volume side of the persistent-volume controller: Available/Bound/Released phases and reclaim.

Why: what happens to a user's data after their PVC is deleted is exactly what storage conformance is about.
As on a real cluster, a volume whose claim is gone becomes ``Released``; ``Retain`` keeps the PV and the data,
``Delete`` removes the data and then the PV (the provisioner's job for volumes it provisioned).  The data
directory is only ever removed when this provisioner made it: the PV must carry our ``provisioned-by``
annotation and point exactly at ``<data_dir>/volumes/<pv-name>``, and the tree must not cross a mount.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from ..apiserver.errors import ApiError
from .base import Controller, delete_if_present
from .hostpath import PROVISIONER, UnsafeVolumeDir, owned_volume_dir, remove_volume_dir
from .informer import Informer, InformerFactory
from .objects import Key, Obj
from .pv_provisioner import PV_CONTROLLER
from .recorder import emit

log = logging.getLogger(__name__)


class PersistentVolumeController(Controller):
    """Keeps each PV's phase right and reclaims volumes whose claim has gone."""

    name = PV_CONTROLLER
    resync_period = 15.0

    def __init__(self, registry: Any, informers: InformerFactory, config: Any) -> None:
        super().__init__(registry, informers, config)
        self.volumes = self.watch("persistentvolumes")
        self.claims = self.watch("persistentvolumeclaims")
        self.volumes.add_handler(self.enqueue_on_event)
        self.claims.add_handler(self._on_claim)

    def primary(self) -> Informer:
        return self.volumes

    def _on_claim(self, event_type: str, pvc: Obj, old: Obj | None) -> None:
        name = pvc.get("spec", {}).get("volumeName")
        if name:
            self.queue.add(("", name))
        if event_type == "DELETED":
            for pv in self.volumes.list():
                ref = pv.get("spec", {}).get("claimRef") or {}
                if ref.get("uid") and ref.get("uid") == pvc["metadata"].get("uid"):
                    self.enqueue(pv)

    async def reconcile(self, key: Key) -> float | None:
        pv = self.volumes.get(None, key[1])
        if pv is None:
            return None
        phase = pv.get("status", {}).get("phase")
        ref = pv.get("spec", {}).get("claimRef") or {}
        if not ref.get("uid"):
            if phase in (None, "", "Pending"):
                await self._set_phase(pv, "Available")
            return None
        if await self._claim_exists(ref):
            return None  # binding is the claim controller's job
        if phase not in ("Released", "Failed"):
            pv = await self._set_phase(pv, "Released")
        if pv.get("status", {}).get("phase") == "Failed":
            return None
        policy = pv.get("spec", {}).get("persistentVolumeReclaimPolicy") or "Retain"
        if policy == "Delete":
            await self._delete(pv)
        elif policy == "Recycle":
            await emit(
                self.registry,
                pv,
                "VolumeFailedRecycle",
                "No recycler plugin found for the volume!",
                component=PV_CONTROLLER,
                type="Warning",
            )
        return None

    async def _claim_exists(self, ref: dict[str, Any]) -> bool:
        """Check the cache, then the API (the cache may not have seen a just-created claim yet)."""
        cached = self.claims.get(ref.get("namespace"), ref.get("name", ""))
        if cached is not None and cached["metadata"].get("uid") == ref["uid"]:
            return True
        try:
            live = await self.registry.get(
                "persistentvolumeclaims", ref.get("namespace"), ref.get("name", "")
            )
        except ApiError as e:
            if e.code == 404:
                return False
            raise
        return bool(live["metadata"].get("uid") == ref["uid"])

    async def _delete(self, pv: Obj) -> None:
        path = owned_volume_dir(pv, self.config.volumes_dir)
        if path is None:
            return  # another provisioner's volume: it does the deleting
        try:
            remove_volume_dir(path, self.config.volumes_dir)
        except (OSError, UnsafeVolumeDir) as e:
            log.warning("not deleting volume %s: %s", pv["metadata"]["name"], e)
            await emit(self.registry, pv, "VolumeFailedDelete", str(e), component=PROVISIONER, type="Warning")
            new = copy.deepcopy(pv)
            new["status"] = {**new.get("status", {}), "phase": "Failed", "message": str(e)}
            await self.registry.update("persistentvolumes", None, new, subresource="status")
            return
        await delete_if_present(self.registry, "persistentvolumes", None, pv["metadata"]["name"])

    async def _set_phase(self, pv: Obj, phase: str) -> Obj:
        new = copy.deepcopy(pv)
        new["status"] = {**new.get("status", {}), "phase": phase}
        return dict(await self.registry.update("persistentvolumes", None, new, subresource="status"))
