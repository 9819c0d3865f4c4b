"""Oracle logic on recorded API objects and mountinfo: each check fails when it should, and says why."""

from __future__ import annotations

from typing import Any

import pytest

from harness.checks.mount import parse_mountinfo, pv_directory, runtime_mismatches, spec_mismatches
from harness.checks.pods import locate
from harness.checks.pvc import pvc_mismatches
from harness.scenario.bodies import ExpectMountStep, ExpectPvcStep

PVC = {
    "metadata": {
        "name": "claim-alice",
        "labels": {"component": "singleuser-storage", "hub.jupyter.org/username": "alice"},
    },
    "spec": {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "2Gi"}},
        "storageClassName": "standard",
        "volumeName": "pvc-123",
    },
    "status": {"phase": "Bound"},
}

POD: dict[str, Any] = {
    "metadata": {"name": "jupyter-alice"},
    "spec": {
        "containers": [
            {
                "name": "notebook",
                "workingDir": "/home/jovyan",
                "volumeMounts": [
                    {"name": "home", "mountPath": "/home/jovyan", "subPath": "value"},
                    {"name": "scratch", "mountPath": "/home/jovyan/scratch"},
                    {"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"},
                ],
            }
        ],
        "volumes": [
            {"name": "home", "persistentVolumeClaim": {"claimName": "claim-jupyterhub-single"}},
            {"name": "scratch", "emptyDir": {}},
            {"name": "kube-api-access", "projected": {}},
        ],
    },
}

MOUNTINFO = """\
600 500 0:50 / / rw,relatime - overlay overlay rw,lowerdir=/x
601 600 8:1 /opt/realk8s/hostpath_pv/pvc-123/value /home/jovyan rw,relatime - ext4 /dev/vda rw
602 601 0:51 / /home/jovyan/scratch rw - tmpfs tmpfs rw
603 600 8:1 /var/lib/kubelet/pods/x/etc-hosts /etc/hosts rw - ext4 /dev/vda rw
604 600 8:1 /with\\040space /mnt/a\\040b ro,relatime - ext4 /dev/vda rw
"""


def test_pvc_matches_when_everything_agrees() -> None:
    body = ExpectPvcStep(
        name="claim-alice",
        size="2Gi",
        storage_class="standard",
        access_modes=["ReadWriteOnce"],
        phase="Bound",
        labels={"component": "singleuser-storage"},
    )
    assert pvc_mismatches(PVC, body) == []


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"size": "1Gi"}, "size"),
        ({"storage_class": "fast"}, "storageClassName"),
        ({"access_modes": ["ReadWriteMany"]}, "accessModes"),
        ({"phase": "Pending"}, "phase"),
        ({"labels": {"hub.jupyter.org/username": "bob"}}, "labels"),
    ],
)
def test_pvc_each_field_can_fail(fields: dict[str, Any], needle: str) -> None:
    problems = pvc_mismatches(PVC, ExpectPvcStep(name="claim-alice", **fields))
    assert len(problems) == 1 and needle in problems[0]


def test_pvc_presence_and_absence() -> None:
    assert "does not exist" in pvc_mismatches(None, ExpectPvcStep(name="claim-wrong"))[0]
    assert pvc_mismatches(None, ExpectPvcStep(name="x", exists=False)) == []
    assert (
        "expected it to be absent" in pvc_mismatches(PVC, ExpectPvcStep(name="claim-alice", exists=False))[0]
    )
    terminating = {**PVC, "metadata": {**PVC["metadata"], "deletionTimestamp": "2026-01-01T00:00:00Z"}}
    assert "terminating" in pvc_mismatches(terminating, ExpectPvcStep(name="claim-alice", exists=False))[0]
    assert "being deleted" in pvc_mismatches(terminating, ExpectPvcStep(name="claim-alice"))[0]


def test_mount_spec() -> None:
    ok = ExpectMountStep(
        user="alice", path="/home/jovyan/", claim="claim-jupyterhub-single", sub_path="value"
    )
    assert spec_mismatches(POD, ok) == []
    wrong_claim = ExpectMountStep(user="alice", path="/home/jovyan", claim="claim-alice")
    assert (
        "uses claim 'claim-jupyterhub-single', expected 'claim-alice'" in spec_mismatches(POD, wrong_claim)[0]
    )
    wrong_sub = ExpectMountStep(user="alice", path="/home/jovyan", sub_path="")
    assert "subPath 'value'" in spec_mismatches(POD, wrong_sub)[0]
    missing = ExpectMountStep(user="alice", path="/data")
    assert "no volumeMount at /data" in spec_mismatches(POD, missing)[0]
    assert spec_mismatches(POD, ExpectMountStep(user="alice", path="/data", exists=False)) == []


def test_parse_mountinfo_unescapes() -> None:
    entries = parse_mountinfo(MOUNTINFO)
    assert (
        entries[1].root == "/opt/realk8s/hostpath_pv/pvc-123/value"
        and entries[1].mount_point == "/home/jovyan"
    )
    assert entries[4].mount_point == "/mnt/a b" and "ro" in entries[4].options


def test_runtime_mount_root_must_be_the_pv_dir_plus_subpath() -> None:
    entries = parse_mountinfo(MOUNTINFO)
    pv_dir = pv_directory({"spec": {"hostPath": {"path": "/tmp/hostpath_pv/pvc-123"}}})
    assert runtime_mismatches(entries, "/home/jovyan", True, pv_dir, "value", None) == []
    # subPath ignored by a runtime, or the wrong volume: caught
    assert runtime_mismatches(entries, "/home/jovyan", True, pv_dir, "", None)
    assert runtime_mismatches(entries, "/home/jovyan", True, "/tmp/hostpath_pv/pvc-999", "value", None)
    assert "not a mount point" in runtime_mismatches(entries, "/data", True, pv_dir, "", None)[0]
    assert runtime_mismatches(entries, "/data", False, None, "", None) == []
    assert runtime_mismatches(entries, "/mnt/a b", True, None, "", True) == []
    assert runtime_mismatches(entries, "/home/jovyan", True, pv_dir, "value", True)


def test_locate_picks_the_deepest_mount_and_adds_subpath() -> None:
    home = locate(POD, "/home/jovyan/notes/a.txt")
    assert (
        home is not None
        and home.claim == "claim-jupyterhub-single"
        and home.path_in_volume == "value/notes/a.txt"
    )
    scratch = locate(POD, "/home/jovyan/scratch/x")
    assert scratch is not None and scratch.claim is None and scratch.path_in_volume == "x"
    assert locate(POD, "/tmp/x") is None
    assert locate(POD, "/home/jovyanx/a") is None
