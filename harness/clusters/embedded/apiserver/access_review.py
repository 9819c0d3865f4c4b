"""SelfSubjectAccessReview (authorization.k8s.io/v1): what ``kubectl auth can-i`` asks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import authz

if TYPE_CHECKING:
    from .registry import Registry


def self_subject_access_review(registry: Registry, user: authz.User, body: dict[str, Any]) -> dict[str, Any]:
    spec = (body or {}).get("spec") or {}
    ra = spec.get("resourceAttributes")
    nra = spec.get("nonResourceAttributes")
    if ra:
        attrs = authz.Attributes(
            verb=ra.get("verb", ""),
            resource=ra.get("resource", ""),
            group=ra.get("group", ""),
            namespace=ra.get("namespace", ""),
            name=ra.get("name", ""),
            subresource=ra.get("subresource", ""),
        )
    else:
        attrs = authz.Attributes(verb=(nra or {}).get("verb", ""), path=(nra or {}).get("path", ""))
    allowed = authz.authorize(registry.store, user, attrs)
    status: dict[str, Any] = {"allowed": allowed}
    if allowed and authz.MASTERS not in user.groups:
        status["reason"] = "RBAC: allowed"
    return {
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": spec,
        "status": status,
    }
