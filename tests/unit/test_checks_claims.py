"""Claim-level checks: expect_pvcs' exact set, and the pods that read/write a claim with no server."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest
from kube_fakes import WatchOnce

from harness.checks import files
from harness.checks.errors import CheckFailed
from harness.checks.pvc import expect_pvcs, pvc_set_mismatches
from harness.clusters.base import MANAGED_BY_LABEL, MANAGED_BY_VALUE, HubVersions, Images
from harness.hub import manifests
from harness.hub.existing import ExistingHub

IMAGES = Images(hub="h", proxy="p", singleuser="s", reader="busybox:1.36.1")


def _pvc(name: str, modes: list[str] | None = None, **meta: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, **meta}, "spec": {"accessModes": modes or ["ReadWriteOnce"]}}


def _user_pod(name: str, claim: str, node: str, phase: str = "Running") -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "nodeName": node,
            "volumes": [{"name": "home", "persistentVolumeClaim": {"claimName": claim}}],
        },
        "status": {"phase": phase},
    }


class FakeCore:
    def __init__(self, kube: FakeKube) -> None:
        self.kube = kube

    def delete_namespaced_pod(self, name: str, namespace: str, grace_period_seconds: int = 0) -> None:
        self.kube.deleted.append(name)
        self.kube.pods = [p for p in self.kube.pods if p["metadata"]["name"] != name]


class FakeKube(WatchOnce):
    """PVCs and pods in one namespace; a created claim pod lands on ``node`` and ends as ``phase``."""

    def __init__(self, pvcs: list[dict[str, Any]], pods: list[dict[str, Any]] | None = None) -> None:
        self.pvcs, self.pods = pvcs, list(pods or [])
        self.created: list[dict[str, Any]] = []
        self.deleted: list[str] = []
        self.node, self.phase, self.log = "node-1", "Succeeded", "hello\n"
        self.core = FakeCore(self)

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        items = self.pvcs if kind == "pvc" else self.pods
        return next((copy.deepcopy(o) for o in items if o["metadata"]["name"] == name), None)

    def list(
        self, kind: str, namespace: str | None = None, selector: str | None = None
    ) -> list[dict[str, Any]]:
        return copy.deepcopy(self.pvcs if kind == "pvc" else self.pods)

    def create(self, manifest: dict[str, Any], namespace: str | None = None) -> None:
        pod = copy.deepcopy(manifest)
        pod["spec"]["nodeName"] = self.node
        pod["status"] = {"phase": self.phase}
        self.created.append(manifest)
        self.pods.append(pod)

    def logs(self, namespace: str, pod: str) -> str:
        return self.log


# ------------------------------------------------------------------------------------ expect_pvcs
def test_pvc_set_mismatches_lists_missing_and_unexpected() -> None:
    found = {"claim-alice": _pvc("claim-alice"), "claim-alice-home": _pvc("claim-alice-home")}
    assert pvc_set_mismatches(found, {"claim-alice", "claim-bob"}) == [
        "missing: claim-bob",
        "unexpected: claim-alice-home",
    ]
    assert pvc_set_mismatches(found, set(found)) == []
    terminating = {"claim-alice": _pvc("claim-alice", deletionTimestamp="2024-01-01T00:00:00Z")}
    assert pvc_set_mismatches(terminating, {"claim-alice"}) == ["terminating: claim-alice"]


def test_hub_infrastructure_is_the_hub_db_not_a_step_made_claim() -> None:
    assert manifests.is_hub_infrastructure(manifests.hub_db_pvc())
    step_made = _pvc("static-home", labels={MANAGED_BY_LABEL: MANAGED_BY_VALUE})
    assert not manifests.is_hub_infrastructure(step_made)
    assert not manifests.is_hub_infrastructure(
        _pvc("claim-alice", labels={"component": "singleuser-storage"})
    )


def test_expect_pvcs_fails_with_the_difference_after_settling() -> None:
    kube = FakeKube([manifests.hub_db_pvc(), _pvc("claim-alice"), _pvc("claim-orphan")])

    def counts(obj: dict[str, Any]) -> bool:
        return not manifests.is_hub_infrastructure(obj)

    assert expect_pvcs(kube, "ns", {"claim-alice", "claim-orphan"}, counts, settle=0) == [  # type: ignore[arg-type]
        "claim-alice",
        "claim-orphan",
    ]
    with pytest.raises(CheckFailed) as info:
        expect_pvcs(kube, "ns", {"claim-alice", "claim-bob"}, counts, settle=0)  # type: ignore[arg-type]
    message = str(info.value)
    assert "missing: claim-bob" in message and "unexpected: claim-orphan" in message
    assert "hub-db" not in message


def test_existing_hub_counts_only_the_run_users_claims() -> None:
    hub = ExistingHub(
        url="http://hub", token="t", versions=HubVersions("7.1.0", "6.1.1"), scenario_users=("alice",)
    )
    mine = _pvc("claim-jhsc-alice", annotations={"hub.jupyter.org/username": "jhsc-alice"})
    theirs = _pvc("claim-alice", annotations={"hub.jupyter.org/username": "alice"})
    labelled_only = _pvc("claim-x", labels={"hub.jupyter.org/username": "jhsc-alice"})
    escaped_label = _pvc("claim-y", labels={"hub.jupyter.org/username": "jhsc-2dalice"})
    unowned = _pvc("shared-data")
    assert [hub.is_run_object(p) for p in (mine, theirs, labelled_only, escaped_label, unowned)] == [
        True,
        False,
        True,
        True,
        False,
    ]


# ------------------------------------------------------------------------------ claim reader/writer
def test_writer_pod_runs_as_the_server_user_and_carries_the_content_exactly() -> None:
    content = "cost: $(HOME) $$ 'quoted' \"double\"\nno newline at the end"
    identity = files.ServerIdentity.from_config({"uid": 1000, "fs_gid": 100})
    pod = files.writer_pod_manifest("w", "claim-alice", "notes/$x.txt", content, IMAGES, identity)
    assert pod["spec"]["securityContext"] == {"runAsUser": 1000, "runAsGroup": 100, "fsGroup": 100}
    container = pod["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert base64.b64decode(env["JHSC_CONTENT"]).decode() == content
    assert "$" not in env["JHSC_CONTENT"]  # nothing for the kubelet's $(VAR) expansion
    assert container["command"][-1] == "/pvc/notes/$$x.txt"  # the kubelet reduces $$ to $
    assert pod["spec"]["volumes"][0]["persistentVolumeClaim"] == {
        "claimName": "claim-alice",
        "readOnly": False,
    }
    assert pod["metadata"]["labels"][MANAGED_BY_LABEL] == MANAGED_BY_VALUE


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, files.ServerIdentity(1000, 100, 100)),
        ({"uid": 1234, "gid": 0, "fs_gid": None}, files.ServerIdentity(1234, 0, None)),
        ({"uid": "1234", "fs_gid": True}, files.ServerIdentity(1000, 100, 100)),  # not plain integers
    ],
)
def test_server_identity_follows_the_config_in_force(config: dict[str, Any], expected: Any) -> None:
    assert files.ServerIdentity.from_config(config) == expected


def test_reader_reads_and_is_deleted_afterwards() -> None:
    kube = FakeKube([_pvc("claim-alice")])
    assert files.read_from_pvc(kube, "ns", "claim-alice", "a.txt", IMAGES) == "hello\n"  # type: ignore[arg-type]
    assert kube.pods == [] and len(kube.deleted) == 1


def test_a_missing_claim_fails_before_any_pod_is_made() -> None:
    kube = FakeKube([_pvc("claim-alice")])
    with pytest.raises(CheckFailed, match=r"PVC claim-bob does not exist \(PVCs in ns: claim-alice\)"):
        files.read_from_pvc(kube, "ns", "claim-bob", "a.txt", IMAGES)  # type: ignore[arg-type]
    assert kube.created == []


def test_a_terminating_claim_fails() -> None:
    kube = FakeKube([_pvc("claim-alice", deletionTimestamp="2024-01-01T00:00:00Z")])
    with pytest.raises(CheckFailed, match="being deleted"):
        files.write_to_pvc(kube, "ns", "claim-alice", "a", "x", IMAGES, files.ServerIdentity())  # type: ignore[arg-type]


def test_rwo_in_use_on_the_same_node_is_fine() -> None:
    kube = FakeKube([_pvc("claim-alice")], [_user_pod("jupyter-alice", "claim-alice", "node-1")])
    files.write_to_pvc(kube, "ns", "claim-alice", "a", "x", IMAGES, files.ServerIdentity())  # type: ignore[arg-type]


def test_rwo_in_use_on_another_node_fails_clearly_and_cleans_up() -> None:
    kube = FakeKube([_pvc("claim-alice")], [_user_pod("jupyter-alice", "claim-alice", "node-2")])
    kube.phase = "Pending"
    with pytest.raises(CheckFailed) as info:
        files.read_from_pvc(kube, "ns", "claim-alice", "a", IMAGES)  # type: ignore[arg-type]
    assert "in use by pod jupyter-alice on node node-2" in str(info.value)
    assert "scheduled to node node-1" in str(info.value) and "stop the server first" in str(info.value)
    assert [p["metadata"]["name"] for p in kube.pods] == ["jupyter-alice"]


def test_rwx_in_use_elsewhere_and_finished_users_do_not_matter() -> None:
    kube = FakeKube(
        [_pvc("shared", ["ReadWriteMany"]), _pvc("claim-alice")],
        [_user_pod("a", "shared", "node-2"), _user_pod("b", "claim-alice", "node-2", phase="Succeeded")],
    )
    assert files.read_from_pvc(kube, "ns", "shared", "a", IMAGES) == "hello\n"  # type: ignore[arg-type]
    assert files.read_from_pvc(kube, "ns", "claim-alice", "a", IMAGES) == "hello\n"  # type: ignore[arg-type]


def test_rwop_in_use_fails_before_any_pod_is_made() -> None:
    kube = FakeKube([_pvc("claim-alice", ["ReadWriteOncePod"])], [_user_pod("a", "claim-alice", "node-1")])
    with pytest.raises(CheckFailed, match="ReadWriteOncePod"):
        files.read_from_pvc(kube, "ns", "claim-alice", "a", IMAGES)  # type: ignore[arg-type]
    assert kube.created == []


def test_writer_failure_says_who_wrote_and_what_it_said() -> None:
    kube = FakeKube([_pvc("claim-alice")])
    kube.phase, kube.log = "Failed", "sh: can't create /pvc/a: Permission denied\n"
    with pytest.raises(
        CheckFailed, match=r"uid 1000, gid 100\) failed writing claim-alice:a: sh: can't create"
    ):
        files.write_to_pvc(kube, "ns", "claim-alice", "a", "x", IMAGES, files.ServerIdentity())  # type: ignore[arg-type]


def test_expect_file_on_pvc_compares_presence_and_content() -> None:
    class Expected:
        exists, content = True, "hello\n"

    kube = FakeKube([_pvc("claim-alice")])
    assert (
        files.expect_file_on_pvc(kube, "ns", "claim-alice", "a.txt", Expected, IMAGES)
        == "on PVC claim-alice:a.txt"
    )  # type: ignore[arg-type]
    Expected.content = "other"
    with pytest.raises(CheckFailed, match="expected 'other', got 'hello\\\\n'"):
        files.expect_file_on_pvc(kube, "ns", "claim-alice", "a.txt", Expected, IMAGES)  # type: ignore[arg-type]
    kube.phase, kube.log = "Failed", "cat: can't open '/pvc/a.txt': No such file or directory\n"
    Expected.exists = False
    assert files.expect_file_on_pvc(kube, "ns", "claim-alice", "a.txt", Expected, IMAGES).startswith("absent")  # type: ignore[arg-type]


def test_claim_path_joins_sub_path() -> None:
    assert files.claim_path("home/", "./notes/a.txt") == "home/notes/a.txt"
    assert files.claim_path(None, "a.txt") == "a.txt"
