"""The whole embedded cluster process (``python -m harness.clusters.embedded``) through ``EmbeddedCluster``:
readiness, logs and exec through the API server's streaming endpoints, ``down`` cleanup, and state kept across
a restart on the same data dir.  Needs root (bridge, network namespaces).
"""

# The typed kubernetes client marks every field Optional and wants models; these tests read what they
# just wrote and pass plain dicts, as the client accepts at runtime.
# mypy: disable-error-code="union-attr,arg-type,index"

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from embedded_images import load_images
from kubernetes import client, config
from kubernetes.stream import stream

from harness.clusters.embedded.cluster import EmbeddedCluster

pytestmark = [
    pytest.mark.slow,
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="the embedded cluster needs root"),
]

KUBECTL = str(Path(sys.executable).parent / "kubectl")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCluster]:
    with EmbeddedCluster(tmp_path_factory.mktemp("cluster")) as it:
        load_images(it, "busybox")  # the node has only the images it was given
        yield it


def kubectl(cluster: EmbeddedCluster, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(cluster.kubeconfig), *args], capture_output=True, text=True, timeout=60
    )


def wait_running(core: client.CoreV1Api, name: str, ns: str = "default", timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if core.read_namespaced_pod(name, ns).status.phase == "Running":
            return
        time.sleep(0.3)
    raise AssertionError(f"pod {name} not Running after {timeout}s")


def test_logs_and_exec_through_the_api(cluster: EmbeddedCluster) -> None:
    core = client.CoreV1Api(config.new_client_from_config(str(cluster.kubeconfig)))
    core.create_namespaced_pod("default", {
        "metadata": {"name": "io"},
        "spec": {"containers": [{"name": "c", "image": "busybox",
                                 "command": ["sh", "-c", "echo line1; echo line2; sleep 600"]}],
                 "terminationGracePeriodSeconds": 1},
    })  # fmt: skip
    wait_running(core, "io")
    deadline = time.monotonic() + 10
    while (
        "line2" not in (logs := core.read_namespaced_pod_log("io", "default")) and time.monotonic() < deadline
    ):
        time.sleep(0.2)
    assert logs == "line1\nline2\n"
    assert core.read_namespaced_pod_log("io", "default", tail_lines=1) == "line2\n"
    # v4.channel.k8s.io (Python client): stdout, and the exit code from the channel-3 Status
    ws = stream(core.connect_get_namespaced_pod_exec, "io", "default",
                command=["sh", "-c", "echo out; echo err >&2; exit 3"],
                stdout=True, stderr=True, stdin=False, tty=False, _preload_content=False)  # fmt: skip
    ws.run_forever(timeout=20)
    assert ws.read_stdout() == "out\n"
    assert ws.read_stderr() == "err\n"
    assert json.loads(ws.read_channel(3)) == {
        "metadata": {},
        "status": "Failure",
        "message": "command terminated with non-zero exit code: "
        "error executing command [sh -c echo out; echo err >&2; exit 3], exit code 3",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
    }
    ok = stream(core.connect_get_namespaced_pod_exec, "io", "default", command=["true"],
                stdout=True, stderr=True, stdin=False, tty=False, _preload_content=False)  # fmt: skip
    ok.run_forever(timeout=20)
    assert ok.returncode == 0
    # v5.channel.k8s.io (kubectl): stdin with close, and kubectl's exit code
    done = subprocess.run([KUBECTL, "--kubeconfig", str(cluster.kubeconfig), "exec", "-i", "io", "--", "cat"],
                          input="piped\n", capture_output=True, text=True, timeout=60)  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "piped\n"), done.stderr
    failed = kubectl(cluster, "exec", "io", "--", "sh", "-c", "exit 7")
    assert failed.returncode == 7
    assert "command terminated with exit code 7" in failed.stderr
    core.delete_namespaced_pod("io", "default", grace_period_seconds=0)


def test_status_and_state_survive_restart(cluster: EmbeddedCluster) -> None:
    core = client.CoreV1Api(config.new_client_from_config(str(cluster.kubeconfig)))
    core.create_namespaced_config_map("default", {"metadata": {"name": "kept"}, "data": {"a": "1"}})
    status = subprocess.run(
        [sys.executable, "-m", "harness.clusters.embedded", "status", "--data-dir", str(cluster.config.data_dir)],  # noqa: E501
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    info = json.loads(status.stdout)
    assert status.returncode == 0 and info["ready"] is True
    bridge = info["bridge"]
    cluster.stop()
    assert bridge not in subprocess.run(["ip", "link"], capture_output=True, text=True).stdout
    cluster.start()
    core = client.CoreV1Api(config.new_client_from_config(str(cluster.kubeconfig)))
    assert core.read_namespaced_config_map("kept", "default").data == {"a": "1"}


def test_port_forward_to_a_pod(cluster: EmbeddedCluster) -> None:
    from kubernetes.stream import portforward

    core = client.CoreV1Api(config.new_client_from_config(str(cluster.kubeconfig)))
    core.create_namespaced_pod("default", {
        "metadata": {"name": "web"},
        "spec": {"containers": [{"name": "c", "image": "busybox",
                                 "command": ["python3", "-m", "http.server", "8000"]}],
                 "terminationGracePeriodSeconds": 1},
    })  # fmt: skip
    wait_running(core, "web")
    deadline = time.monotonic() + 20
    reply = b""
    while time.monotonic() < deadline:
        pf = portforward(core.connect_get_namespaced_pod_portforward, "web", "default", ports="8000")
        sock = pf.socket(8000)
        sock.settimeout(5)
        try:
            sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
            reply = b""
            while chunk := sock.recv(65536):  # HTTP/1.0: the server closes, and the stream with it
                reply += chunk
        except OSError:
            reply = b""
        finally:
            sock.close()
            pf.close()
        if reply.startswith(b"HTTP/1.0 200"):
            break
        time.sleep(0.5)  # the server may not listen yet
    assert reply.startswith(b"HTTP/1.0 200"), reply
    core.delete_namespaced_pod("web", "default", grace_period_seconds=0)


def test_stop_that_has_to_kill_still_removes_host_leftovers(tmp_path: Path) -> None:
    cluster = EmbeddedCluster(tmp_path / "killed", stop_timeout=0.01)
    cluster.start()
    bridge = json.loads(cluster.config.cluster_json.read_text())["bridge"]
    assert bridge in subprocess.run(["ip", "link"], capture_output=True, text=True).stdout
    cluster.stop()  # SIGTERM, no time to finish: SIGKILL, then the recorded host resources are removed
    assert bridge not in subprocess.run(["ip", "link"], capture_output=True, text=True).stdout
    assert not cluster.config.pid_file.exists()
