"""Real KubeSpawner (the installed release) spawning and stopping a server on the embedded kubelet.

KubeSpawner creates the PVC and the pod, waits through its pod reflector for Running, returns the pod's
URL; the server must answer there from the host, write as uid 1000 into the PVC (fsGroup), and be gone
after ``stop()`` while the data stays. Runs KubeSpawner in a subprocess because it configures the
kubernetes_asyncio client globally from $KUBECONFIG. Needs root.
"""

# mypy: disable-error-code="union-attr,arg-type,index"

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from harness.clusters.embedded.cluster import EmbeddedCluster

pytestmark = [
    pytest.mark.slow,
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="the embedded kubelet needs root"),
]

SERVER = (
    "import http.server, os, signal, sys\n"
    "open('/home/jovyan/spawned', 'w').write(str(os.getuid()))\n"
    "signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        self.send_response(200); self.end_headers()\n"
    "        self.wfile.write(os.environ['JUPYTERHUB_USER'].encode())\n"
    "http.server.HTTPServer(('0.0.0.0', 8888), H).serve_forever()\n"
)

SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys, urllib.request
    from kubespawner import KubeSpawner

    async def main():
        spawner = KubeSpawner(
            _mock=True, namespace=sys.argv[1], image="harness.local/singleuser:test",
            cmd=["/usr/bin/python3", "-c", sys.argv[2]], port=8888, uid=1000, fs_gid=100,
            storage_pvc_ensure=True, storage_capacity="1Gi", storage_access_modes=["ReadWriteOnce"],
            pvc_name_template="claim-{username}",
            volumes=[{"name": "home", "persistentVolumeClaim": {"claimName": "claim-{username}"}}],
            volume_mounts=[{"name": "home", "mountPath": "/home/jovyan"}],
            start_timeout=60, http_timeout=30,
        )
        url = await spawner.start()
        body = urllib.request.urlopen(url, timeout=10).read().decode()
        running = await spawner.poll()
        pod = spawner.pod_name
        await spawner.stop()
        stopped = await spawner.poll()
        print(json.dumps({"url": url, "body": body, "running": running, "stopped": stopped,
                          "pod": pod, "pvc": spawner.pvc_name}))

    asyncio.run(main())
    """
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCluster]:
    with EmbeddedCluster(tmp_path_factory.mktemp("kubelet-ks")) as it:
        yield it


def test_kubespawner_spawns_and_stops_a_server_with_its_pvc(cluster: EmbeddedCluster) -> None:
    api = config.new_client_from_config(str(cluster.kubeconfig))
    core = client.CoreV1Api(api)
    ns = "ks-kubelet"
    core.create_namespace({"metadata": {"name": ns}})
    env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig)}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, ns, SERVER], capture_output=True, text=True, timeout=180, env=env
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["running"] is None and result["stopped"] is not None
    assert result["body"] == "mock@name"
    assert [p.metadata.name for p in core.list_namespaced_pod(ns).items] == []
    pvc = core.read_namespaced_persistent_volume_claim(result["pvc"], ns)
    pv_dir = Path(core.read_persistent_volume(pvc.spec.volume_name).spec.host_path.path)
    assert (pv_dir / "spawned").read_text() == "1000"
    reasons = [
        e.reason for e in core.list_namespaced_event(ns).items if e.involved_object.name == result["pod"]
    ]
    assert {"Scheduled", "Pulled", "Created", "Started", "Killing"} <= set(reasons)
    api.close()
