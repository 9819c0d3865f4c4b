"""Pure storage logic: static binding choice, the provisioned PV, safe directory removal, pod/claim use."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.clusters.embedded.controllers.hostpath import (
    PROVISIONER,
    UnsafeVolumeDir,
    make_volume_dir,
    mount_points,
    owned_volume_dir,
    pv_manifest,
    remove_volume_dir,
)
from harness.clusters.embedded.controllers.pv_provisioner import claim_class, find_best_match
from harness.clusters.embedded.controllers.pvc_protection import claims_of_pod, pod_blocks_claim


def pvc(size: str = "1Gi", cls: str | None = "standard", **spec: Any) -> dict[str, Any]:
    s: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": size}},
        **spec,
    }
    if cls is not None:
        s["storageClassName"] = cls
    return {
        "metadata": {"name": "home", "namespace": "ns", "uid": "c-uid", "resourceVersion": "7"},
        "spec": s,
    }


def pv(name: str, size: str, cls: str = "standard", **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"tier": "fast"}},
        "spec": {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce", "ReadOnlyMany"],
                 "storageClassName": cls, **spec},
        "status": {"phase": "Available"},
    }  # fmt: skip


def test_best_match_is_smallest_fitting_volume_of_the_class() -> None:
    volumes = [pv("big", "10Gi"), pv("small", "500Mi"), pv("fit", "2Gi"), pv("other", "1Gi", cls="slow")]
    assert find_best_match(pvc("1Gi"), volumes)["metadata"]["name"] == "fit"  # type: ignore[index]
    assert find_best_match(pvc("20Gi"), volumes) is None


def test_best_match_respects_prebinding_access_modes_and_selector() -> None:
    claimed = pv("claimed", "1Gi", claimRef={"name": "someone", "namespace": "ns", "uid": "x"})
    prebound = pv("mine", "5Gi", claimRef={"name": "home", "namespace": "ns"})
    assert find_best_match(pvc(), [claimed]) is None
    assert find_best_match(pvc(), [pv("a", "1Gi"), prebound])["metadata"]["name"] == "mine"  # type: ignore[index]
    rwx = pvc(accessModes=["ReadWriteMany"])
    assert find_best_match(rwx, [pv("a", "1Gi")]) is None
    selecting = pvc(selector={"matchLabels": {"tier": "slow"}})
    assert find_best_match(selecting, [pv("a", "1Gi")]) is None


def test_claim_class_prefers_beta_annotation() -> None:
    c = pvc(cls="standard")
    c["metadata"]["annotations"] = {"volume.beta.kubernetes.io/storage-class": "legacy"}
    assert claim_class(c) == "legacy"
    assert claim_class(pvc(cls=None)) == ""


def test_pv_manifest_points_back_at_the_claim(tmp_path: Path) -> None:
    sc = {"metadata": {"name": "standard"}, "provisioner": PROVISIONER, "reclaimPolicy": "Retain"}
    out = pv_manifest(pvc("3Gi"), sc, tmp_path / "pvc-c-uid")
    assert out["metadata"] == {
        "name": "pvc-c-uid",
        "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER},
    }
    spec = out["spec"]
    assert spec["capacity"] == {"storage": "3Gi"}
    assert spec["claimRef"] == {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "name": "home",
        "namespace": "ns",
        "resourceVersion": "7",
        "uid": "c-uid",
    }
    assert spec["persistentVolumeReclaimPolicy"] == "Retain"
    assert spec["hostPath"]["path"] == str(tmp_path / "pvc-c-uid")


def _provisioned(volumes: Path, name: str = "pvc-1") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER}},
        "spec": {"hostPath": {"path": str(volumes / name)}},
    }


def test_only_our_own_volume_directories_are_deletable(tmp_path: Path) -> None:
    volumes = tmp_path / "volumes"
    assert owned_volume_dir(_provisioned(volumes), volumes) == volumes / "pvc-1"
    foreign = _provisioned(volumes)
    foreign["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] = "rancher.io/local-path"
    assert owned_volume_dir(foreign, volumes) is None
    elsewhere = _provisioned(volumes)
    elsewhere["spec"]["hostPath"]["path"] = "/home"
    assert owned_volume_dir(elsewhere, volumes) is None
    escaping = _provisioned(volumes, name="pvc-1/../../etc")
    assert owned_volume_dir(escaping, volumes) is None


def test_volume_dir_is_root_0755_and_removal_is_confined(tmp_path: Path) -> None:
    volumes = tmp_path / "volumes"
    path = volumes / "pvc-1"
    make_volume_dir(path)
    assert path.stat().st_mode & 0o777 == 0o755
    (path / "sub").mkdir()
    (path / "sub" / "f").write_text("x")
    outside = tmp_path / "precious"
    outside.mkdir()
    (path / "link").symlink_to(outside)
    remove_volume_dir(path, volumes)
    assert not path.exists() and outside.exists(), "symlinks inside are removed, never followed"
    remove_volume_dir(path, volumes)  # already gone: fine

    link = volumes / "pvc-2"
    link.symlink_to(outside)
    with pytest.raises(UnsafeVolumeDir):
        remove_volume_dir(link, volumes)
    assert outside.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount")
@pytest.mark.parametrize("mount", [["-t", "tmpfs", "none"], ["--bind"]])
def test_removal_refuses_to_cross_a_mount(tmp_path: Path, mount: list[str]) -> None:
    """Also a bind mount from the same filesystem, which st_dev comparisons would not notice."""
    volumes = tmp_path / "volumes"
    path = volumes / "pvc-1"
    make_volume_dir(path)
    inner = path / "mnt"
    inner.mkdir()
    precious = tmp_path / "precious"
    precious.mkdir()
    source = [str(precious)] if mount == ["--bind"] else []
    subprocess.run(["mount", *mount, *source, str(inner)], check=True)
    try:
        (inner / "keep").write_text("x")
        with pytest.raises(UnsafeVolumeDir):
            remove_volume_dir(path, volumes)
        assert (inner / "keep").exists()
    finally:
        subprocess.run(["umount", str(inner)], check=True)


def test_mountinfo_paths_are_unescaped(tmp_path: Path) -> None:
    info = tmp_path / "mountinfo"
    info.write_text("36 35 98:0 / /mnt/with\\040space rw - ext3 /dev/root rw\n")
    assert mount_points(str(info)) == ["/mnt/with space"]


def _user_pod(node: str | None = "n", phase: str = "Running") -> dict[str, Any]:
    spec: dict[str, Any] = {
        "volumes": [
            {"name": "home", "persistentVolumeClaim": {"claimName": "claim-a"}},
            {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {}}},
            {"name": "tmp", "emptyDir": {}},
        ]
    }
    if node:
        spec["nodeName"] = node
    return {"metadata": {"name": "jupyter-a"}, "spec": spec, "status": {"phase": phase}}


def test_claims_of_pod_include_generic_ephemeral_volumes() -> None:
    assert claims_of_pod(_user_pod()) == {"claim-a", "jupyter-a-scratch"}


def test_only_scheduled_unfinished_pods_block_claim_removal() -> None:
    assert pod_blocks_claim(_user_pod(), "claim-a")
    assert not pod_blocks_claim(_user_pod(), "claim-b")
    assert not pod_blocks_claim(_user_pod(node=None), "claim-a")
    assert not pod_blocks_claim(_user_pod(phase="Succeeded"), "claim-a")


def test_delayed_binding_only_takes_a_volume_prebound_to_the_claim() -> None:
    free = pv("free", "1Gi")
    prebound = pv("mine", "1Gi", claimRef={"name": "home", "namespace": "ns"})
    assert find_best_match(pvc(), [free], prebound_only=True) is None
    assert find_best_match(pvc(), [free, prebound], prebound_only=True) is prebound
