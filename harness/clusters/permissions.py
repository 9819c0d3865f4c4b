"""Permission preflight for clusters the harness does not own (the ``existing`` backend).

On a shared cluster the harness runs with whatever the user's kubeconfig grants.  Finding out on step
seven of a scenario that it may not create a RoleBinding wastes a run and leaves half-made objects, so
before anything is created every needed (verb, resource, group, namespace) is asked of the API server
with a SelfSubjectAccessReview, and all the missing ones are reported at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.clusters.base import ClusterError


@dataclass(frozen=True)
class Need:
    """One permission the harness needs: ``verb`` on ``resource`` (``pods/exec`` style for subresources)."""

    verb: str
    resource: str
    group: str = ""
    #: None for cluster-scoped resources (namespaces, storageclasses, persistentvolumes).
    namespace: str | None = None

    @property
    def resource_name(self) -> str:
        return self.resource.split("/", 1)[0]

    @property
    def subresource(self) -> str:
        return self.resource.split("/", 1)[1] if "/" in self.resource else ""

    def describe(self) -> str:
        where = f"in namespace {self.namespace}" if self.namespace else "cluster-wide"
        return f'cannot {self.verb} {self.resource} {where} (group "{self.group}")'


@dataclass(frozen=True)
class Decision:
    """The API server's answer for one ``Need``."""

    need: Need
    allowed: bool
    reason: str = ""
    evaluation_error: str = ""


def harness_needs(namespace: str) -> list[Need]:
    """What deploying, driving and checking a hub in ``namespace`` does on the cluster.

    The hub's Role is included verb by verb: RBAC refuses to create a Role granting more than the
    creator holds, so each of its rules is a need of the harness too.
    """
    core_rw = ["get", "list", "watch", "create", "delete"]
    needs = [Need(verb, "namespaces") for verb in ("get", "create", "delete")]
    needs += [Need("get", "storageclasses", "storage.k8s.io"), Need("list", "persistentvolumes")]
    for resource in ("pods", "persistentvolumeclaims", "secrets", "services"):
        needs += [Need(verb, resource, "", namespace) for verb in core_rw]
    for resource in ("configmaps", "serviceaccounts"):
        needs += [Need(verb, resource, "", namespace) for verb in ("get", "create", "delete")]
    needs += [Need(verb, "events", "", namespace) for verb in ("get", "list", "watch")]
    needs += [Need("get", "pods/log", "", namespace), Need("create", "pods/exec", "", namespace)]
    needs += [
        Need(verb, "deployments", "apps", namespace) for verb in ("get", "list", "create", "patch", "delete")
    ]
    for resource in ("roles", "rolebindings"):
        needs += [
            Need(verb, resource, "rbac.authorization.k8s.io", namespace) for verb in ("create", "delete")
        ]
    return needs


def missing_permissions_message(denied: Sequence[Decision], *, who: str) -> str:
    """The error text for the denied needs: one line each, and what to do about it."""
    lines = [f"{who} lacks {len(denied)} permission(s) the harness needs:"]
    for decision in denied:
        line = f"  missing permission: {decision.need.describe()}"
        detail = "; ".join(part for part in (decision.reason, decision.evaluation_error) if part)
        lines.append(f"{line}: {detail}" if detail else line)
    lines.append(
        "Ask a cluster admin to grant these (a Role in the namespace, a ClusterRole for cluster-wide "
        "ones), or run with --cluster embedded / --cluster kind."
    )
    return "\n".join(lines)


def review(api_client: Any, needs: Iterable[Need]) -> list[Decision]:
    """Ask the API server about each need with a SelfSubjectAccessReview (allowed for any user)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    authz = client.AuthorizationV1Api(api_client)
    decisions = []
    for need in needs:
        body = client.V1SelfSubjectAccessReview(
            spec=client.V1SelfSubjectAccessReviewSpec(
                resource_attributes=client.V1ResourceAttributes(
                    verb=need.verb,
                    resource=need.resource_name,
                    subresource=need.subresource or None,
                    group=need.group,
                    namespace=need.namespace,
                )
            )
        )
        try:
            status = authz.create_self_subject_access_review(body).status
        except ApiException as exc:
            raise ClusterError(
                f"could not ask the API server whether we may {need.verb} {need.resource}: "
                f"HTTP {exc.status} {exc.reason}: {exc.body}"
            ) from exc
        if status is None:
            raise ClusterError(
                f"the API server returned no status for a review of {need.verb} {need.resource}"
            )
        decisions.append(
            Decision(
                need=need,
                allowed=bool(status.allowed),
                reason=status.reason or "",
                evaluation_error=status.evaluation_error or "",
            )
        )
    return decisions


def require_permissions(kubeconfig: Path | str, context: str | None, needs: Iterable[Need]) -> None:
    """Raise ``ClusterError`` listing every need the kubeconfig's user is not allowed."""
    from kubernetes import config

    api_client = config.new_client_from_config(config_file=str(kubeconfig), context=context)
    try:
        denied = [decision for decision in review(api_client, needs) if not decision.allowed]
    finally:
        api_client.close()
    if denied:
        who = f"the user of context {context!r}" if context else "the current context's user"
        raise ClusterError(missing_permissions_message(denied, who=f"{who} in {kubeconfig}"))
