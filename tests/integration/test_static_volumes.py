"""create_pv's static volumes on a real cluster: the PV binds a claim by volumeName, the single-user uid
can write through a subPath the kubelet creates, and teardown removes the node directory and the
cluster-wide PV (which deleting the namespace does not)."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.clusters.base import Cluster
from harness.clusters.kube import Kube, wait_for
from harness.hub import deploy
from harness.hub.oneshot import run_to_completion
from harness.hub.static_storage import StaticVolumes, pvc_manifest
from harness.options import HarnessOptions

pytestmark = [pytest.mark.slow, pytest.mark.root]


@pytest.fixture
def run_namespace(cluster: Cluster) -> Iterator[tuple[Kube, str]]:
    kube = Kube.from_kubeconfig(cluster.kubeconfig, cluster.context)
    namespace = deploy.namespace_name("static-volumes")
    deploy.create_namespace(kube, namespace)
    try:
        yield kube, namespace
    finally:
        deploy.delete_namespace(kube, namespace)


def _writer_pod(name: str, claim: str, image: str, pull_policy: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never",
            "securityContext": {"runAsUser": 1000, "runAsGroup": 100, "fsGroup": 100},
            "containers": [
                {
                    "name": "w",
                    "image": image,
                    "imagePullPolicy": pull_policy,
                    "command": ["sh", "-c", "echo written > /data/f.txt && cat /data/f.txt"],
                    "volumeMounts": [{"name": "d", "mountPath": "/data", "subPath": "alice"}],
                }
            ],
            "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": claim}}],
        },
    }


def test_static_volume_binds_takes_writes_through_a_subpath_and_goes_at_teardown(
    cluster: Cluster, options: HarnessOptions, run_namespace: tuple[Kube, str]
) -> None:
    kube, namespace = run_namespace
    host_dir = cluster.host_path_dir()
    if host_dir is None:
        pytest.skip(f"the {cluster.backend} cluster names no node directory (--host-path-dir)")
    images = cluster.images(options.versions)
    static = StaticVolumes(kube, namespace, host_dir, images)
    try:
        pv = static.create("home", "1Gi", ["ReadWriteMany"], "")
        assert pv == f"{namespace}-home"
        kube.create(pvc_manifest("shared", "1Gi", ["ReadWriteMany"], "", pv), namespace=namespace)
        wait_for(
            "claim shared to bind",
            lambda: (
                True
                if ((kube.get("pvc", namespace, "shared") or {}).get("status") or {}).get("phase") == "Bound"
                else None
            ),
            timeout=60,
        )
        assert kube.get("pvc", namespace, "shared")["spec"]["volumeName"] == pv  # type: ignore[index]
        phase, log = run_to_completion(
            kube, namespace, _writer_pod("writer", "shared", images.reader, images.pull_policy), "the writer"
        )
        assert (phase, log.strip()) == ("Succeeded", "written")
        node_dir = Path(static.node_dir("home"))
        if cluster.backend == "embedded":  # the node is this host
            assert oct(node_dir.stat().st_mode & 0o777) == "0o777"
            assert (node_dir / "alice" / "f.txt").read_text() == "written\n"
            assert (node_dir / "alice").stat().st_uid == 0  # made by the kubelet, mode of the root
            assert (node_dir / "alice" / "f.txt").stat().st_uid == 1000
        deploy.delete_workloads(kube, namespace)
        static.remove_dirs()
        if cluster.backend == "embedded":
            assert not Path(posixpath.join(host_dir, namespace)).exists()
            assert os.path.isdir(host_dir)  # only the run's directory goes
    finally:
        deploy.delete_namespace(kube, namespace)
        static.delete_volumes()
    assert kube.get("pv", None, f"{namespace}-home") is None
