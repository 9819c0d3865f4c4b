"""Defaulting as kube-apiserver applies it on create (pkg/apis/*/v1/defaults.go), for the stored types.

Clients compare what they read back with what real clusters return (e.g. KubeSpawner and kubectl read
``imagePullPolicy``, ``restartPolicy``, PVC ``volumeMode``), so the same defaults are filled in here.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]


def _container(c: Obj) -> None:
    image = c.get("image", "")
    if "imagePullPolicy" not in c:
        tag = image.rsplit("/", 1)[-1]
        latest = "@" not in image and (":" not in tag or tag.endswith(":latest"))
        c["imagePullPolicy"] = "Always" if latest else "IfNotPresent"
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    c.setdefault("resources", {})
    for p in c.get("ports") or []:
        p.setdefault("protocol", "TCP")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        pr = c.get(probe)
        if isinstance(pr, dict):
            pr.setdefault("timeoutSeconds", 1)
            pr.setdefault("periodSeconds", 10)
            pr.setdefault("successThreshold", 1)
            pr.setdefault("failureThreshold", 3)
            if isinstance(pr.get("httpGet"), dict):
                pr["httpGet"].setdefault("path", "/")
                pr["httpGet"].setdefault("scheme", "HTTP")
    for e in c.get("env") or []:
        vf = e.get("valueFrom") or {}
        if isinstance(vf.get("fieldRef"), dict):
            vf["fieldRef"].setdefault("apiVersion", "v1")


def pod_spec(spec: Obj) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("priority", 0)
    for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        _container(c)
    for v in spec.get("volumes") or []:
        if isinstance(v.get("secret"), dict):
            v["secret"].setdefault("defaultMode", 420)
        if isinstance(v.get("configMap"), dict):
            v["configMap"].setdefault("defaultMode", 420)
        if isinstance(v.get("projected"), dict):
            v["projected"].setdefault("defaultMode", 420)
        if isinstance(v.get("hostPath"), dict):
            v["hostPath"].setdefault("type", "")


def pod(obj: Obj) -> None:
    pod_spec(obj.setdefault("spec", {}))
    status = obj.setdefault("status", {})
    status.setdefault("phase", "Pending")
    status.setdefault("qosClass", "BestEffort")


def pvc(obj: Obj) -> None:
    obj.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
    obj.setdefault("status", {}).setdefault("phase", "Pending")


def pv(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
    spec.setdefault("volumeMode", "Filesystem")
    obj.setdefault("status", {}).setdefault("phase", "Pending")


def storageclass(obj: Obj) -> None:
    obj.setdefault("reclaimPolicy", "Delete")
    obj.setdefault("volumeBindingMode", "Immediate")


def namespace(obj: Obj) -> None:
    name = obj["metadata"]["name"]
    obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])


def secret(obj: Obj) -> None:
    """Type Opaque by default; ``stringData`` is folded into ``data`` (base64) and dropped, as real does."""
    obj.setdefault("type", "Opaque")
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict) and string_data:
        data = obj.get("data") or {}
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        obj["data"] = data


def service(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("ipFamilies", ["IPv4"])
    for p in spec.get("ports") or []:
        p.setdefault("protocol", "TCP")
        p.setdefault("targetPort", p.get("port"))
    obj.setdefault("status", {}).setdefault("loadBalancer", {})


def _workload(obj: Obj, deployment: bool) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    if deployment:
        spec.setdefault("progressDeadlineSeconds", 600)
        strategy = spec.setdefault("strategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            strategy.setdefault("rollingUpdate", {}).setdefault("maxUnavailable", "25%")
            strategy["rollingUpdate"].setdefault("maxSurge", "25%")
    else:
        spec.pop("revisionHistoryLimit", None)
    template = spec.setdefault("template", {})
    pod_spec(template.setdefault("spec", {}))
    template.setdefault("metadata", {}).setdefault("creationTimestamp", None)
    obj.setdefault("status", {})


def deployment(obj: Obj) -> None:
    _workload(obj, True)


def replicaset(obj: Obj) -> None:
    _workload(obj, False)


def event(obj: Obj) -> None:
    obj.setdefault("reportingComponent", "")
    obj.setdefault("reportingInstance", "")
    obj.setdefault("eventTime", None)


DEFAULTERS: dict[str, Callable[[Obj], None]] = {
    "pods": pod,
    "persistentvolumeclaims": pvc,
    "persistentvolumes": pv,
    "storageclasses": storageclass,
    "namespaces": namespace,
    "secrets": secret,
    "services": service,
    "deployments": deployment,
    "replicasets": replicaset,
    "events": event,
}


def apply_defaults(resource: str, obj: Obj) -> None:
    fn = DEFAULTERS.get(resource)
    if fn is not None:
        fn(obj)


#: The status a new object starts with, for types whose create strategy discards the client's (it is
#: written via /status later).  Nodes are not here: the kubelet registers its Node with a status.
_CREATED_STATUS: dict[str, Obj] = {
    "pods": {},
    "persistentvolumeclaims": {},
    "persistentvolumes": {},
    "deployments": {},
    "services": {},
    # the Go zero value as JSON: ReplicaSetStatus.replicas has no omitempty
    "replicasets": {"replicas": 0},
    "namespaces": {"phase": "Active"},
}


def status_reset_on_create(resource: str) -> bool:
    """True when the server, not the client, decides a new object's status (so it is not validated)."""
    return resource in _CREATED_STATUS


def prepare_for_create(resource: str, obj: Obj) -> None:
    """``PrepareForCreate`` of the real strategies: a new object starts with the server's status."""
    created = _CREATED_STATUS.get(resource)
    if created is not None:
        obj["status"] = copy.deepcopy(created)
