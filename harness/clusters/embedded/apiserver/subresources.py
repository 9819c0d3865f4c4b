"""Computed subresources: ``deployments|replicasets/scale`` (autoscaling/v1 Scale), ``pods/eviction``
(policy/v1 Eviction: a delete), ``pods/binding`` (what the scheduler posts) and
``serviceaccounts/token`` (TokenRequest), as kubectl uses them (``kubectl scale``, ``kubectl drain``,
``kubectl create token``).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from . import errors
from .meta import md
from .patch import apply_patch

if TYPE_CHECKING:
    from .registry import Registry

Obj = dict[str, Any]


def _selector_string(selector: Obj | None) -> str:
    parts = [f"{k}={v}" for k, v in sorted(((selector or {}).get("matchLabels") or {}).items())]
    for e in (selector or {}).get("matchExpressions") or []:
        op = e.get("operator")
        if op in ("In", "NotIn"):
            parts.append(f"{e['key']} {op.lower()} ({','.join(e.get('values') or [])})")
        elif op == "Exists":
            parts.append(e["key"])
        elif op == "DoesNotExist":
            parts.append(f"!{e['key']}")
    return ",".join(parts)


def scale_of(obj: Obj) -> Obj:
    meta = md(obj)
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                     if k in meta},
        "spec": {"replicas": int((obj.get("spec") or {}).get("replicas", 1))},
        "status": {
            "replicas": int((obj.get("status") or {}).get("replicas", 0)),
            "selector": _selector_string((obj.get("spec") or {}).get("selector")),
        },
    }  # fmt: skip


async def get_scale(registry: Registry, resource: str, namespace: str, name: str) -> Obj:
    return scale_of(await registry.get(resource, namespace, name))


async def write_scale(
    registry: Registry, resource: str, namespace: str, name: str, body: Any, patch_type: str | None
) -> Obj:
    """PUT (``patch_type`` None) or PATCH of the Scale: only spec.replicas reaches the workload."""
    obj = await registry.get(resource, namespace, name)
    current = scale_of(obj)
    wanted = apply_patch(current, body, patch_type) if patch_type else body
    if not isinstance(wanted, dict):
        raise errors.bad_request("the body of the request was in an unknown format")
    rv = md(wanted).get("resourceVersion") or md(obj)["resourceVersion"]
    replicas = (wanted.get("spec") or {}).get("replicas", current["spec"]["replicas"])
    if not isinstance(replicas, int) or replicas < 0:
        raise errors.invalid(
            "Scale", name,
            [{"reason": "FieldValueInvalid", "field": "spec.replicas",
              "message": f"Invalid value: {replicas}: must be greater than or equal to 0"}],
            "autoscaling",
        )  # fmt: skip
    obj["spec"]["replicas"] = replicas
    md(obj)["resourceVersion"] = rv
    return scale_of(await registry.update(resource, namespace, obj))


async def evict(registry: Registry, namespace: str, name: str, body: Obj) -> Obj:
    """Eviction without PodDisruptionBudgets: a delete honouring the eviction's DeleteOptions."""
    options = (body or {}).get("deleteOptions") or {}
    await registry.delete(
        "pods",
        namespace,
        name,
        grace_period_seconds=options.get("gracePeriodSeconds"),
        propagation_policy=options.get("propagationPolicy"),
        preconditions=options.get("preconditions"),
    )
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}


async def bind_pod(registry: Registry, namespace: str, name: str, binding: Obj) -> Obj:
    """``pods/binding``: set spec.nodeName once (409 when already bound) and the PodScheduled condition."""
    target = (binding or {}).get("target") or {}
    node = target.get("name")
    if not node:
        raise errors.invalid(
            "Binding",
            name,
            [{"reason": "FieldValueRequired", "message": "Required value", "field": "target.name"}],
        )
    await registry.bind(namespace, name, node)
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}


async def token_request(registry: Registry, namespace: str, name: str, body: Obj) -> Obj:
    """TokenRequest: this cluster's SA tokens do not expire; the expiry echoes the request (default 1h)."""
    token = await registry.service_account_token(namespace, name)
    seconds = int(((body or {}).get("spec") or {}).get("expirationSeconds") or 3600)
    expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    spec = dict((body or {}).get("spec") or {})
    spec.setdefault("audiences", ["https://kubernetes.default.svc.cluster.local"])
    spec["expirationSeconds"] = seconds
    return {
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": None},
        "spec": spec,
        "status": {"token": token, "expirationTimestamp": expiry.strftime("%Y-%m-%dT%H:%M:%SZ")},
    }
