"""Claim side of the persistent-volume controller plus the API side of the hostPath provisioner.

Why: JupyterHub's per-user storage is a PVC that KubeSpawner creates and expects to become Bound.  On a real
cluster that takes two components — kube-controller-manager's persistentvolume-controller (static binding,
``ExternalProvisioning`` events, two-way bind) and an external provisioner (here: a directory under
``<data_dir>/volumes/``, like rancher's local-path provisioner in kind).  Both are reproduced, with their
annotations, event reasons and messages, so clients observe the same transitions.
"""

from __future__ import annotations

import copy
import logging
from decimal import Decimal
from typing import Any

from ..apiserver.errors import ApiError
from ..apiserver.quantity import parse_quantity
from .base import Controller
from .hostpath import PROVISIONER, make_volume_dir, pv_manifest, volume_dir
from .informer import Informer, InformerFactory
from .objects import Key, Obj, is_terminating, object_reference, selector_matches, uid
from .recorder import emit

log = logging.getLogger(__name__)

DEFAULT_CLASS_NAME = "standard"
PV_CONTROLLER = "persistentvolume-controller"

ANN_DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
ANN_BETA_CLASS = "volume.beta.kubernetes.io/storage-class"
ANN_BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
ANN_BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
ANN_STORAGE_PROVISIONER = "volume.beta.kubernetes.io/storage-provisioner"
ANN_SELECTED_NODE = "volume.kubernetes.io/selected-node"


def default_storage_class_manifest() -> Obj:
    """The StorageClass the cluster bootstraps (kind ships one named ``standard`` too)."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": DEFAULT_CLASS_NAME, "annotations": {ANN_DEFAULT_CLASS: "true"}},
        "provisioner": PROVISIONER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    }


def claim_class(pvc: Obj) -> str:
    """v1helper.GetPersistentVolumeClaimClass: the beta annotation wins over spec.storageClassName."""
    ann = pvc.get("metadata", {}).get("annotations") or {}
    if ANN_BETA_CLASS in ann:
        return str(ann[ANN_BETA_CLASS])
    return str(pvc.get("spec", {}).get("storageClassName") or "")


def volume_class(pv: Obj) -> str:
    ann = pv.get("metadata", {}).get("annotations") or {}
    if ANN_BETA_CLASS in ann:
        return str(ann[ANN_BETA_CLASS])
    return str(pv.get("spec", {}).get("storageClassName") or "")


def _storage(obj_resources: dict[str, Any] | None) -> Decimal:
    value = (obj_resources or {}).get("storage")
    return Decimal(parse_quantity(value)) if value is not None else Decimal(0)


def claim_request(pvc: Obj) -> Decimal:
    return _storage(pvc.get("spec", {}).get("resources", {}).get("requests"))


def volume_capacity(pv: Obj) -> Decimal:
    return _storage(pv.get("spec", {}).get("capacity"))


def claim_ref_matches(pv: Obj, pvc: Obj) -> bool:
    """The PV's claimRef names this claim (and, when it has a uid, this incarnation of it)."""
    ref = pv.get("spec", {}).get("claimRef")
    if not ref:
        return False
    m = pvc["metadata"]
    if ref.get("name") != m["name"] or ref.get("namespace") != m.get("namespace"):
        return False
    return not ref.get("uid") or ref["uid"] == m.get("uid")


def find_best_match(pvc: Obj, volumes: list[Obj], *, prebound_only: bool = False) -> Obj | None:
    """persistentvolume index findBestMatchForClaim: a PV pre-bound to the claim wins; otherwise the
    smallest Available PV of the same class, volume mode and access modes (superset) that is big enough.

    ``prebound_only``: binding is delayed (WaitForFirstConsumer, no node chosen yet), so only a PV that
    names this claim may be bound now.
    """
    request = claim_request(pvc)
    modes = set(pvc.get("spec", {}).get("accessModes") or [])
    cls = claim_class(pvc)
    mode = pvc.get("spec", {}).get("volumeMode") or "Filesystem"
    selector = pvc.get("spec", {}).get("selector")
    best: Obj | None = None
    for pv in volumes:
        if is_terminating(pv):
            continue
        if claim_ref_matches(pv, pvc):
            return pv
        if prebound_only:
            continue
        spec = pv.get("spec", {})
        if spec.get("claimRef") or pv.get("status", {}).get("phase") not in (None, "", "Available"):
            continue
        if volume_class(pv) != cls or (spec.get("volumeMode") or "Filesystem") != mode:
            continue
        if not modes.issubset(set(spec.get("accessModes") or [])):
            continue
        if selector is not None and not selector_matches(selector, pv["metadata"].get("labels")):
            continue
        cap = volume_capacity(pv)
        if cap < request:
            continue
        if best is None or cap < volume_capacity(best):
            best = pv
    return best


