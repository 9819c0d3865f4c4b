"""PersistentVolumeClaims (pkg/registry/core/persistentvolumeclaim): volumeMode default, spec validation,
what may change after creation, and ``kubectl get pvc`` columns.  The default StorageClass, the
pvc-protection finalizer and PersistentVolumeClaimResize are admission plugins (admission.py).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..field import FieldError, forbidden, invalid, not_supported, required
from ..meta import without
from ..names import dns1123_subdomain
from ..quantity import QuantityError, parse_quantity
from ..resource import RW, Resource
from ..strategy import Strategy
from ..tables import access_modes, age, none_if_empty

Obj = dict[str, Any]

PERSISTENT_VOLUME_CLAIMS = Resource(
    "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", "", "v1", True, ("pvc",), RW,
    ("status",),
)  # fmt: skip

ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]
_UPDATE_MSG = (
    "spec is immutable after creation except resources.requests and volumeAttributesClassName "
    "for bound claims"
)

_SHRINK_MSG = "field can not be less than previous value"


def validate_pvc_spec(spec: Obj, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    modes = spec.get("accessModes") or []
    if not modes:
        errs.append(required(f"{path}.accessModes", "at least 1 access mode is required"))
    for mode in modes:
        if mode not in ACCESS_MODES:
            errs.append(not_supported(f"{path}.accessModes", mode, ACCESS_MODES))
    requests = ((spec.get("resources") or {}).get("requests")) or {}
    key = f"{path}.resources[storage]"
    if "storage" not in requests:
        errs.append(required(key))
    else:
        raw = requests["storage"]
        try:
            if parse_quantity(raw) <= 0:
                errs.append(invalid(key, "0" if raw is None else str(raw), "must be greater than zero"))
        except QuantityError as e:
            errs.append(invalid(key, str(raw), str(e)))
    sc = spec.get("storageClassName")
    if sc:
        errs += [invalid(f"{path}.storageClassName", sc, m) for m in dns1123_subdomain(sc)]
    mode = spec.get("volumeMode")
    if mode not in (None, "Block", "Filesystem"):
        errs.append(not_supported(f"{path}.volumeMode", mode, ["Block", "Filesystem"]))
    return errs


def _requested_storage(spec: Obj) -> Any:
    return ((spec.get("resources") or {}).get("requests") or {}).get("storage")


def _quantity_or_raw(value: Any) -> Any:
    try:
        return parse_quantity(value)
    except QuantityError:
        return value  # the create-time rules report the bad quantity


def _with_storage(spec: Obj, storage: Any) -> Obj:
    """``spec`` with requests.storage replaced, so that 1Gi and 1024Mi compare equal (Semantic.DeepEqual)."""
    resources = spec.get("resources") or {}
    if "requests" not in resources:
        return spec
    return {**spec, "resources": {**resources, "requests": {**resources["requests"], "storage": storage}}}


class PersistentVolumeClaimStrategy(Strategy):
    created_status: Obj | None = {}
    generation = True
    return_deleted_object = True
    columns = (("Status", "string", 0), ("Volume", "string", 0), ("Capacity", "string", 0),
               ("Access Modes", "string", 0), ("StorageClass", "string", 0),
               ("VolumeAttributesClass", "string", 0), ("Age", "string", 0),
               ("VolumeMode", "string", 1))  # fmt: skip

    def defaults(self, obj: Obj) -> None:
        obj.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
        obj.setdefault("status", {}).setdefault("phase", "Pending")

    def validate(self, obj: Obj) -> list[FieldError]:
        return validate_pvc_spec(obj.get("spec") or {}, "spec")

    def validate_update(self, old: Obj, new: Obj) -> list[FieldError]:
        """ValidatePersistentVolumeClaimUpdate (ExpandPersistentVolumes on, the default since 1.11).

        Only a Bound claim's ``resources.requests.storage`` may change (and never shrink); ``volumeName``
        may be set once.  Whether growing is allowed is the PersistentVolumeClaimResize admission's call
        (``admission.pvc_resize``), made after this validation, as kube-apiserver orders them.
        """
        old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
        drop = ["volumeAttributesClassName"]
        if not old_spec.get("volumeName"):
            drop.append("volumeName")  # binding a claim sets it once
        old_size = _quantity_or_raw(_requested_storage(old_spec))
        new_size = _quantity_or_raw(_requested_storage(new_spec))
        # the status is the stored one: PrepareForUpdate keeps it on a main-resource update
        bound = (new.get("status") or {}).get("phase") == "Bound"
        errs: list[FieldError] = []
        if _with_storage(without(old_spec, *drop), old_size) != _with_storage(
            without(new_spec, *drop), old_size if bound else new_size
        ):
            errs.append(forbidden("spec", _UPDATE_MSG))
        if isinstance(old_size, Decimal) and isinstance(new_size, Decimal) and new_size < old_size:
            errs.append(forbidden("spec.resources.requests.storage", _SHRINK_MSG))
        return errs

    def row(self, o: Obj) -> list[Any]:
        spec, status = o.get("spec") or {}, o.get("status") or {}
        terminating = (o.get("metadata") or {}).get("deletionTimestamp")
        phase = "Terminating" if terminating else status.get("phase", "")
        capacity = (status.get("capacity") or {}).get("storage", "")
        return [phase, spec.get("volumeName", ""), capacity, access_modes(status.get("accessModes")),
                spec.get("storageClassName", ""), none_if_empty(spec.get("volumeAttributesClassName")),
                age(o), spec.get("volumeMode", "Filesystem")]  # fmt: skip


STRATEGIES = (PersistentVolumeClaimStrategy(PERSISTENT_VOLUME_CLAIMS),)
