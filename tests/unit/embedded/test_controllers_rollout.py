"""Rollout arithmetic of the deployment controller: hashes, fenceposts and how far each ReplicaSet scales."""

from __future__ import annotations

from typing import Any

import pytest

from harness.clusters.embedded.controllers.deployment_status import (
    deployment_status,
    set_deployment_condition,
)
from harness.clusters.embedded.controllers.deployments import new_replicaset
from harness.clusters.embedded.controllers.replicasets import (
    deletion_order,
    pod_from_template,
    replicaset_status,
)
from harness.clusters.embedded.controllers.rollout import (
    POD_TEMPLATE_HASH,
    new_rs_new_replicas,
    old_scale_downs,
    pod_template_hash,
    resolve_fenceposts,
    safe_encode,
    templates_equal,
)

TEMPLATE: dict[str, Any] = {
    "metadata": {"labels": {"app": "hub"}},
    "spec": {"containers": [{"name": "hub", "image": "hub:1"}]},
}


def deployment(replicas: int = 3, strategy: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "hub", "namespace": "ns", "uid": "d-uid", "generation": 2},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "hub"}},
            "template": TEMPLATE,
            "strategy": strategy or {"type": "RollingUpdate"},
        },
    }


def rs(name: str, replicas: int, available: int, created: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "creationTimestamp": created},
        "spec": {"replicas": replicas},
        "status": {"replicas": replicas, "availableReplicas": available, "readyReplicas": available},
    }


def test_hash_is_stable_safe_and_changes_with_template_and_collisions() -> None:
    h = pod_template_hash(TEMPLATE)
    assert h == pod_template_hash({**TEMPLATE})
    assert set(h) <= set("bcdfghjklmnpqrstvwxz2456789")
    other = {**TEMPLATE, "spec": {"containers": [{"name": "hub", "image": "hub:2"}]}}
    assert pod_template_hash(other) != h
    assert pod_template_hash(TEMPLATE, 1) != h
    with_label = {"metadata": {"labels": {"app": "hub", POD_TEMPLATE_HASH: h}}, "spec": TEMPLATE["spec"]}
    assert pod_template_hash(with_label) == h and templates_equal(with_label, TEMPLATE)


def test_safe_encode_maps_digits_like_apimachinery() -> None:
    # rand.SafeEncodeString maps byte b to alphanums[b % 27]; "0" is 48 -> index 21
    assert safe_encode("0") == "bcdfghjklmnpqrstvwxz2456789"[48 % 27]


@pytest.mark.parametrize(
    ("replicas", "rolling", "expected"),
    [
        (4, {}, (1, 1)),  # 25% rounds surge up and unavailable down
        (1, {}, (1, 0)),
        (10, {"maxSurge": 0, "maxUnavailable": 0}, (0, 1)),  # both zero: unavailable becomes 1
        (10, {"maxSurge": "50%", "maxUnavailable": 2}, (5, 2)),
    ],
)
def test_fenceposts(replicas: int, rolling: dict[str, Any], expected: tuple[int, int]) -> None:
    d = deployment(replicas, {"type": "RollingUpdate", "rollingUpdate": rolling} if rolling else None)
    assert resolve_fenceposts(d) == expected


def test_recreate_has_no_fenceposts() -> None:
    assert resolve_fenceposts(deployment(3, {"type": "Recreate"})) == (0, 0)


def test_new_rs_scales_up_within_surge() -> None:
    d = deployment(4)  # surge 1
    assert new_rs_new_replicas(d, all_rs_replicas=4, new_rs_replicas=0) == 1
    assert new_rs_new_replicas(d, all_rs_replicas=5, new_rs_replicas=1) == 1
    assert new_rs_new_replicas(d, all_rs_replicas=0, new_rs_replicas=0) == 4


def test_old_replicasets_scale_down_keeping_min_available() -> None:
    d = deployment(4)  # maxUnavailable 1 -> minAvailable 3
    new = rs("new", 1, 0)
    old = rs("old", 4, 4)
    assert old_scale_downs(d, new, [old]) == {"old": 3}
    # nothing may go while availability is at the minimum
    assert old_scale_downs(d, rs("new", 1, 0), [rs("old", 3, 3)]) == {"old": 3}
    # unhealthy old replicas go first, regardless of availability budget
    assert old_scale_downs(d, rs("new", 2, 2), [rs("old", 3, 1)]) == {"old": 1}


