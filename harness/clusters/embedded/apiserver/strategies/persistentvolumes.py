"""PersistentVolumes (pkg/registry/core/persistentvolume): reclaim policy and volumeMode defaults and
``kubectl get pv`` columns.  The pv-protection finalizer is an admission plugin (admission.py).
"""

from __future__ import annotations

from typing import Any

from ..resource import RW, Resource
from ..strategy import Strategy
from ..tables import access_modes, age, none_if_empty

Obj = dict[str, Any]

PERSISTENT_VOLUMES = Resource(
    "persistentvolumes", "persistentvolume", "PersistentVolume", "", "v1", False, ("pv",), RW, ("status",)
)


class PersistentVolumeStrategy(Strategy):
    created_status: Obj | None = {}
    generation = True
    return_deleted_object = True
    columns = (("Capacity", "string", 0), ("Access Modes", "string", 0), ("Reclaim Policy", "string", 0),
               ("Status", "string", 0), ("Claim", "string", 0), ("StorageClass", "string", 0),
               ("VolumeAttributesClass", "string", 0), ("Reason", "string", 0), ("Age", "string", 0),
               ("VolumeMode", "string", 1))  # fmt: skip

    def defaults(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
        spec.setdefault("volumeMode", "Filesystem")
        obj.setdefault("status", {}).setdefault("phase", "Pending")

    def row(self, o: Obj) -> list[Any]:
        spec, status = o.get("spec") or {}, o.get("status") or {}
        ref = spec.get("claimRef") or {}
        claim = f"{ref.get('namespace')}/{ref.get('name')}" if ref else ""
        terminating = (o.get("metadata") or {}).get("deletionTimestamp")
        phase = "Terminating" if terminating else status.get("phase", "")
        return [(spec.get("capacity") or {}).get("storage", ""), access_modes(spec.get("accessModes")),
                spec.get("persistentVolumeReclaimPolicy", ""), phase, claim, spec.get("storageClassName", ""),
                none_if_empty(spec.get("volumeAttributesClassName")), status.get("reason", ""), age(o),
                spec.get("volumeMode", "Filesystem")]  # fmt: skip


STRATEGIES = (PersistentVolumeStrategy(PERSISTENT_VOLUMES),)
