"""SelfSubjectAccessReview (authorization.k8s.io/v1): what ``kubectl auth can-i`` asks.  Computed per
request from the caller's RBAC, never stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import authz
from ..resource import Resource
from ..strategy import Strategy

if TYPE_CHECKING:
    from ..store import Store

Obj = dict[str, Any]

SELF_SUBJECT_ACCESS_REVIEWS = Resource(
    "selfsubjectaccessreviews", "selfsubjectaccessreview", "SelfSubjectAccessReview", "authorization.k8s.io",
    "v1", False, (), ("create",), stored=False,
)  # fmt: skip


def _attributes(spec: Obj) -> authz.Attributes:
    ra = spec.get("resourceAttributes")
    if ra:
        return authz.Attributes(
            verb=ra.get("verb", ""),
            resource=ra.get("resource", ""),
            group=ra.get("group", ""),
            namespace=ra.get("namespace", ""),
            name=ra.get("name", ""),
            subresource=ra.get("subresource", ""),
        )
    nra = spec.get("nonResourceAttributes")
    return authz.Attributes(verb=(nra or {}).get("verb", ""), path=(nra or {}).get("path", ""))


class SelfSubjectAccessReviewStrategy(Strategy):
    def create_computed(self, store: Store, user: authz.User, body: Obj) -> Obj:
        spec = (body or {}).get("spec") or {}
        allowed = authz.authorize(store, user, _attributes(spec))
        status: Obj = {"allowed": allowed}
        if allowed and authz.MASTERS not in user.groups:
            status["reason"] = "RBAC: allowed"
        return {
            "kind": "SelfSubjectAccessReview",
            "apiVersion": "authorization.k8s.io/v1",
            "metadata": {"creationTimestamp": None},
            "spec": spec,
            "status": status,
        }


STRATEGIES = (SelfSubjectAccessReviewStrategy(SELF_SUBJECT_ACCESS_REVIEWS),)