def test_new_replicaset_carries_hash_owner_and_revision() -> None:
    d = deployment(2)
    out = new_replicaset(d, 2, revision=3)
    h = out["metadata"]["labels"][POD_TEMPLATE_HASH]
    assert out["metadata"]["name"] == f"hub-{h}"
    assert out["spec"]["selector"]["matchLabels"] == {"app": "hub", POD_TEMPLATE_HASH: h}
    assert out["spec"]["template"]["metadata"]["labels"][POD_TEMPLATE_HASH] == h
    assert out["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    (ref,) = out["metadata"]["ownerReferences"]
    assert ref == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "hub",
        "uid": "d-uid",
        "controller": True,
        "blockOwnerDeletion": True,
    }
    assert "pod-template-hash" not in TEMPLATE["metadata"]["labels"], "the deployment's template is untouched"


def test_deployment_status_counts_and_conditions() -> None:
    d = deployment(2, {"type": "Recreate"})
    new = rs("hub-abc", 2, 2)
    status = deployment_status(d, new, [new], created=False)
    assert status["replicas"] == status["updatedReplicas"] == status["availableReplicas"] == 2
    assert "unavailableReplicas" not in status  # omitempty
    conds = {c["type"]: c for c in status["conditions"]}
    assert conds["Available"]["reason"] == "MinimumReplicasAvailable"
    assert conds["Progressing"]["reason"] == "NewReplicaSetAvailable"
    assert conds["Progressing"]["message"] == 'ReplicaSet "hub-abc" has successfully progressed.'

    half = deployment_status(d, rs("hub-abc", 2, 1), [rs("hub-abc", 2, 1)], created=True)
    conds = {c["type"]: c for c in half["conditions"]}
    assert conds["Available"]["status"] == "False"  # Recreate: maxUnavailable 0
    assert half["unavailableReplicas"] == 1


def test_condition_with_same_status_and_reason_is_left_alone() -> None:
    old = {
        "type": "Available",
        "status": "True",
        "reason": "R",
        "lastTransitionTime": "t0",
        "lastUpdateTime": "t0",
    }
    new = {**old, "lastTransitionTime": "t1", "lastUpdateTime": "t1"}
    assert set_deployment_condition([old], new) == [old]
    changed = set_deployment_condition([old], {**new, "reason": "S"})
    assert changed[0]["lastTransitionTime"] == "t0" and changed[0]["reason"] == "S"


def test_pod_from_template_and_status() -> None:
    owner = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "hub-abc", "namespace": "ns", "uid": "rs-uid", "generation": 4},
        "spec": {
            "replicas": 2,
            "template": {"metadata": {"labels": {"app": "hub"}}, "spec": {"containers": []}},
        },
    }
    pod = pod_from_template(owner)
    assert pod["metadata"]["generateName"] == "hub-abc-"
    assert "name" not in pod["metadata"]
    assert pod["metadata"]["ownerReferences"][0]["uid"] == "rs-uid"
    ready = {**pod, "metadata": {**pod["metadata"], "labels": {"app": "hub"}}}
    ready["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    terminating = {**ready, "metadata": {**ready["metadata"], "deletionTimestamp": "2026-01-01T00:00:00Z"}}
    assert replicaset_status(owner, []) == {"replicas": 0, "observedGeneration": 4}  # zero counts omitted
    status = replicaset_status(owner, [ready, terminating])
    assert status == {
        "replicas": 1,
        "fullyLabeledReplicas": 1,
        "readyReplicas": 1,
        "availableReplicas": 1,
        "observedGeneration": 4,
    }


def test_deletion_order_prefers_unscheduled_pending_unready_newest() -> None:
    def pod(name: str, node: str | None, phase: str, ready: bool, created: str) -> dict[str, Any]:
        return {
            "metadata": {"name": name, "creationTimestamp": created},
            "spec": {"nodeName": node} if node else {},
            "status": {
                "phase": phase,
                "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            },
        }

    pods = [
        pod("running-ready-old", "n", "Running", True, "2026-01-01T00:00:00Z"),
        pod("running-ready-new", "n", "Running", True, "2026-01-02T00:00:00Z"),
        pod("unscheduled", None, "Pending", False, "2026-01-01T00:00:00Z"),
        pod("running-unready", "n", "Running", False, "2026-01-01T00:00:00Z"),
    ]
    assert [p["metadata"]["name"] for p in deletion_order(pods)] == [
        "unscheduled",
        "running-unready",
        "running-ready-new",
        "running-ready-old",
    ]
