"""Where the start time of the KubeSpawner suite's single-user server goes, on the embedded cluster.

The suite's ``check_up`` gives a server about 4 s after KubeSpawner's ``start()`` returns (which it does
once the pod is Running), so this splits one spawn of ``quay.io/jupyterhub/singleuser:latest`` (the
suite's image map, ``harness/kubespawner_suite/images.py``) into:

- container start -> exec: from the kubelet writing the container's runtime spec to the command's first
  instruction (a ``date +%s.%N`` before ``exec jupyterhub-singleuser``): the container's own overhead;
- container start -> Running in the API, the moment ``start()`` returns;
- exec -> port open (podIP:8888, polled from the host), against the same ``jupyterhub-singleuser``
  started bare on the host as uid 1000 with the same environment and the same hub (the suite's hub pod:
  the server blocks until the hub API answers);
- one ``exec_python(check_up)`` attempt of the suite (an exec of ``python3 -c`` into its
  ``python:3.12-slim`` pod, against a closed port), as its retry loop makes four of them 1 s apart;
- the CPU the cluster process (API server, controllers, kubelet) spends from create to port open;
- the imports of one bare start (``python -X importtime``): total and the heaviest.

Bare and pod runs alternate, so load from other work hits both alike. Writes
``reports/bench-suite-start.json``. Needs root (the embedded cluster does).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import benchlib

from harness.clusters.embedded.cluster import EmbeddedCluster
from harness.clusters.embedded.images import ImageMap
from harness.clusters.kube import Kube
from harness.kubespawner_suite import images
from harness.kubespawner_suite.cli import day_after

#: the packages of the 7.1.0 tag's day, as the session resolves them for that tag
KS_7_1_0_DAY = day_after(datetime.fromisoformat("2026-07-16T13:24:28+03:00"))
NS = "bench-suite-start"
PORT = 8888
TOKEN = "test-secret-token"
HUB_CONFIG = """\
c = get_config()  # noqa
c.JupyterHub.hub_ip = "0.0.0.0"
c.JupyterHub.services = [{"name": "test", "admin": True, "api_token": "test-secret-token"}]
"""
#: the command the pod runs: the exec moment first, then the server KubeSpawner's cmd names
WRAPPED = ["/bin/sh", "-c", "date +%s.%N; exec jupyterhub-singleuser"]


def server_env(hub_ip: str, service_url: str) -> dict[str, str]:
    """What KubeSpawner 7.1.0 gives the suite's servers (its ``config`` fixture + Spawner.get_env)."""
    return {
        "JUPYTERHUB_API_TOKEN": TOKEN,
        "JUPYTERHUB_CLIENT_ID": "ignored",
        "JUPYTERHUB_API_URL": f"http://{hub_ip}:8081/hub/api",
        "JUPYTERHUB_BASE_URL": "/",
        "JUPYTERHUB_USER": "bench",
        "JUPYTERHUB_SERVICE_PREFIX": "/user/bench/",
        "JUPYTERHUB_SERVICE_URL": service_url,
        "JUPYTERHUB_OAUTH_CALLBACK_URL": "/user/bench/oauth_callback",
    }


def hub_manifests() -> list[dict[str, Any]]:
    """The suite's hub pod (tests/conftest.py create_hub_pod) with a minimal config of its kind."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "hub-config"},
            "data": {"jupyterhub_config.py": HUB_CONFIG},
        },
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "hub", "labels": {"component": "hub"}},
            "spec": {
                "volumes": [{"name": "config", "configMap": {"name": "hub-config"}}],
                "containers": [
                    {
                        "name": "hub",
                        "image": images.HUB,
                        "args": ["jupyterhub", "-f", "/etc/jupyterhub/jupyterhub_config.py"],
                        "volumeMounts": [
                            {
                                "name": "config",
                                "mountPath": "/etc/jupyterhub/jupyterhub_config.py",
                                "subPath": "jupyterhub_config.py",
                            }
                        ],
                        "readinessProbe": {"tcpSocket": {"port": 8081}, "periodSeconds": 1},
                    }
                ],
            },
        },
    ]


def exec_pod() -> dict[str, Any]:
    """The suite's exec pod (tests/conftest.py exec_python)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "kubespawner-test-exec"},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {
                    "name": "python",
                    "image": images.EXEC,
                    "args": ["/bin/sh", "-c", "while true; do sleep 5; done"],
                }
            ],
        },
    }


#: what the suite's check_up does in the exec pod, against a port nobody listens on
CHECK_UP = """
import ssl
from urllib import request
try:
    request.build_opener(request.HTTPSHandler(context=None)).open("http://{ip}:9")
except OSError as e:
    raise SystemExit(str(e))
"""


