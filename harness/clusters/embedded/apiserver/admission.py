"""Mutating/validating admission that a default kube-apiserver runs on create, for the stored types.

NamespaceLifecycle (no new content in a Terminating namespace), ServiceAccount (pod's SA must exist; the
``kube-api-access-*`` projected token volume), DefaultTolerationSeconds, DefaultStorageClass,
StorageObjectInUse
protection finalizers, and Service ClusterIP allocation.  Messages are the real plugins' messages.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from . import errors
from .meta import md, random_suffix

if TYPE_CHECKING:
    from ..config import ClusterConfig
    from .store import Store

Obj = dict[str, Any]

SA_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"
DEFAULT_SC_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


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


def default_tolerations(pod: Obj) -> None:
    tolerations = pod["spec"].setdefault("tolerations", [])
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if not any(t.get("key") == key for t in tolerations):
            tolerations.append(
                {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            )


def qos_class(pod: Obj) -> str:
    """Pod QoS class (pkg/apis/core/helper/qos) from container requests/limits."""
    requests_any = False
    guaranteed = True
    for c in pod["spec"].get("containers") or []:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if req or lim:
            requests_any = True
        for r in ("cpu", "memory"):
            if r not in lim or (r in req and str(req[r]) != str(lim[r])):
                guaranteed = False
    if not requests_any:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def default_storage_class(store: Store, pvc: Obj) -> None:
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


def protection_finalizer(obj: Obj, finalizer: str) -> None:
    finalizers = md(obj).setdefault("finalizers", [])
    if finalizer not in finalizers:
        finalizers.append(finalizer)


def allocate_cluster_ip(store: Store, config: ClusterConfig, svc: Obj) -> None:
    """Allocate ``spec.clusterIP`` from the service CIDR (first address is the ``kubernetes`` Service's)."""
    spec = svc.setdefault("spec", {})
    if spec.get("type") == "ExternalName":
        return
    requested = spec.get("clusterIP") or (spec.get("clusterIPs") or [None])[0]
    if requested == "None":
        spec["clusterIP"] = "None"
        spec["clusterIPs"] = ["None"]
        return
    net = ipaddress.ip_network(config.service_cidr, strict=False)
    services, _ = store.list("services")
    used = {s.get("spec", {}).get("clusterIP") for s in services}
    if requested:
        try:
            ip = ipaddress.ip_address(requested)
        except ValueError:
            ip = None
        if ip is None or ip not in net or ip in (net.network_address, net.broadcast_address):
            raise _ip_invalid(
                svc,
                requested,
                f"the provided IP ({requested}) is not in the valid range. The range of valid IPs is {net}",
            )
        if requested in used:
            raise _ip_invalid(
                svc, requested, f"failed to allocate IP {requested}: provided IP is already allocated"
            )
        chosen = requested
    else:
        reserved = config.kubernetes_service_ip
        free = (str(h) for h in net.hosts() if str(h) not in used and str(h) != reserved)
        chosen = next(free, "")
        if not chosen:
            raise errors.internal("failed to allocate a serviceIP: range is full")
    spec["clusterIP"] = chosen
    spec["clusterIPs"] = [chosen]


def _ip_invalid(svc: Obj, ip: str, message: str) -> errors.ApiError:
    return errors.invalid(
        "Service",
        md(svc).get("name", ""),
        [
            {
                "reason": "FieldValueInvalid",
                "message": f'Invalid value: []string{{"{ip}"}}: {message}',
                "field": "spec.clusterIPs",
            }
        ],
    )
