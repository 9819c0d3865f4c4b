"""The embedded kubelet inside a whole embedded cluster: pods are real processes in their own namespaces.

Each test drives the cluster only through the API (kubernetes client, kubectl) and checks on the host what
a real node would make true: data on the PV directory, processes, mounts, network namespaces. Needs root.
"""

# kubernetes>=35 types every model field as Optional; asserting on them is the point of these tests.
# mypy: disable-error-code="union-attr,index,arg-type,operator"

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from embedded_images import TEST_IMAGE, load_images
from kube_waits import found, gone, wait_for
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from harness.clusters.embedded.cluster import EmbeddedCluster

pytestmark = [
    pytest.mark.slow,
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="the embedded kubelet needs root"),
]

KUBECTL = str(Path(sys.executable).parent / "kubectl")
#: world-executable interpreter for uid-1000 containers (the venv's lives where uid 1000 cannot go)
SYS_PYTHON = "/usr/bin/python3"
HTTP_SERVER = (
    "import http.server, os, socket\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        body = socket.gethostname().encode()\n"
    "        self.send_response(200); self.end_headers(); self.wfile.write(body)\n"
    "    def log_message(self, *a): pass\n"
    "http.server.HTTPServer(('0.0.0.0', 8888), H).serve_forever()\n"
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCluster]:
    with EmbeddedCluster(tmp_path_factory.mktemp("kubelet-cluster")) as it:
        load_images(it)
        yield it


@pytest.fixture(scope="module")
def core(cluster: EmbeddedCluster) -> Iterator[client.CoreV1Api]:
    api = config.new_client_from_config(str(cluster.kubeconfig))
    yield client.CoreV1Api(api)
    api.close()


@pytest.fixture
def ns(core: client.CoreV1Api) -> Iterator[str]:
    name = f"kt-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}})
    wait_for(lambda: found(lambda: core.read_namespaced_service_account("default", name)), 30, "default SA")
    yield name
    with _suppress_404():
        core.delete_namespace(name)


class _suppress_404:
    def __enter__(self) -> None:
        return None

    def __exit__(self, etype: Any, exc: Any, tb: Any) -> bool:
        return isinstance(exc, ApiException) and exc.status == 404


def pod(name: str, command: list[str], **spec: Any) -> dict[str, Any]:
    container = {"name": "main", "image": TEST_IMAGE, "command": command}
    container.update(spec.pop("container", {}))
    return {"metadata": {"name": name, "labels": {"app": name}}, "spec": {"containers": [container], **spec}}


def running(core: client.CoreV1Api, ns: str, name: str, timeout: float = 60) -> client.V1Pod:
    def check() -> client.V1Pod | None:
        p = core.read_namespaced_pod(name, ns)
        if p.status.phase in ("Failed", "Succeeded"):
            raise AssertionError(f"pod {name} ended: {p.status}")
        return p if p.status.phase == "Running" and p.status.container_statuses[0].ready else None

    return wait_for(check, timeout, f"pod {name} running")


def finished(core: client.CoreV1Api, ns: str, name: str, timeout: float = 60) -> client.V1Pod:
    def check() -> client.V1Pod | None:
        p = core.read_namespaced_pod(name, ns)
        return p if p.status.phase in ("Succeeded", "Failed") else None

    return wait_for(check, timeout, f"pod {name} finished")


def delete_and_wait(core: client.CoreV1Api, ns: str, name: str, timeout: float = 60) -> None:
    core.delete_namespaced_pod(name, ns)
    wait_for(lambda: gone(lambda: core.read_namespaced_pod(name, ns)), timeout, f"pod {name} gone")


