"""Pods (pkg/registry/core/pod): defaults, the QoS class, what an update may change, graceful deletion of
scheduled pods, field selectors and ``kubectl get pods`` columns.  ServiceAccount and toleration
defaulting are admission plugins (admission.py); binding is ``Registry.bind``.
"""

from __future__ import annotations

from typing import Any

from ..field import FieldError, forbidden
from ..meta import without
from ..resource import RW, Resource
from ..selectors import META_FIELDS, field_getter
from ..strategy import Strategy
from ..tables import age, none_if_empty
from .podspec import pod_spec_defaults, validate_pod_spec

Obj = dict[str, Any]

PODS = Resource(
    "pods",
    "pod",
    "Pod",
    "",
    "v1",
    True,
    ("po",),
    RW,
    ("status", "binding", "log", "exec", "portforward", "eviction"),
    ("all",),
)

_UPDATE_MSG = (
    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
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


def _reason(o: Obj) -> str:
    """The STATUS column: the phase, or what a container waits on or ended with, or Terminating."""
    status = o.get("status") or {}
    reason = status.get("reason") or status.get("phase") or "Pending"
    for c in status.get("containerStatuses") or []:
        state = c.get("state") or {}
        if "waiting" in state and state["waiting"].get("reason"):
            reason = state["waiting"]["reason"]
        elif "terminated" in state:
            t = state["terminated"]
            reason = t.get("reason") or (
                f"Signal:{t['signal']}" if t.get("signal") else f"ExitCode:{t.get('exitCode')}"
            )
    if (o.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Terminating"
    return str(reason)


class PodStrategy(Strategy):
    created_status: Obj | None = {"phase": "Pending"}
    return_deleted_object = True
    field_labels = {
        **META_FIELDS,
        "spec.nodeName": field_getter("spec", "nodeName"),
        "spec.restartPolicy": field_getter("spec", "restartPolicy"),
        "spec.schedulerName": field_getter("spec", "schedulerName"),
        "spec.serviceAccountName": field_getter("spec", "serviceAccountName"),
        "spec.hostNetwork": field_getter("spec", "hostNetwork"),
        "status.phase": field_getter("status", "phase"),
        "status.podIP": field_getter("status", "podIP"),
        "status.nominatedNodeName": field_getter("status", "nominatedNodeName"),
    }
    columns = (("Ready", "string", 0), ("Status", "string", 0), ("Restarts", "string", 0),
               ("Age", "string", 0), ("IP", "string", 1), ("Node", "string", 1),
               ("Nominated Node", "string", 1), ("Readiness Gates", "string", 1))  # fmt: skip

    def defaults(self, obj: Obj) -> None:
        pod_spec_defaults(obj.setdefault("spec", {}))
        status = obj.setdefault("status", {})
        status.setdefault("phase", "Pending")
        status.setdefault("qosClass", "BestEffort")

    def prepare_for_create(self, obj: Obj) -> None:
        obj.setdefault("spec", {})
        obj["status"] = {"phase": "Pending", "qosClass": qos_class(obj)}

    def validate(self, obj: Obj) -> list[FieldError]:
        return validate_pod_spec(obj.get("spec") or {}, "spec")

    def validate_update(self, old: Obj, new: Obj) -> list[FieldError]:
        def mutable_removed(spec: Obj) -> Obj:
            s = without(spec, "activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds")
            for key in ("containers", "initContainers"):
                s[key] = [without(c, "image") for c in s.get(key) or []]
            return s

        if mutable_removed(old.get("spec") or {}) != mutable_removed(new.get("spec") or {}):
            return [forbidden("spec", _UPDATE_MSG)]
        return []

    def grace_period(self, obj: Obj, requested: int | None) -> int:
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        if not spec.get("nodeName") or status.get("phase") in ("Succeeded", "Failed"):
            return 0  # unscheduled or terminated pods go at once
        if requested is not None:
            return max(0, int(requested))
        return int(spec.get("terminationGracePeriodSeconds", 30))

    def row(self, o: Obj) -> list[Any]:
        spec, status = o.get("spec") or {}, o.get("status") or {}
        statuses = status.get("containerStatuses") or []
        ready = sum(1 for c in statuses if c.get("ready"))
        restarts = sum(int(c.get("restartCount") or 0) for c in statuses)
        total = len(spec.get("containers") or [])
        return [f"{ready}/{total}", _reason(o), restarts, age(o), none_if_empty(status.get("podIP")),
                none_if_empty(spec.get("nodeName")), none_if_empty(status.get("nominatedNodeName")),
                "<none>"]  # fmt: skip


STRATEGIES = (PodStrategy(PODS),)
