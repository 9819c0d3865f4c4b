"""Real KubeSpawner releases (6.2.0 and 7.1.0) spawning and stopping a server on the embedded kubelet.

KubeSpawner creates the PVC and the pod, waits through its pod reflector for Running, returns the pod's
URL; the server must answer there from the host, write as uid 1000 into the PVC (fsGroup), and be gone
after ``stop()`` while the data stays. Runs KubeSpawner in a subprocess, with the interpreter of the
hub environment built for that release (the one the e2e hub image maps to), because it configures the
kubernetes_asyncio client globally from $KUBECONFIG and because one process holds one release. Needs root.
"""

# mypy: disable-error-code="union-attr,arg-type,index"

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from embedded_images import load_images
from kubernetes import client, config

from harness.clusters.base import HubVersions
from harness.clusters.embedded import envs
from harness.clusters.embedded.backend import hub_requirements
from harness.clusters.embedded.cluster import EmbeddedCluster
from harness.versions import default_jupyterhub_for

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
        for _ in range(150):  # Running is not listening yet: wait for it, as the hub's wait_up does
            try:
                body = urllib.request.urlopen(url, timeout=10).read().decode()
                break
            except OSError:
                await asyncio.sleep(0.2)
        running = await spawner.poll()
        pod = spawner.pod_name
        await spawner.stop()
        stopped = await spawner.poll()
        print(json.dumps({"url": url, "body": body, "running": running, "stopped": stopped,
                          "pod": pod, "pvc": spawner.pvc_name, "user": spawner.user.name}))

    asyncio.run(main())
    """
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCluster]:
    with EmbeddedCluster(tmp_path_factory.mktemp("kubelet-ks")) as it:
        load_images(it, "harness.local/singleuser:test")  # runs /usr/bin/python3 of the host
        yield it


def _hub_python(kubespawner: str) -> str:
    versions = HubVersions(kubespawner, default_jupyterhub_for(kubespawner))
    recipe = envs.python_env(
        f"hub-ks-{versions.kubespawner}-jh-{versions.jupyterhub}", hub_requirements(versions)
    )
    (bin_dir,) = envs.ensure_env(recipe)
    return str(bin_dir / "python")


@pytest.mark.parametrize("kubespawner", ["6.2.0", "7.1.0"])
def test_kubespawner_spawns_and_stops_a_server_with_its_pvc(
    cluster: EmbeddedCluster, kubespawner: str
) -> None:
    python = _hub_python(kubespawner)
    api = config.new_client_from_config(str(cluster.kubeconfig))
    core = client.CoreV1Api(api)
    ns = f"ks-kubelet-{kubespawner.replace('.', '-')}"
    core.create_namespace({"metadata": {"name": ns}})
    env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig)}
    version = subprocess.run(
        [python, "-c", "import importlib.metadata as m; print(m.version('jupyterhub-kubespawner'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip() == kubespawner
    out = subprocess.run(
        [python, "-c", SCRIPT, ns, SERVER], capture_output=True, text=True, timeout=180, env=env
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["running"] is None and result["stopped"] is not None
    # the server got its user from KubeSpawner's env (the mock user is mock_name in 6.2.0, mock@name in 7)
    assert result["body"] == result["user"] and result["user"].startswith("mock")
    assert [p.metadata.name for p in core.list_namespaced_pod(ns).items] == []
    pvc = core.read_namespaced_persistent_volume_claim(result["pvc"], ns)
    pv_dir = Path(core.read_persistent_volume(pvc.spec.volume_name).spec.host_path.path)
    assert (pv_dir / "spawned").read_text() == "1000"
    reasons = [
        e.reason for e in core.list_namespaced_event(ns).items if e.involved_object.name == result["pod"]
    ]
    assert {"Scheduled", "Pulled", "Created", "Started", "Killing"} <= set(reasons)
    api.close()