def exec_attempt(kube: Kube, target_ip: str) -> float:
    """Seconds of one exec of ``python3 -c CHECK_UP`` through the API, as the suite's sync client runs it."""
    from kubernetes import client, stream

    api = client.CoreV1Api(client.ApiClient(kube.api.configuration))
    t0 = time.perf_counter()
    resp = stream.stream(
        api.connect_get_namespaced_pod_exec,
        "kubespawner-test-exec",
        NS,
        command=["python3", "-c", CHECK_UP.format(ip=target_ip)],
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
        _preload_content=False,
    )
    resp.run_forever(timeout=60)
    elapsed = time.perf_counter() - t0
    if resp.returncode != 1:
        raise RuntimeError(f"check_up against a closed port exited {resp.returncode}: {resp.read_stderr()}")
    return elapsed


def server_pod(name: str, hub_ip: str) -> dict[str, Any]:
    env = server_env(hub_ip, f"http://0.0.0.0:{PORT}/user/bench/")
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"component": "singleuser-server"}},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "automountServiceAccountToken": False,
            "securityContext": {"fsGroup": 100},
            "containers": [
                {
                    "name": "notebook",
                    "image": images.SINGLEUSER,
                    "args": WRAPPED,
                    "env": [{"name": k, "value": v} for k, v in env.items()],
                    "ports": [{"containerPort": PORT, "name": "notebook-port"}],
                }
            ],
        },
    }


def port_open(ip: str, port: int) -> bool:
    try:
        socket.create_connection((ip, port), timeout=0.2).close()
        return True
    except OSError:
        return False


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (the cluster process: API server, controllers and kubelet)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pod_run(kube: Kube, cluster: EmbeddedCluster, hub_ip: str, name: str) -> dict[str, float]:
    assert cluster._proc is not None
    cpu_before = cpu_seconds(cluster._proc.pid)
    created = time.time()
    kube.create(server_pod(name, hub_ip), namespace=NS)
    try:
        seen: dict[str, float] = {}
        pod: dict[str, Any] = {}

        def running() -> bool:
            got = kube.get("pod", NS, name) or {}
            status = got.get("status") or {}
            if status.get("phase") in ("Failed", "Succeeded"):
                raise RuntimeError(f"pod {name} ended: {status}")
            pod.update(got)
            return status.get("phase") == "Running" and bool(status.get("podIP"))

        benchlib.poll(f"pod {name} Running", running, 120, 0.01)
        seen["running"] = time.time()
        ip = pod["status"]["podIP"]
        benchlib.poll(f"port of {name}", lambda: port_open(ip, PORT), 120, 0.01)
        seen["port"] = time.time()
        cluster_cpu = cpu_seconds(cluster._proc.pid) - cpu_before
        run_dir = cluster.config.data_dir / "pods" / pod["metadata"]["uid"] / "containers" / "notebook" / "0"
        started = (run_dir / "spec.json").stat().st_mtime_ns / 1e9
        log = cluster.config.data_dir / "pods" / pod["metadata"]["uid"] / "logs" / "notebook" / "0.log"
        exec_at = float(log.read_text().splitlines()[0].split(" ", 3)[3])
        return {
            "create_to_start": started - created,
            "start_to_exec": exec_at - started,
            "start_to_running": seen["running"] - started,
            "exec_to_port": seen["port"] - exec_at,
            "running_to_port": seen["port"] - seen["running"],
            "cluster_cpu_create_to_port": cluster_cpu,
        }
    finally:
        kube.core.delete_namespaced_pod(name, NS, grace_period_seconds=0)
        benchlib.poll(f"pod {name} to go", lambda: kube.get("pod", NS, name) is None, 120, 0.1)


def bare_run(env_bin: list[str], hub_ip: str, *, importtime: bool = False) -> tuple[float, str]:
    """Seconds from starting ``jupyterhub-singleuser`` on the host to its port being open; its stderr."""
    home = Path(tempfile.mkdtemp(prefix="bench-suite-home-"))
    os.chown(home, benchlib.POD_UID, benchlib.POD_GID)
    port = benchlib.free_port()
    env = {
        "PATH": ":".join([*env_bin, "/usr/bin", "/bin"]),
        "HOME": str(home),
        "USER": "jovyan",
        **server_env(hub_ip, f"http://127.0.0.1:{port}/user/bench/"),
    }
    server = shutil.which("jupyterhub-singleuser", path=env["PATH"])
    assert server is not None
    argv = [str(Path(env_bin[0]) / "python"), "-X", "importtime", server] if importtime else [server]
    err = home / "stderr"
    try:
        with open(err, "wb") as fh:
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                argv,
                env=env,
                cwd=home,
                stdout=subprocess.DEVNULL,
                stderr=fh,
                start_new_session=True,
                preexec_fn=benchlib._as_pod_user,
            )
            try:

                def up() -> bool:
                    if proc.poll() is not None:
                        raise RuntimeError(f"bare server exited {proc.returncode}: {err.read_text()[-2000:]}")
                    return port_open("127.0.0.1", port)

                elapsed = benchlib.poll("bare jupyterhub-singleuser", up, 120, 0.01) - t0
            finally:  # measured what we came for: no need to wait for a graceful shutdown
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(15)
        return elapsed, err.read_text(errors="replace")
    finally:
        shutil.rmtree(home, ignore_errors=True)


