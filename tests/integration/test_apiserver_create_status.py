"""Create ignores the client's status, as a real apiserver does for types with a status subresource.

A manifest without ``status`` (``kubectl create -f``) must be accepted, and a client-sent status must be
replaced by the server's zero value, read back by the typed ``kubernetes`` client.
"""

# The typed kubernetes client marks every field Optional: these tests read what they just wrote.
# mypy: disable-error-code="union-attr"

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client, config

from harness.clusters.embedded.apiserver.standalone import Standalone, standalone_server

pytestmark = pytest.mark.slow

KUBECTL = str(Path(sys.executable).parent / "kubectl")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Standalone]:
    with standalone_server(tmp_path_factory.mktemp("apiserver")) as it:
        yield it


@pytest.fixture(scope="module")
def api_client(server: Standalone) -> client.ApiClient:
    return config.new_client_from_config(str(server.kubeconfig))


@pytest.fixture
def ns(api_client: client.ApiClient) -> str:
    name = f"t-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(api_client).create_namespace({"metadata": {"name": name}})
    return name


def workload(kind: str, name: str) -> dict[str, object]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }


def test_kubectl_creates_workloads_without_status(
    server: Standalone, api_client: client.ApiClient, ns: str, tmp_path: Path
) -> None:
    manifest = tmp_path / "workloads.yaml"
    manifest.write_text(yaml.safe_dump_all([workload("ReplicaSet", "rs"), workload("Deployment", "dep")]))
    done = subprocess.run(
        [KUBECTL, f"--kubeconfig={server.kubeconfig}", "--namespace", ns, "create", "-f", str(manifest)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["replicaset.apps/rs created", "deployment.apps/dep created"]
    apps = client.AppsV1Api(api_client)
    rs = apps.read_namespaced_replica_set("rs", ns)
    assert (rs.status.replicas, rs.status.ready_replicas) == (0, None)
    dep = apps.read_namespaced_deployment("dep", ns)
    assert dep.status.replicas is None and dep.status.conditions is None


def test_client_sent_status_is_replaced_on_create(api_client: client.ApiClient, ns: str) -> None:
    apps = client.AppsV1Api(api_client)
    body = {**workload("ReplicaSet", "claims-ready"), "status": {"replicas": 3, "readyReplicas": 3}}
    created = apps.create_namespaced_replica_set(ns, body)
    assert (created.status.replicas, created.status.ready_replicas) == (0, None)
    core = client.CoreV1Api(api_client)
    pvc = core.create_namespaced_persistent_volume_claim(
        ns,
        {
            "metadata": {"name": "claim"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
            "status": {"phase": "Bound"},
        },
    )
    assert pvc.status.phase == "Pending"
