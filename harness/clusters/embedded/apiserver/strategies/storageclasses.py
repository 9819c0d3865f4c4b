"""StorageClasses (pkg/registry/storage/storageclass): reclaim policy and binding mode defaults, columns."""

from __future__ import annotations

from typing import Any

from ..resource import Resource
from ..strategy import Strategy
from ..tables import age

Obj = dict[str, Any]

STORAGE_CLASSES = Resource(
    "storageclasses", "storageclass", "StorageClass", "storage.k8s.io", "v1", False, ("sc",)
)


class StorageClassStrategy(Strategy):
    columns = (("Provisioner", "string", 0), ("ReclaimPolicy", "string", 0),
               ("VolumeBindingMode", "string", 0), ("AllowVolumeExpansion", "boolean", 0),
               ("Age", "string", 0))  # fmt: skip

    def defaults(self, obj: Obj) -> None:
        obj.setdefault("reclaimPolicy", "Delete")
        obj.setdefault("volumeBindingMode", "Immediate")

    def row(self, o: Obj) -> list[Any]:
        return [o.get("provisioner", ""), o.get("reclaimPolicy", ""), o.get("volumeBindingMode", ""),
                bool(o.get("allowVolumeExpansion")), age(o)]  # fmt: skip


STRATEGIES = (StorageClassStrategy(STORAGE_CLASSES),)
