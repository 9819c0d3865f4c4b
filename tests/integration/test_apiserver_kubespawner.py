"""Real KubeSpawner (installed release) against the standalone embedded API server: the PVC creation path
(create, then 409 on the second try, which KubeSpawner treats as success) and its pod/event reflectors
(list + watch through kubernetes_asyncio).  Runs in a subprocess because KubeSpawner configures the
kubernetes_asyncio client globally from $KUBECONFIG.
"""

# The typed kubernetes client marks every field Optional and wants models; these tests read what they
# just wrote and pass plain dicts, as the client accepts at runtime.
# mypy: disable-error-code="union-attr,arg-type,index"

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest
from kubernetes import client, config

from harness.clusters.embedded.apiserver.standalone import Standalone, standalone_server

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    from kubespawner import KubeSpawner

    async def main():
        spawner = KubeSpawner(_mock=True, namespace=sys.argv[1], storage_pvc_ensure=True,
                              storage_capacity="1Gi", storage_access_modes=["ReadWriteOnce"],
                              pvc_name_template="claim-{username}")
        pvc = spawner.get_pvc_manifest()
        first = await spawner._make_create_pvc_request(pvc, 10)
        second = await spawner._make_create_pvc_request(pvc, 10)
        await spawner._start_watching_pods()
        await spawner._start_watching_events()
        await asyncio.sleep(0.5)
        pods = sorted(spawner.pod_reflector.pods)
        print(json.dumps({"first": first, "second": second, "pvc": pvc.metadata.name, "pods": pods}))
        spawner.pod_reflector.stop()
        spawner.event_reflector.stop()

    asyncio.run(main())
    """
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Standalone]:
    with standalone_server(tmp_path_factory.mktemp("apiserver")) as it:
        yield it


def test_kubespawner_creates_pvc_and_reflects_pods(server: Standalone) -> None:
    core = client.CoreV1Api(config.new_client_from_config(str(server.kubeconfig)))
    ns = "ks-smoke"
    core.create_namespace({"metadata": {"name": ns}})
    core.create_namespaced_service_account(ns, {"metadata": {"name": "default"}})
    labels = {"component": "singleuser-server"}
    pod = {
        "metadata": {"name": "jupyter-x", "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "i"}]},
    }
    core.create_namespaced_pod(ns, pod)
    env = {**os.environ, "KUBECONFIG": str(server.kubeconfig)}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, ns], capture_output=True, text=True, timeout=120, env=env
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["first"] is True and result["second"] is True
    assert result["pods"] == [f"{ns}/jupyter-x"]
    pvc = core.read_namespaced_persistent_volume_claim(result["pvc"], ns)
    assert pvc.spec.resources.requests["storage"] == "1Gi"
    assert pvc.metadata.finalizers == ["kubernetes.io/pvc-protection"]
    assert pvc.status.phase == "Pending"  # no controllers in the standalone server
