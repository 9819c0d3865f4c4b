"""The admission plugins a default kube-apiserver runs on create, in its order, each for the resources
it handles: NamespaceLifecycle (no new content in a missing or Terminating namespace), ServiceAccount
(the pod's SA must exist; the ``kube-api-access-*`` projected token volume), DefaultTolerationSeconds,
DefaultStorageClass and StorageObjectInUseProtection (the pvc/pv-protection finalizers); and the
validating plugins it runs on update: PersistentVolumeClaimResize.  Messages are the real plugins'
messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import errors
from .meta import md, random_suffix
from .quantity import QuantityError, parse_quantity

if TYPE_CHECKING:
    from .store import Store

Obj = dict[str, Any]

SA_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"
DEFAULT_SC_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"


def namespace_lifecycle(store: Store, resource: str, namespace: str, name: str) -> None:
    """404 when the namespace is missing, 403 when it is being terminated (NamespaceLifecycle plugin)."""
    ns = store.get("namespaces", "", namespace)
    if ns is None:
        raise errors.not_found("namespaces", namespace)
    if (ns.get("status") or {}).get("phase") == "Terminating" or md(ns).get("deletionTimestamp"):
        err = errors.forbidden(
            resource,
            name,
            "",
            f"unable to create new content in namespace {namespace} because it is being terminated",
        )
        err.status["details"]["causes"] = [
            {
                "reason": "NamespaceTerminating",
                "message": f"namespace {namespace} is being terminated",
                "field": "metadata.namespace",
            }
        ]
        raise err


def _token_volume(name: str) -> Obj:
    return {
        "name": name,
        "projected": {
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {
                    "downwardAPI": {
                        "items": [
                            {
                                "path": "namespace",
                                "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                            }
                        ]
                    }
                },
            ],
            "defaultMode": 420,
        },
    }


def service_account(store: Store, pod: Obj, namespace: str) -> None:
    """ServiceAccount admission: default SA name, SA must exist, token volume mounted into every container."""
    spec = pod.setdefault("spec", {})
    sa_name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec["serviceAccountName"] = sa_name
    spec["serviceAccount"] = sa_name
    sa = store.get("serviceaccounts", namespace, sa_name)
    if sa is None:
        raise errors.forbidden(
            "pods",
            md(pod).get("name", ""),
            "",
            f'error looking up service account {namespace}/{sa_name}: serviceaccount "{sa_name}" not found',
        )
    if not spec.get("imagePullSecrets") and sa.get("imagePullSecrets"):
        spec["imagePullSecrets"] = [dict(ref) for ref in sa["imagePullSecrets"]]
    automount = spec.get("automountServiceAccountToken")
    if automount is None:
        automount = sa.get("automountServiceAccountToken", True)
    if not automount:
        return
    containers = (spec.get("initContainers") or []) + (spec.get("containers") or [])
    if all(any(m.get("mountPath") == SA_MOUNT_PATH for m in c.get("volumeMounts") or []) for c in containers):
        return
    vol_name = f"kube-api-access-{random_suffix()}"
    spec.setdefault("volumes", []).append(_token_volume(vol_name))
    for c in containers:
        mounts = c.setdefault("volumeMounts", [])
        if not any(m.get("mountPath") == SA_MOUNT_PATH for m in mounts):
            mounts.append({"name": vol_name, "readOnly": True, "mountPath": SA_MOUNT_PATH})


def default_tolerations(store: Store, pod: Obj, namespace: str) -> None:
    tolerations = pod["spec"].setdefault("tolerations", [])
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if not any(t.get("key") == key for t in tolerations):
            tolerations.append(
                {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            )


def default_storage_class(store: Store, pvc: Obj, namespace: str) -> None:
    """DefaultStorageClass: a PVC without ``storageClassName`` gets the default class (if exactly one)."""
    spec = pvc.setdefault("spec", {})
    if "storageClassName" in spec and spec["storageClassName"] is not None:
        return
    classes, _ = store.list("storageclasses")
    defaults = [
        sc for sc in classes if (md(sc).get("annotations") or {}).get(DEFAULT_SC_ANNOTATION) == "true"
    ]
    if defaults:
        defaults.sort(key=lambda sc: md(sc).get("creationTimestamp", ""), reverse=True)
        spec["storageClassName"] = md(defaults[0])["name"]


def _protection(finalizer: str) -> Callable[[Store, Obj, str], None]:
    """StorageObjectInUseProtection: ``finalizer`` keeps the object until nothing uses it."""

    def admit(store: Store, obj: Obj, namespace: str) -> None:
        finalizers = md(obj).setdefault("finalizers", [])
        if finalizer not in finalizers:
            finalizers.append(finalizer)

    return admit


def _claim_class(pvc: Obj) -> str:
    """GetPersistentVolumeClaimClass: the beta annotation wins over spec.storageClassName."""
    annotations = md(pvc).get("annotations") or {}
    if BETA_CLASS_ANNOTATION in annotations:
        return str(annotations[BETA_CLASS_ANNOTATION])
    return str((pvc.get("spec") or {}).get("storageClassName") or "")


def _requested(pvc: Obj) -> Any:
    requests = ((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}
    try:
        return parse_quantity(requests.get("storage"))
    except QuantityError:
        return None


def pvc_resize(store: Store, old: Obj, new: Obj) -> None:
    """PersistentVolumeClaimResize (plugin/pkg/admission/storage/persistentvolume/resize): a claim may
    only grow when it is Bound and its (unchanged) StorageClass says ``allowVolumeExpansion: true``.
    """
    old_size, new_size = _requested(old), _requested(new)
    if old_size is None or new_size is None or new_size <= old_size:
        return
    name = md(new).get("name", "")
    if (old.get("status") or {}).get("phase") != "Bound":
        raise errors.forbidden(
            "persistentvolumeclaims", name, "", "Only bound persistent volume claims can be expanded"
        )
    cls, old_cls = _claim_class(new), _claim_class(old)
    sc = store.get("storageclasses", "", cls) if cls and cls == old_cls else None
    if sc is None or sc.get("allowVolumeExpansion") is not True:
        raise errors.forbidden(
            "persistentvolumeclaims",
            name,
            "",
            "only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc "
            "must support resize",
        )


@dataclass(frozen=True)
class Plugin:
    """A mutating admission plugin: ``admit(store, obj, namespace)`` for creates of ``resources``."""

    name: str
    resources: frozenset[str]
    admit: Callable[[Store, Obj, str], None]


PLUGINS: tuple[Plugin, ...] = (
    Plugin("ServiceAccount", frozenset({"pods"}), service_account),
    Plugin("DefaultTolerationSeconds", frozenset({"pods"}), default_tolerations),
    Plugin("DefaultStorageClass", frozenset({"persistentvolumeclaims"}), default_storage_class),
    Plugin(
        "StorageObjectInUseProtection", frozenset({"persistentvolumeclaims"}), _protection(PVC_PROTECTION)
    ),
    Plugin("StorageObjectInUseProtection", frozenset({"persistentvolumes"}), _protection(PV_PROTECTION)),
)


@dataclass(frozen=True)
class UpdatePlugin:
    """A validating admission plugin for updates of ``resources``' main resource (not a subresource):
    ``validate(store, old, new)`` raises the plugin's Status or returns."""

    name: str
    resources: frozenset[str]
    validate: Callable[[Store, Obj, Obj], None]


UPDATE_PLUGINS: tuple[UpdatePlugin, ...] = (
    UpdatePlugin("PersistentVolumeClaimResize", frozenset({"persistentvolumeclaims"}), pvc_resize),
)


def admit_create(store: Store, resource: str, namespaced: bool, namespace: str, obj: Obj) -> None:
    """Run the create admission chain: NamespaceLifecycle first, then every plugin for ``resource``."""
    if namespaced:
        namespace_lifecycle(store, resource, namespace, md(obj).get("name") or "")
    for plugin in PLUGINS:
        if resource in plugin.resources:
            plugin.admit(store, obj, namespace)


def validate_update(store: Store, resource: str, subresource: str | None, old: Obj, new: Obj) -> None:
    """Run the validating update chain for ``resource``.  The registry calls it after update validation
    (strategy ValidateUpdate), as the generic store runs ``updateValidation`` after ``BeforeUpdate``."""
    if subresource:
        return
    for plugin in UPDATE_PLUGINS:
        if resource in plugin.resources:
            plugin.validate(store, old, new)