class PersistentVolumeClaimController(Controller):
    """Binds Pending claims to volumes, provisioning a hostPath directory PV when the class is ours."""

    name = PV_CONTROLLER
    resync_period = 15.0  # the real controller's --pvclaimbinder-sync-period

    def __init__(self, registry: Any, informers: InformerFactory, config: Any) -> None:
        super().__init__(registry, informers, config)
        self.claims = self.watch("persistentvolumeclaims")
        self.volumes = self.watch("persistentvolumes")
        self.classes = self.watch("storageclasses")
        self.claims.add_handler(self.enqueue_on_event)
        self.volumes.add_handler(self._on_volume)
        self.classes.add_handler(self._on_class)
        #: PVs this process created that the informer may not have seen yet (avoids a second provisioning)
        self._created: set[str] = set()

    def primary(self) -> Informer:
        return self.claims

    def _on_volume(self, event_type: str, pv: Obj, old: Obj | None) -> None:
        self._created.discard(pv["metadata"]["name"])
        ref = pv.get("spec", {}).get("claimRef")
        if ref and ref.get("name"):
            self.queue.add((ref.get("namespace") or "", ref["name"]))
        elif event_type != "DELETED":
            # a volume became available: unbound claims may fit it now (the real controller finds it on
            # its 15 s resync; doing it at once only makes binding sooner)
            for pvc in self.claims.list():
                if not pvc.get("spec", {}).get("volumeName"):
                    self.enqueue(pvc)

    def _on_class(self, event_type: str, sc: Obj, old: Obj | None) -> None:
        if event_type == "ADDED":
            for pvc in self.claims.list():
                if claim_class(pvc) == sc["metadata"]["name"] and not pvc.get("spec", {}).get("volumeName"):
                    self.enqueue(pvc)

    async def setup(self) -> None:
        """Bootstrap the default StorageClass once (kept if the user changed or replaced it later)."""
        if self.classes.get(None, DEFAULT_CLASS_NAME) is None:
            try:
                await self.registry.create("storageclasses", None, default_storage_class_manifest())
            except ApiError as e:
                if e.code != 409:
                    raise

    async def reconcile(self, key: Key) -> float | None:
        pvc = self.claims.get(*key)
        if pvc is None:
            return None
        volume_name = pvc.get("spec", {}).get("volumeName")
        if volume_name:
            return await self._sync_prebound(pvc, volume_name)
        if pvc.get("status", {}).get("phase") == "Lost" or is_terminating(pvc):
            return None
        cls = claim_class(pvc)
        sc = self.classes.get(None, cls) if cls else None
        ann = pvc["metadata"].get("annotations") or {}
        delayed = sc is not None and sc.get("volumeBindingMode") == "WaitForFirstConsumer"
        node_chosen = ANN_SELECTED_NODE in ann
        pv = find_best_match(pvc, self.volumes.list(), prebound_only=delayed and not node_chosen)
        if pv is not None:
            await self._bind(pvc, pv)
            return None
        if not cls:
            await self._event(
                pvc,
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set",
            )
            return None
        if sc is None:
            await self._event(
                pvc, "ProvisioningFailed", f'storageclass.storage.k8s.io "{cls}" not found', "Warning"
            )
            return None
        if delayed and not node_chosen:
            # the scheduler picks a node and sets volume.kubernetes.io/selected-node once a pod uses the claim
            await self._event(
                pvc, "WaitForFirstConsumer", "waiting for first consumer to be created before binding"
            )
            return None
        provisioner = sc.get("provisioner", "")
        if ann.get(ANN_STORAGE_PROVISIONER) != provisioner:
            pvc = await self._annotate_provisioner(pvc, provisioner)
        await self._event(
            pvc,
            "ExternalProvisioning",
            f'waiting for a volume to be created, either by external provisioner "{provisioner}" '
            "or manually created by system administrator",
        )
        if provisioner == PROVISIONER:
            await self._provision(pvc, sc)
        return None

    async def _event(self, obj: Obj, reason: str, message: str, type: str = "Normal") -> None:
        await emit(self.registry, obj, reason, message, component=PV_CONTROLLER, type=type)

    async def _annotate_provisioner(self, pvc: Obj, provisioner: str) -> Obj:
        new = copy.deepcopy(pvc)
        new["metadata"].setdefault("annotations", {})[ANN_STORAGE_PROVISIONER] = provisioner
        return dict(await self.registry.update("persistentvolumeclaims", new["metadata"]["namespace"], new))

    async def _provision(self, pvc: Obj, sc: Obj) -> None:
        """What an external provisioner does: make the directory, create the PV pointing back at the claim."""
        ns, name = pvc["metadata"]["namespace"], pvc["metadata"]["name"]
        pv_name = f"pvc-{uid(pvc)}"
        if pv_name in self._created or self.volumes.get(None, pv_name) is not None:
            return  # provisioned already; binding follows from the PV's watch event
        await emit(
            self.registry,
            pvc,
            "Provisioning",
            f'External provisioner is provisioning volume for claim "{ns}/{name}"',
            component=PROVISIONER,
        )
        path = volume_dir(self.config.volumes_dir, pv_name)
        try:
            make_volume_dir(path)
        except OSError as e:
            await emit(
                self.registry,
                pvc,
                "ProvisioningFailed",
                f'failed to provision volume with StorageClass "{sc["metadata"]["name"]}": {e}',
                component=PROVISIONER,
                type="Warning",
            )
            raise
        try:
            await self.registry.create("persistentvolumes", None, pv_manifest(pvc, sc, path))
        except ApiError as e:
            if e.code != 409:
                raise
            return
        self._created.add(pv_name)
        await emit(
            self.registry,
            pvc,
            "ProvisioningSucceeded",
            f"Successfully provisioned volume {pv_name}",
            component=PROVISIONER,
        )

    async def _sync_prebound(self, pvc: Obj, volume_name: str) -> float | None:
        pv = self.volumes.get(None, volume_name)
        phase = pvc.get("status", {}).get("phase")
        if pv is None:
            if phase == "Bound":
                await self._set_claim_phase(pvc, "Lost")
                await self._event(
                    pvc,
                    "ClaimLost",
                    "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
                    "Warning",
                )
            return None
        ref = pv.get("spec", {}).get("claimRef")
        if ref and ref.get("uid") and not claim_ref_matches(pv, pvc):
            if phase != "Bound":
                await self._event(
                    pvc, "FailedBinding", "volume is already bound to a different claim.", "Warning"
                )
            return None
        await self._bind(pvc, pv)
        return None

    async def _bind(self, pvc: Obj, pv: Obj) -> None:
        """pv_controller.bind: volume→claim, volume phase, claim→volume, claim status; each idempotent."""
        pv_name = pv["metadata"]["name"]
        if not (pv.get("spec", {}).get("claimRef") or {}).get("uid"):
            new_pv = copy.deepcopy(pv)
            new_pv["spec"]["claimRef"] = object_reference(pvc)
            new_pv["metadata"].setdefault("annotations", {})[ANN_BOUND_BY_CONTROLLER] = "yes"
            pv = dict(await self.registry.update("persistentvolumes", None, new_pv))
        if pv.get("status", {}).get("phase") != "Bound":
            new_pv = copy.deepcopy(pv)
            new_pv["status"] = {**new_pv.get("status", {}), "phase": "Bound"}
            new_pv["status"].pop("message", None)
            new_pv["status"].pop("reason", None)
            pv = dict(await self.registry.update("persistentvolumes", None, new_pv, subresource="status"))
        ns = pvc["metadata"]["namespace"]
        ann = pvc["metadata"].get("annotations") or {}
        if pvc.get("spec", {}).get("volumeName") != pv_name or ann.get(ANN_BIND_COMPLETED) != "yes":
            new = copy.deepcopy(pvc)
            new_ann = new["metadata"].setdefault("annotations", {})
            if new["spec"].get("volumeName") != pv_name:
                new["spec"]["volumeName"] = pv_name
                new_ann[ANN_BOUND_BY_CONTROLLER] = "yes"
            new_ann[ANN_BIND_COMPLETED] = "yes"
            pvc = dict(await self.registry.update("persistentvolumeclaims", ns, new))
        status = pvc.get("status", {})
        want_modes = list(pv.get("spec", {}).get("accessModes") or [])
        want_cap = dict(pv.get("spec", {}).get("capacity") or {})
        if (
            status.get("phase") != "Bound"
            or status.get("accessModes") != want_modes
            or status.get("capacity") != want_cap
        ):
            new = copy.deepcopy(pvc)
            new["status"] = {**status, "phase": "Bound", "accessModes": want_modes, "capacity": want_cap}
            await self.registry.update("persistentvolumeclaims", ns, new, subresource="status")

    async def _set_claim_phase(self, pvc: Obj, phase: str) -> None:
        new = copy.deepcopy(pvc)
        new.setdefault("status", {})["phase"] = phase
        await self.registry.update(
            "persistentvolumeclaims", pvc["metadata"]["namespace"], new, subresource="status"
        )