_IMPORT = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


def heaviest_imports(stderr: str, top: int = 8) -> dict[str, Any]:
    """Total import time and the modules with the most time of their own (µs -> s)."""
    rows = [m for m in (_IMPORT.match(line) for line in stderr.splitlines()) if m]
    own = sorted(((int(m[1]), m[4]) for m in rows), reverse=True)[:top]
    cumulative = {m[4]: int(m[2]) for m in rows}
    return {
        "total_s": round(sum(int(m[1]) for m in rows) / 1e6, 3),
        "own_s": {name: round(us / 1e6, 3) for us, name in own},
        "rfc3987_syntax_cumulative_s": round(cumulative.get("rfc3987_syntax", 0) / 1e6, 3),
        "jupyterhub_singleuser_cumulative_s": round(cumulative.get("jupyterhub.singleuser", 0) / 1e6, 3),
    }


def run(n: int, exclude_newer: str) -> dict[str, Any]:
    built = images.build(exclude_newer)
    env_bin = [str(p) for p in built.singleuser]
    with (
        tempfile.TemporaryDirectory(prefix="bench-suite-start-", dir="/var/tmp") as tmp,
        EmbeddedCluster(Path(tmp) / "cluster") as cluster,
    ):
        images.load(ImageMap(cluster.config.data_dir), built)
        kube = Kube.from_kubeconfig(cluster.kubeconfig)
        kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        for manifest in [*hub_manifests(), exec_pod()]:
            kube.create(manifest, namespace=NS)

        def hub_ready() -> bool:
            conditions = ((kube.get("pod", NS, "hub") or {}).get("status") or {}).get("conditions") or []
            return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

        benchlib.poll("the hub pod Ready", hub_ready, 180, 0.2)
        hub_ip = (kube.get("pod", NS, "hub") or {})["status"]["podIP"]
        bare_run(env_bin, hub_ip)  # warm-ups, unrecorded
        pod_run(kube, cluster, hub_ip, "warmup")
        bares: list[float] = []
        pods: list[dict[str, float]] = []
        for i in range(n):
            bares.append(bare_run(env_bin, hub_ip)[0])
            pods.append(pod_run(kube, cluster, hub_ip, f"server-{i}"))
            print(f"  {i + 1}/{n}: bare {bares[-1]:.3f}s, pod {pods[-1]}", flush=True)
        execs = [exec_attempt(kube, hub_ip) for _ in range(n)]
        imported_in, stderr = bare_run(env_bin, hub_ip, importtime=True)
        kube.core.delete_namespace(NS)
    keys = pods[0].keys()
    return {
        "image": images.SINGLEUSER,
        "requirements": list(images.SINGLEUSER_REQUIREMENTS),
        "exclude_newer": exclude_newer,
        "load_average": os.getloadavg(),
        "pod": {key: benchlib.summary([p[key] for p in pods]) for key in keys},
        "bare_start_to_port": benchlib.summary(bares),
        "exec_check_up_attempt": benchlib.summary(execs),
        "ratio_exec_to_port_vs_bare": benchlib.ratio([p["exec_to_port"] for p in pods], bares),
        "importtime_run": {"start_to_port_s": round(imported_in, 3), **heaviest_imports(stderr)},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=5, help="bare/pod pairs (default 5)")
    parser.add_argument("--exclude-newer", default=KS_7_1_0_DAY)
    args = parser.parse_args()
    report = run(args.n, args.exclude_newer)
    benchlib.write_report(benchlib.REPORTS / "bench-suite-start.json", report)
    pod = report["pod"]
    for key, value in pod.items():
        print(f"pod {key:<18} median {value['median_s']:.3f} s  p90 {value['p90_s']:.3f} s")
    print(f"bare start_to_port       median {report['bare_start_to_port']['median_s']:.3f} s")
    print(f"one check_up exec        median {report['exec_check_up_attempt']['median_s']:.3f} s")
    print(f"imports (one bare run): {report['importtime_run']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
