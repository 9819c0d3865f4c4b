"""Garbage collector and namespace controller pure parts: owner resolution, policies, deletion conditions."""

from __future__ import annotations

from harness.clusters.embedded.controllers.garbage_collector import (
    deletion_policy,
    gc_key,
    monitored_resources,
    owner_resource,
    split_key,
)
from harness.clusters.embedded.controllers.namespace import (
    deletion_conditions,
    merge_conditions,
    namespaced_resources,
)


def test_owner_references_resolve_to_resources() -> None:
    rs = owner_resource({"apiVersion": "apps/v1", "kind": "ReplicaSet"})
    assert rs is not None and rs.plural == "replicasets" and rs.namespaced
    old = owner_resource({"apiVersion": "extensions/v1beta1", "kind": "Deployment"})
    assert old is not None and old.plural == "deployments"
    assert owner_resource({"apiVersion": "example.com/v1", "kind": "Widget"}) is None


def test_gc_keys_round_trip_and_cover_owners_and_dependents() -> None:
    assert split_key(gc_key("pods", "ns", "p")) == ("pods", "ns", "p")
    assert split_key(gc_key("persistentvolumes", "", "pv")) == ("persistentvolumes", "", "pv")
    watched = monitored_resources()
    for plural in ("pods", "replicasets", "deployments", "secrets", "services", "configmaps"):
        assert plural in watched
    assert "events" not in watched


def test_dependents_are_deleted_with_the_policy_their_finalizers_ask_for() -> None:
    assert deletion_policy({"metadata": {}}) == "Background"
    assert deletion_policy({"metadata": {"finalizers": ["foregroundDeletion"]}}) == "Foreground"
    assert deletion_policy({"metadata": {"finalizers": ["orphan"]}}) == "Orphan"


def test_namespace_deletion_conditions_match_kube_controller_manager() -> None:
    conds = {
        c["type"]: c
        for c in deletion_conditions({"pods.": 2, "deployments.apps": 1}, {"kubernetes.io/pvc-protection": 1})
    }
    assert len(conds) == 5
    assert conds["NamespaceContentRemaining"]["message"] == (
        "Some resources are remaining: "
        "deployments.apps has 1 resource instances, pods. has 2 resource instances"
    )
    assert conds["NamespaceFinalizersRemaining"]["message"] == (
        "Some content in the namespace has finalizers remaining: "
        "kubernetes.io/pvc-protection in 1 resource instances"
    )
    assert conds["NamespaceDeletionDiscoveryFailure"]["status"] == "False"
    done = {c["type"]: c for c in deletion_conditions({}, {})}
    assert (done["NamespaceContentRemaining"]["status"], done["NamespaceContentRemaining"]["reason"]) == (
        "False",
        "ContentRemoved",
    )


def test_unchanged_conditions_keep_their_transition_time() -> None:
    old = [{"type": "A", "status": "True", "lastTransitionTime": "t0", "reason": "x", "message": ""}]
    new = [{"type": "A", "status": "True", "lastTransitionTime": "t1", "reason": "x", "message": ""}]
    assert merge_conditions(old, new)[0]["lastTransitionTime"] == "t0"
    flipped = [{**new[0], "status": "False"}]
    assert merge_conditions(old, flipped)[0]["lastTransitionTime"] == "t1"


def test_namespace_content_covers_namespaced_stored_resources_only() -> None:
    plurals = {p for p, _ in namespaced_resources()}
    assert {"pods", "persistentvolumeclaims", "deployments", "events", "rolebindings"} <= plurals
    assert not plurals & {"namespaces", "persistentvolumes", "nodes", "storageclasses", "clusterroles"}
