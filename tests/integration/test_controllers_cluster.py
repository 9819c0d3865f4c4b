"""The controllers inside the whole embedded cluster process, with the real kubelet running the pods.

What the unit-level controller tests cannot show: a provisioned directory really is the pod's volume and
outlives the pod, a replaced hub pod sees the same data, Endpoints carry the IPs the kubelet assigned, and
deleting a namespace with running pods finishes once the kubelet has stopped them.  Needs root.
"""

# kubernetes>=35 types every model field as Optional; asserting on them is the point of these tests.
# mypy: disable-error-code="union-attr,index,arg-type,operator"

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from embedded_images import load_images
from kube_waits import gone, wait_for
from kubernetes import client, config

from harness.clusters.embedded.cluster import EmbeddedCluster

pytestmark = [
    pytest.mark.slow,
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="the embedded cluster needs root"),
]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCluster]:
    with EmbeddedCluster(tmp_path_factory.mktemp("controllers-cluster")) as it:
        load_images(it, "busybox")  # the node has only the images it was given
        yield it


@pytest.fixture(scope="module")
def api(cluster: EmbeddedCluster) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(str(cluster.kubeconfig))
    yield api
    api.close()


def hub_deployment(claim: str) -> dict[str, Any]:
    """A hub-like Deployment: Recreate, one replica, its state on a PVC, a named HTTP port."""
    script = "test -f /srv/hub/first || hostname > /srv/hub/first; cat /srv/hub/first; exec sleep 600"
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "hub"},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": {"component": "hub"}},
            "template": {
                "metadata": {"labels": {"component": "hub"}},
                "spec": {
                    "terminationGracePeriodSeconds": 1,
                    "securityContext": {"runAsUser": 1000, "fsGroup": 1000},
                    "containers": [
                        {
                            "name": "hub",
                            "image": "busybox",
                            "command": ["sh", "-c", script],
                            "ports": [{"name": "http", "containerPort": 8081}],
                            "volumeMounts": [{"name": "state", "mountPath": "/srv/hub"}],
                        }
                    ],
                    "volumes": [{"name": "state", "persistentVolumeClaim": {"claimName": claim}}],
                },
            },
        },
    }


def test_hub_state_survives_pod_replacement_and_is_reclaimed(
    cluster: EmbeddedCluster, api: client.ApiClient
) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    ns = f"ctl-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": ns}})
    try:
        core.create_namespaced_persistent_volume_claim(
            ns,
            {
                "metadata": {"name": "hub-db-dir"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
            },
        )
        core.create_namespaced_service(
            ns,
            {
                "metadata": {"name": "hub"},
                "spec": {"selector": {"component": "hub"}, "ports": [{"port": 8081, "targetPort": "http"}]},
            },
        )
        apps.create_namespaced_deployment(ns, hub_deployment("hub-db-dir"))

        def running() -> client.V1Pod | None:
            pods = core.list_namespaced_pod(ns, label_selector="component=hub").items
            live = [p for p in pods if p.status.phase == "Running" and not p.metadata.deletion_timestamp]
            return live[0] if live else None

        first = wait_for(running, what="hub pod Running")
        pvc = core.read_namespaced_persistent_volume_claim("hub-db-dir", ns)
        volume = cluster.config.volumes_dir / pvc.spec.volume_name
        wait_for(lambda: (volume / "first").exists(), what="the pod's write in the provisioned directory")
        written = (volume / "first").read_text()

        def endpoints() -> client.V1Endpoints | None:
            e = core.read_namespaced_endpoints("hub", ns)
            return e if e.subsets and e.subsets[0].addresses else None

        ep = wait_for(endpoints, what="hub endpoints")
        assert [a.ip for a in ep.subsets[0].addresses] == [first.status.pod_ip]
        assert ep.subsets[0].ports[0].port == 8081

        core.delete_namespaced_pod(first.metadata.name, ns)
        second = wait_for(
            lambda: (p := running()) is not None and p.metadata.name != first.metadata.name and p,
            what="replacement hub pod Running",
        )
        logs = wait_for(
            lambda: core.read_namespaced_pod_log(second.metadata.name, ns), what="replacement logs"
        )
        assert logs == written, "the replacement pod must see the first pod's data"

        apps.delete_namespaced_deployment("hub", ns, propagation_policy="Foreground")
        wait_for(
            lambda: (
                not core.list_namespaced_pod(ns).items
                and gone(lambda: apps.read_namespaced_deployment("hub", ns))
            ),
            what="deployment and its pods gone",
        )
        core.delete_namespaced_persistent_volume_claim("hub-db-dir", ns)
        wait_for(lambda: gone(lambda: core.read_persistent_volume(pvc.spec.volume_name)), what="PV reclaimed")
        assert not volume.exists()
    finally:
        core.delete_namespace(ns)


def test_namespace_with_running_pods_goes_away(cluster: EmbeddedCluster, api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    ns = f"ctl-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": ns}})
    core.create_namespaced_persistent_volume_claim(
        ns,
        {
            "metadata": {"name": "home"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        },
    )
    core.create_namespaced_pod(
        ns,
        {
            "metadata": {"name": "user"},
            "spec": {
                "terminationGracePeriodSeconds": 1,
                "containers": [{"name": "c", "image": "busybox", "command": ["sleep", "600"]}],
                "volumes": [{"name": "home", "persistentVolumeClaim": {"claimName": "home"}}],
            },
        },
    )
    wait_for(lambda: core.read_namespaced_pod("user", ns).status.phase == "Running", what="pod Running")
    pv_name = core.read_namespaced_persistent_volume_claim("home", ns).spec.volume_name
    core.delete_namespace(ns)
    wait_for(lambda: gone(lambda: core.read_namespace(ns)), what="namespace removed")
    wait_for(lambda: gone(lambda: core.read_persistent_volume(pv_name)), what="its PV reclaimed")
    assert not (cluster.config.volumes_dir / pv_name).exists()
