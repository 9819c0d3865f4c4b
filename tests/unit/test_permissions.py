"""The permission preflight's message and need list, as pure logic."""

from __future__ import annotations

from harness.clusters.permissions import Decision, Need, harness_needs, missing_permissions_message
from harness.hub.manifests import rbac


def test_a_namespaced_need_names_verb_resource_namespace_and_group() -> None:
    need = Need("create", "persistentvolumeclaims", "", "jhsc-x")
    assert need.describe() == 'cannot create persistentvolumeclaims in namespace jhsc-x (group "")'


def test_a_cluster_scoped_need_says_so() -> None:
    assert Need("get", "storageclasses", "storage.k8s.io").describe() == (
        'cannot get storageclasses cluster-wide (group "storage.k8s.io")'
    )


def test_a_subresource_is_split_for_the_review_but_shown_whole() -> None:
    need = Need("create", "pods/exec", "", "ns")
    assert (need.resource_name, need.subresource) == ("pods", "exec")
    assert need.describe() == 'cannot create pods/exec in namespace ns (group "")'
    assert Need("get", "pods").subresource == ""


def test_the_message_lists_every_missing_permission_with_the_authorizer_reason() -> None:
    denied = [
        Decision(Need("create", "persistentvolumeclaims", "", "jhsc-x"), allowed=False),
        Decision(
            Need("create", "rolebindings", "rbac.authorization.k8s.io", "jhsc-x"),
            allowed=False,
            reason="no RBAC policy matched",
            evaluation_error="clusterrole edit not found",
        ),
    ]
    message = missing_permissions_message(denied, who="the user of context 'prod'")
    assert message.splitlines() == [
        "the user of context 'prod' lacks 2 permission(s) the harness needs:",
        '  missing permission: cannot create persistentvolumeclaims in namespace jhsc-x (group "")',
        "  missing permission: cannot create rolebindings in namespace jhsc-x"
        ' (group "rbac.authorization.k8s.io"): no RBAC policy matched; clusterrole edit not found',
        "Ask a cluster admin to grant these (a Role in the namespace, a ClusterRole for cluster-wide ones), "
        "or run with --cluster embedded / --cluster kind.",
    ]


def test_the_harness_needs_everything_the_hub_role_grants() -> None:
    """RBAC escalation prevention: creating the hub Role needs each of its rules held by the creator."""
    needs = set(harness_needs("jhsc-x"))
    role = next(obj for obj in rbac() if obj["kind"] == "Role")
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for verb in rule["verbs"]:
                    assert Need(verb, resource, group, "jhsc-x") in needs, (verb, resource, group)


def test_the_harness_needs_are_unique_and_in_the_namespace_unless_cluster_scoped() -> None:
    needs = harness_needs("jhsc-x")
    assert len(needs) == len(set(needs))
    cluster_scoped = {"namespaces", "storageclasses", "persistentvolumes"}
    for need in needs:
        assert (need.namespace is None) == (need.resource in cluster_scoped), need
