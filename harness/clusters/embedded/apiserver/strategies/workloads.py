"""Deployments and ReplicaSets (pkg/registry/apps/deployment, .../replicaset): replicas, rollout and
pod-template defaults, a selector that must match the template and never changes, and their
``kubectl get`` columns.
"""

from __future__ import annotations

import json
from typing import Any

from ..field import FieldError, invalid, required
from ..resource import RW, Resource
from ..selectors import META_FIELDS, field_getter, labels_match, selector_from_match
from ..strategy import Strategy
from ..tables import age, none_if_empty
from .podspec import pod_spec_defaults, validate_pod_spec

Obj = dict[str, Any]

DEPLOYMENTS = Resource(
    "deployments", "deployment", "Deployment", "apps", "v1", True, ("deploy",), RW, ("status", "scale"),
    ("all",),
)  # fmt: skip
REPLICA_SETS = Resource(
    "replicasets", "replicaset", "ReplicaSet", "apps", "v1", True, ("rs",), RW, ("status", "scale"), ("all",)
)


def _template_errors(spec: Obj) -> list[FieldError]:
    errs = validate_pod_spec((spec.get("template") or {}).get("spec") or {}, "spec.template.spec")
    selector = spec.get("selector")
    if not selector:
        return [*errs, required("spec.selector")]
    template_meta = (spec.get("template") or {}).get("metadata") or {}
    if not labels_match(selector_from_match(selector), {"metadata": template_meta}):
        labels = template_meta.get("labels") or {}
        shown = ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in sorted(labels.items()))
        mismatch = invalid(
            "spec.template.metadata.labels", None, "`selector` does not match template `labels`"
        )
        errs.append(mismatch.with_value(f"map[string]string{{{shown}}}"))
    return errs


def _containers(spec: Obj) -> tuple[str, str]:
    containers = (((spec.get("template") or {}).get("spec") or {}).get("containers")) or []
    return ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)


def _selector(spec: Obj) -> str:
    return ",".join(
        f"{k}={v}" for k, v in sorted(((spec.get("selector") or {}).get("matchLabels") or {}).items())
    )


class WorkloadStrategy(Strategy):
    """What Deployments and ReplicaSets share; their own defaults and columns are in the subclasses."""

    created_status: Obj | None = {}
    generation = True

    def defaults(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        self.rollout_defaults(spec)
        template = spec.setdefault("template", {})
        pod_spec_defaults(template.setdefault("spec", {}))
        template.setdefault("metadata", {}).setdefault("creationTimestamp", None)
        obj.setdefault("status", {})

    def rollout_defaults(self, spec: Obj) -> None:
        """The defaults of the workload's own rollout fields."""

    def validate(self, obj: Obj) -> list[FieldError]:
        return _template_errors(obj.get("spec") or {})

    def validate_update(self, old: Obj, new: Obj) -> list[FieldError]:
        selector = (new.get("spec") or {}).get("selector")
        if (old.get("spec") or {}).get("selector") != selector:
            return [invalid("spec.selector", selector, "field is immutable")]
        return []


class DeploymentStrategy(WorkloadStrategy):
    columns = (("Ready", "string", 0), ("Up-to-date", "integer", 0), ("Available", "integer", 0),
               ("Age", "string", 0), ("Containers", "string", 1), ("Images", "string", 1),
               ("Selector", "string", 1))  # fmt: skip

    def rollout_defaults(self, spec: Obj) -> None:
        spec.setdefault("progressDeadlineSeconds", 600)
        strategy = spec.setdefault("strategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            strategy.setdefault("rollingUpdate", {}).setdefault("maxUnavailable", "25%")
            strategy["rollingUpdate"].setdefault("maxSurge", "25%")

    def row(self, o: Obj) -> list[Any]:
        spec, status = o.get("spec") or {}, o.get("status") or {}
        names, images = _containers(spec)
        ready = f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}"
        return [ready, status.get("updatedReplicas", 0), status.get("availableReplicas", 0), age(o), names,
                images, none_if_empty(_selector(spec))]  # fmt: skip


class ReplicaSetStrategy(WorkloadStrategy):
    # the Go zero value as JSON: ReplicaSetStatus.replicas has no omitempty
    created_status: Obj | None = {"replicas": 0}
    field_labels = {**META_FIELDS, "status.replicas": field_getter("status", "replicas")}
    columns = (("Desired", "integer", 0), ("Current", "integer", 0), ("Ready", "integer", 0),
               ("Age", "string", 0), ("Containers", "string", 1), ("Images", "string", 1),
               ("Selector", "string", 1))  # fmt: skip

    def rollout_defaults(self, spec: Obj) -> None:
        spec.pop("revisionHistoryLimit", None)  # a Deployment's field only

    def row(self, o: Obj) -> list[Any]:
        spec, status = o.get("spec") or {}, o.get("status") or {}
        names, images = _containers(spec)
        return [spec.get("replicas", 1), status.get("replicas", 0), status.get("readyReplicas", 0), age(o),
                names, images, none_if_empty(_selector(spec))]  # fmt: skip


STRATEGIES = (DeploymentStrategy(DEPLOYMENTS), ReplicaSetStrategy(REPLICA_SETS))
