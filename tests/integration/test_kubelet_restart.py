"""Node restart and crash recovery of the embedded kubelet (stop+start, and SIGKILL of the cluster).

A clean restart must behave like a node reboot: PV data stays, pods that were running come back with
new IPs and a higher restart count. After a SIGKILL, the next ``up`` on the same data dir must remove
exactly that run's leftovers (processes, netns, bridge). Needs root.
"""

# mypy: disable-error-code="union-attr,index,arg-type,operator"

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from embedded_images import load_images
from kubernetes import client, config
from test_kubelet import _our_netns, _processes_under, pod, pvc, running, wait_for

from harness.clusters.embedded.cluster import EmbeddedCluster

pytestmark = [
    pytest.mark.slow,
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="the embedded kubelet needs root"),
]


def _core(cluster: EmbeddedCluster) -> tuple[client.ApiClient, client.CoreV1Api]:
    api = config.new_client_from_config(str(cluster.kubeconfig))
    core = client.CoreV1Api(api)
    wait_for(lambda: core.list_namespaced_service_account("default").items, 30, "default SA")
    return api, core


def test_restart_keeps_data_and_recreates_running_pods(tmp_path: Path) -> None:
    cluster = EmbeddedCluster(tmp_path / "cluster")
    load_images(cluster)
    with cluster:
        api, core = _core(cluster)
        pv_dir = Path(pvc(core, "default", "data"))
        script = "date +%s%N >> /data/boots; exec sleep 300"
        core.create_namespaced_pod(
            "default",
            pod(
                "survivor",
                ["sh", "-c", script],
                volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
                container={"volumeMounts": [{"name": "data", "mountPath": "/data"}]},
            ),
        )
        before = running(core, "default", "survivor")
        api.close()
    assert len((pv_dir / "boots").read_text().split()) == 1
    with cluster:
        api, core = _core(cluster)

        def restarted() -> client.V1Pod | None:
            p = core.read_namespaced_pod("survivor", "default")
            statuses = p.status.container_statuses or []
            ok = p.status.phase == "Running" and statuses and statuses[0].restart_count >= 1
            return p if ok and statuses[0].state.running else None

        after = wait_for(restarted, 60, "pod running again after restart")
        assert after.status.pod_ip != before.status.pod_ip
        assert after.metadata.uid == before.metadata.uid
        wait_for(lambda: len((pv_dir / "boots").read_text().split()) == 2, 10, "second boot recorded")
        api.close()


def test_up_after_sigkill_cleans_that_runs_leftovers(tmp_path: Path) -> None:
    data_dir = tmp_path / "cluster"
    cluster = EmbeddedCluster(data_dir)
    load_images(cluster)
    cluster.start()
    try:
        api, core = _core(cluster)
        core.create_namespaced_pod("default", pod("orphan", ["sleep", "300"]))
        running(core, "default", "orphan")
        api.close()
        bridge = json.loads((data_dir / "cluster.json").read_text())["bridge"]
        assert cluster._proc is not None
        os.kill(cluster._proc.pid, signal.SIGKILL)
        cluster._proc.wait(timeout=10)
        cluster._proc = None
        stale_netns = _our_netns(bridge)
        stale_pids = _processes_under(data_dir)
        assert stale_netns and stale_pids, "a killed cluster leaves its pods behind (as a crashed kubelet)"
        cluster.start()
        assert not set(stale_netns) & set(_our_netns(bridge))
        assert not set(stale_pids) & set(_processes_under(data_dir))
        api, core = _core(cluster)
        wait_for(lambda: core.read_namespaced_pod("orphan", "default").status.phase == "Running", 60)
        api.close()
    finally:
        cluster.stop()
    time.sleep(0.5)
    assert not Path("/sys/class/net", bridge).exists()
    assert _our_netns(bridge) == []
    assert not _processes_under(data_dir)