def kubectl(cluster: EmbeddedCluster, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KUBECTL, f"--kubeconfig={cluster.kubeconfig}", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def events(core: client.CoreV1Api, ns: str, name: str) -> list[tuple[Any, Any, Any]]:
    items = core.list_namespaced_event(ns).items
    return [(e.type, e.reason, e.message) for e in items if e.involved_object.name == name]


def pvc(core: client.CoreV1Api, ns: str, name: str) -> str:
    core.create_namespaced_persistent_volume_claim(
        ns,
        {
            "metadata": {"name": name},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        },
    )
    claim = wait_for(
        lambda: (c := core.read_namespaced_persistent_volume_claim(name, ns)).status.phase == "Bound" and c,
        60,
        f"pvc {name} bound",
    )
    pv = core.read_persistent_volume(claim.spec.volume_name)
    return str(pv.spec.host_path.path)


def test_pod_with_pvc_keeps_data_across_pods(core: client.CoreV1Api, ns: str) -> None:
    pv_dir = Path(pvc(core, ns, "home"))
    volume = {"name": "home", "persistentVolumeClaim": {"claimName": "home"}}
    mount = {"volumeMounts": [{"name": "home", "mountPath": "/home/jovyan"}]}
    core.create_namespaced_pod(
        ns,
        pod(
            "writer",
            ["sh", "-c", "echo hello > /home/jovyan/data.txt"],
            volumes=[volume],
            container=mount,
            restartPolicy="Never",
        ),
    )
    assert finished(core, ns, "writer").status.phase == "Succeeded"
    assert (pv_dir / "data.txt").read_text() == "hello\n"
    delete_and_wait(core, ns, "writer")
    core.create_namespaced_pod(
        ns,
        pod(
            "reader",
            ["sh", "-c", "cat /home/jovyan/data.txt"],
            volumes=[volume],
            container=mount,
            restartPolicy="Never",
        ),
    )
    assert finished(core, ns, "reader").status.phase == "Succeeded"
    assert core.read_namespaced_pod_log("reader", ns) == "hello\n"
    assert (pv_dir / "data.txt").read_text() == "hello\n"


def test_two_pods_listen_on_the_same_port_and_reach_each_other_by_service(
    core: client.CoreV1Api, ns: str
) -> None:
    for name in ("web-a", "web-b"):
        core.create_namespaced_pod(
            ns,
            pod(
                name,
                ["python3", "-c", HTTP_SERVER],
                container={
                    "readinessProbe": {"httpGet": {"path": "/", "port": 8888}, "periodSeconds": 1},
                    "ports": [{"containerPort": 8888, "name": "http"}],
                },
            ),
        )
    ips = {name: running(core, ns, name).status.pod_ip for name in ("web-a", "web-b")}
    assert len(set(ips.values())) == 2
    for name, ip in ips.items():  # the host reaches pod IPs directly
        assert urllib.request.urlopen(f"http://{ip}:8888/", timeout=5).read().decode() == name
    core.create_namespaced_service(
        ns,
        {
            "metadata": {"name": "web-b"},
            "spec": {"selector": {"app": "web-b"}, "ports": [{"port": 80, "targetPort": "http"}]},
        },
    )
    wait_for(lambda: core.read_namespaced_endpoints("web-b", ns).subsets, 30, "endpoints")
    fetch = "import urllib.request; print(urllib.request.urlopen('http://web-b/', timeout=5).read().decode())"
    core.create_namespaced_pod(
        ns, pod("client", ["sh", "-c", f'sleep 1; python3 -c "{fetch}"'], restartPolicy="OnFailure")
    )
    done = finished(core, ns, "client", timeout=90)
    assert done.status.phase == "Succeeded", core.read_namespaced_pod_log("client", ns)
    assert core.read_namespaced_pod_log("client", ns).strip().endswith("web-b")
    svc_ip = core.read_namespaced_service("web-b", ns).spec.cluster_ip
    assert urllib.request.urlopen(f"http://{svc_ip}:80/", timeout=5).read().decode() == "web-b"


def test_missing_pvc_keeps_pod_pending_with_event_until_it_exists(core: client.CoreV1Api, ns: str) -> None:
    volume = {"name": "home", "persistentVolumeClaim": {"claimName": "later"}}
    core.create_namespaced_pod(
        ns,
        pod(
            "waits",
            ["sleep", "300"],
            volumes=[volume],
            container={"volumeMounts": [{"name": "home", "mountPath": "/home/jovyan"}]},
        ),
    )
    wait_for(
        lambda: (
            ("Warning", "FailedScheduling", 'persistentvolumeclaim "later" not found')
            in events(core, ns, "waits")
        ),
        30,
        "FailedScheduling event",
    )
    p = core.read_namespaced_pod("waits", ns)
    assert p.status.phase == "Pending" and not p.spec.node_name
    pvc(core, ns, "later")
    running(core, ns, "waits")


def test_fs_group_makes_the_volume_writable_for_uid_1000(core: client.CoreV1Api, ns: str) -> None:
    pv_dir = Path(pvc(core, ns, "home"))
    script = "import os; open('/home/jovyan/mine', 'w').write(str(os.getuid())); print(os.getgroups())"
    core.create_namespaced_pod(
        ns,
        pod(
            "uid1000",
            [SYS_PYTHON, "-c", script],
            volumes=[{"name": "home", "persistentVolumeClaim": {"claimName": "home"}}],
            securityContext={"runAsUser": 1000, "fsGroup": 100},
            container={"volumeMounts": [{"name": "home", "mountPath": "/home/jovyan"}]},
            restartPolicy="Never",
        ),
    )
    done = finished(core, ns, "uid1000")
    assert done.status.phase == "Succeeded", core.read_namespaced_pod_log("uid1000", ns)
    assert (pv_dir / "mine").read_text() == "1000"
    assert (pv_dir / "mine").stat().st_uid == 1000
    assert pv_dir.stat().st_gid == 100


def test_exec_logs_and_get_through_kubectl(cluster: EmbeddedCluster, core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_pod(
        ns,
        pod(
            "shell",
            ["sh", "-c", "echo started; exec sleep 300"],
            volumes=[{"name": "home", "emptyDir": {}}],
            container={
                "volumeMounts": [{"name": "home", "mountPath": "/home/jovyan"}],
                "workingDir": "/srv/new/dir",
            },
        ),
    )
    running(core, ns, "shell")
    out = kubectl(cluster, "-n", ns, "exec", "shell", "--", "cat", "/proc/self/mountinfo")
    assert out.returncode == 0, out.stderr
    mounts = {line.split()[4]: line.split(" - ")[1].split()[0] for line in out.stdout.splitlines()}
    assert mounts["/"] == "overlay" and "/home/jovyan" in mounts  # the writable layer, the volume on it
    listing = kubectl(cluster, "-n", ns, "exec", "shell", "--", "ls", "-A", "/home", "/tmp")
    assert listing.returncode == 0 and listing.stdout.split() == ["/home:", "jovyan", "/tmp:"], listing
    assert kubectl(cluster, "-n", ns, "exec", "shell", "--", "pwd").stdout == "/srv/new/dir\n"
    assert not Path("/srv/new").exists()  # made inside the pod only
    assert kubectl(cluster, "-n", ns, "logs", "shell").stdout == "started\n"
    failing = kubectl(cluster, "-n", ns, "exec", "shell", "--", "sh", "-c", "exit 3")
    assert failing.returncode == 3
    wide = kubectl(cluster, "-n", ns, "get", "pods", "-o", "wide")
    assert wide.returncode == 0 and "shell" in wide.stdout, wide.stderr


def test_unknown_command_reports_the_runtime_error_without_hanging(core: client.CoreV1Api, ns: str) -> None:
    core.create_namespaced_pod(ns, pod("nocmd", ["no-such-binary-here"]))

    def waiting_reason() -> dict[str, Any] | None:
        statuses = core.read_namespaced_pod("nocmd", ns).status.container_statuses or []
        waiting = statuses[0].state.waiting if statuses else None
        if waiting and waiting.reason in ("RunContainerError", "CrashLoopBackOff", "CreateContainerError"):
            return {"reason": waiting.reason, "message": waiting.message}
        return None

    wait_for(waiting_reason, 30, "container error")
    failed = [e for e in events(core, ns, "nocmd") if e[1] == "Failed"]
    assert failed and 'exec: "no-such-binary-here": executable file not found in $PATH' in failed[0][2]


def test_graceful_deletion_and_teardown_leave_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "cluster"
    with EmbeddedCluster(data_dir) as c:
        load_images(c)
        api = config.new_client_from_config(str(c.kubeconfig))
        core = client.CoreV1Api(api)
        wait_for(lambda: found(lambda: core.read_namespaced_service_account("default", "default")), 30)
        graceful = ["sh", "-c", "trap 'exit 0' TERM; sleep 300 & wait"]
        core.create_namespaced_pod("default", pod("sleeper", graceful))
        core.create_namespaced_pod("default", pod("stays", ["sleep", "300"]))
        running(core, "default", "sleeper")
        running(core, "default", "stays")
        bridge = json.loads((data_dir / "cluster.json").read_text())["bridge"]
        netns_before = _our_netns(bridge)
        assert len(netns_before) == 2
        t0 = time.monotonic()
        delete_and_wait(core, "default", "sleeper", timeout=30)
        assert time.monotonic() - t0 < 20  # SIGTERM was honoured, not the 30s grace period
        assert ("Normal", "Killing", "Stopping container main") in events(core, "default", "sleeper")
        assert len(_our_netns(bridge)) == 1
        core.delete_namespaced_pod("stays", "default")  # sleep ignores SIGTERM: a 30s graceful stop begins
        # a sandbox netns whose creation outlived its pod worker (cancelled mid `ip netns add`)
        subprocess.run(["ip", "netns", "add", f"{bridge}-0123456789ab"], check=True)
        time.sleep(0.5)
        api.close()
        t0 = time.monotonic()
    assert time.monotonic() - t0 < 15  # node shutdown kills at once, it does not wait out grace periods
    assert _our_netns(bridge) == []
    assert not Path("/sys/class/net", bridge).exists()
    assert str(data_dir) not in Path("/proc/self/mountinfo").read_text()
    assert not _processes_under(data_dir)


def _our_netns(bridge: str) -> list[str]:
    if not os.path.isdir("/run/netns"):
        return []
    return [n for n in os.listdir("/run/netns") if n.startswith(bridge + "-")]


def _processes_under(data_dir: Path) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if str(data_dir) in Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace"):
                    pids.append(int(entry))
            except OSError:
                continue
    return pids


def test_pod_start_latency_against_bare_process(core: client.CoreV1Api, ns: str) -> None:
    """Record how much the kubelet adds to starting a trivial command (printed for the report)."""
    t0 = time.monotonic()
    subprocess.run(["true"], check=True)
    bare = time.monotonic() - t0
    t0 = time.monotonic()
    core.create_namespaced_pod(ns, pod("quick", ["sleep", "300"]))
    wait_for(lambda: core.read_namespaced_pod("quick", ns).status.phase == "Running", 30, "running")
    to_running = time.monotonic() - t0
    print(f"\nbare process: {bare * 1000:.1f} ms; pod create -> Running: {to_running * 1000:.0f} ms")
    assert to_running < 10
    assert shutil.which("true")


def test_liveness_failure_restarts_and_readiness_gates_ready(core: client.CoreV1Api, ns: str) -> None:
    script = "touch /tmp/healthy; sleep 3; rm /tmp/healthy; exec sleep 300"
    core.create_namespaced_pod(
        ns,
        pod(
            "probed",
            ["sh", "-c", script],
            container={
                "livenessProbe": {
                    "exec": {"command": ["test", "-f", "/tmp/healthy"]},
                    "periodSeconds": 1,
                    "failureThreshold": 1,
                },
                "readinessProbe": {"tcpSocket": {"port": 8888}, "periodSeconds": 1},
            },
            terminationGracePeriodSeconds=1,  # sleep as PID 1 ignores SIGTERM: the kill waits out the grace
        ),
    )

    def restarted() -> bool:
        statuses = core.read_namespaced_pod("probed", ns).status.container_statuses or []
        return bool(statuses and statuses[0].restart_count >= 1)

    wait_for(restarted, 30, "restart after failed liveness probe")
    reasons = {(e[1], e[2]) for e in events(core, ns, "probed")}
    assert ("Killing", "Container main failed liveness probe, will be restarted") in reasons
    assert any(r == "Unhealthy" and m.startswith("Readiness probe failed: dial tcp") for r, m in reasons)
    p = core.read_namespaced_pod("probed", ns)
    assert not p.status.container_statuses[0].ready
    assert {c.type: c.status for c in p.status.conditions}["Ready"] == "False"


def test_init_containers_downward_env_and_failed_mount_until_the_configmap_exists(
    core: client.CoreV1Api, ns: str
) -> None:
    spec = pod(
        "staged",
        ["sh", "-c", 'cat /work/from-init /etc/cfg/greeting; echo " $MY_IP"; exec sleep 300'],
        volumes=[{"name": "work", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "later"}}],
        initContainers=[
            {
                "name": "prepare",
                "image": TEST_IMAGE,
                "command": ["sh", "-c", "printf 'init ' > /work/from-init"],
                "volumeMounts": [{"name": "work", "mountPath": "/work"}],
            }
        ],
        container={
            "volumeMounts": [
                {"name": "work", "mountPath": "/work"},
                {"name": "cfg", "mountPath": "/etc/cfg"},
            ],
            "env": [{"name": "MY_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
        },
    )
    core.create_namespaced_pod(ns, spec)
    message = 'MountVolume.SetUp failed for volume "cfg" : configmap "later" not found'
    wait_for(lambda: ("Warning", "FailedMount", message) in events(core, ns, "staged"), 30, "FailedMount")
    assert core.read_namespaced_pod("staged", ns).status.phase == "Pending"
    core.create_namespaced_config_map(ns, {"metadata": {"name": "later"}, "data": {"greeting": "hello"}})
    p = running(core, ns, "staged")
    assert p.status.init_container_statuses[0].state.terminated.exit_code == 0
    wait_for(lambda: core.read_namespaced_pod_log("staged", ns), 10, "log")
    assert core.read_namespaced_pod_log("staged", ns) == f"init hello {p.status.pod_ip}\n"


def test_post_start_and_pre_stop_hooks(core: client.CoreV1Api, ns: str, tmp_path: Path) -> None:
    shared = tmp_path / "hooks"
    shared.mkdir()
    lifecycle = {
        "postStart": {"exec": {"command": ["sh", "-c", "echo seeded > /data/seed"]}},
        "preStop": {"exec": {"command": ["sh", "-c", "echo bye > /data/stopped"]}},
    }
    core.create_namespaced_pod(
        ns,
        pod(
            "hooked",
            ["sh", "-c", "exec sleep 300"],
            volumes=[{"name": "data", "hostPath": {"path": str(shared), "type": "Directory"}}],
            container={"volumeMounts": [{"name": "data", "mountPath": "/data"}], "lifecycle": lifecycle},
            terminationGracePeriodSeconds=2,
        ),
    )
    running(core, ns, "hooked")
    assert (shared / "seed").read_text() == "seeded\n"
    delete_and_wait(core, ns, "hooked", timeout=30)
    assert (shared / "stopped").read_text() == "bye\n"
    core.create_namespaced_pod(
        ns,
        pod(
            "badhook",
            ["sleep", "300"],
            container={"lifecycle": {"postStart": {"exec": {"command": ["sh", "-c", "exit 7"]}}}},
            terminationGracePeriodSeconds=1,
        ),
    )
    wait_for(
        lambda: any(
            e[1] == "FailedPostStartHook" and "exited with 7" in e[2] for e in events(core, ns, "badhook")
        ),
        30,
        "FailedPostStartHook",
    )


def test_image_environment_under_a_fresh_dir_stays_visible(
    cluster: EmbeddedCluster, core: client.CoreV1Api, ns: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """/tmp starts empty in every pod, yet an image's environment may live there (a CI checkout's nox
    venv): its files must show through as an image's would, writable in the container's own layer
    (root may change an image's files), never on the host."""
    from harness.clusters.embedded.images import ImageEntry, ImageMap

    env_root = Path(f"/tmp/jhsc-image-env-{uuid.uuid4().hex[:8]}")
    try:
        subprocess.run([SYS_PYTHON, "-m", "venv", "--without-pip", str(env_root)], check=True)
        ImageMap(cluster.config.data_dir).put(
            "harness.local/tmp-env:1", ImageEntry(path=[str(env_root / "bin")])
        )
        script = "import sys, os; print(sys.prefix); open(sys.prefix + '/x', 'w').write('in the layer')"
        manifest = pod("tmp-env", ["python3", "-c", script], restartPolicy="Never")
        manifest["spec"]["containers"][0]["image"] = "harness.local/tmp-env:1"
        core.create_namespaced_pod(ns, manifest)
        done = finished(core, ns, "tmp-env")
        state = done.status.container_statuses[0].state.terminated
        log = core.read_namespaced_pod_log("tmp-env", ns)
        assert state.exit_code == 0 and log.splitlines() == [str(env_root)], log
        assert not (env_root / "x").exists(), "the write stays in the container's layer"
    finally:
        shutil.rmtree(env_root, ignore_errors=True)


def test_gateway_mac_stays_put_while_pods_come_and_go(
    cluster: EmbeddedCluster, core: client.CoreV1Api, ns: str
) -> None:
    """A bridge takes its lowest port's MAC unless pinned; a new veth must not change the gateway's MAC
    under running pods' ARP caches (they would lose the host, ClusterIPs and the API for ~30 s)."""
    bridge = json.loads((cluster.config.data_dir / "cluster.json").read_text())["bridge"]
    sysfs = Path("/sys/class/net", bridge)
    before = (sysfs / "address").read_text().strip()
    assert (sysfs / "addr_assign_type").read_text().strip() == "3", "bridge MAC must be set, not inherited"
    for i in range(4):  # random veth MACs: without pinning, one of them is lower than the bridge's
        core.create_namespaced_pod(ns, pod(f"mac-{i}", ["sleep", "300"]))
    for i in range(4):
        running(core, ns, f"mac-{i}")
    assert (sysfs / "address").read_text().strip() == before
    for i in range(4):
        core.delete_namespaced_pod(f"mac-{i}", ns, grace_period_seconds=0)
