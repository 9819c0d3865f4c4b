"""Benchmark pod start-up on a real embedded cluster against the same command started bare on the host.

(a) trivial: ``sh -c 'echo up; exec sleep 3600'`` with an exec readiness probe; pod create -> Running
    and -> Ready, versus fork/exec -> first line on stdout.
(b) jupyter: ``jupyter-server`` of the singleuser "image" (``jupyterhub-singleuser`` blocks until a hub
    API answers, so it cannot start standalone); pod create -> HTTP 200 on podIP:8888, versus bare
    start -> HTTP 200 on 127.0.0.1:<port>.

Bare and pod runs alternate, so CPU contention from other work hits both alike; one unrecorded warm-up
of each comes first.  Writes ``reports/bench-pods.json``.  Needs root (the embedded cluster does).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import benchlib

from harness.clusters.base import Images
from harness.clusters.embedded.backend import EmbeddedBackend
from harness.clusters.embedded.images import ImageMap
from harness.clusters.kube import Kube
from harness.hub import deploy
from harness.options import HarnessOptions

JUPYTER_PORT = 8888


def trivial_pod(name: str, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {
                    "name": "main",
                    "image": image,
                    "command": benchlib.TRIVIAL_COMMAND,
                    "readinessProbe": {"exec": {"command": ["/bin/true"]}, "periodSeconds": 1},
                }
            ],
        },
    }


def jupyter_pod(name: str, image: str, token: str) -> dict[str, Any]:
    """Like a KubeSpawner pod: uid 1000, fs_gid 100, the singleuser image; no volumes."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 0,
            "securityContext": {
                "runAsUser": benchlib.POD_UID,
                "runAsGroup": benchlib.POD_GID,
                "fsGroup": benchlib.POD_GID,
            },
            "containers": [
                {
                    "name": "notebook",
                    "image": image,
                    "command": benchlib.jupyter_server_command(JUPYTER_PORT, token, "0.0.0.0"),
                    "workingDir": "/home/jovyan",
                    "ports": [{"containerPort": JUPYTER_PORT, "name": "notebook-port"}],
                }
            ],
        },
    }


def _ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _phase(pod: dict[str, Any] | None) -> str:
    phase = ((pod or {}).get("status") or {}).get("phase") or ""
    if phase in ("Failed", "Succeeded"):
        raise RuntimeError(f"pod ended ({phase}): {(pod or {}).get('status')}")
    return str(phase)


def delete_pod(kube: Kube, ns: str, name: str) -> None:
    kube.core.delete_namespaced_pod(name, ns, grace_period_seconds=0)
    benchlib.poll(f"pod {name} to go", lambda: kube.get("pod", ns, name) is None, 120, 0.1)


def pod_trivial_start(kube: Kube, ns: str, image: str, name: str) -> tuple[float, float]:
    """(create -> Running, create -> Ready) in seconds; the pod is deleted afterwards."""
    t0 = time.perf_counter()
    kube.create(trivial_pod(name, image), namespace=ns)
    try:
        seen: dict[str, float] = {}

        def probe() -> bool:
            pod = kube.get("pod", ns, name)
            now = time.perf_counter()
            if _phase(pod) == "Running":
                seen.setdefault("running", now)
                if pod is not None and _ready(pod):
                    seen.setdefault("ready", now)
            return "ready" in seen

        benchlib.poll(f"pod {name} Ready", probe, 120)
        return seen["running"] - t0, seen["ready"] - t0
    finally:
        delete_pod(kube, ns, name)


def pod_jupyter_start(kube: Kube, ns: str, image: str, name: str) -> float:
    """Seconds from create to an authenticated HTTP 200 on podIP:8888; the pod is deleted afterwards."""
    token = secrets.token_hex(16)
    t0 = time.perf_counter()
    kube.create(jupyter_pod(name, image, token), namespace=ns)
    try:
        url: list[str] = []

        def probe() -> bool:
            if not url:
                pod = kube.get("pod", ns, name)
                _phase(pod)  # raises when the container already ended
                ip = ((pod or {}).get("status") or {}).get("podIP")
                if not ip:
                    return False
                url.append(benchlib.status_url(f"http://{ip}:{JUPYTER_PORT}"))
            return benchlib.http_ok(url[0], benchlib.auth(token), timeout=1.0)

        return benchlib.poll(f"jupyter-server in pod {name}", probe, 180) - t0
    finally:
        delete_pod(kube, ns, name)


def alternate(
    n: int, bare: Callable[[], float], pod: Callable[[int], Any], label: str
) -> tuple[list[float], list[Any]]:
    """One unrecorded warm-up of each, then ``n`` bare/pod pairs, interleaved."""
    bare()
    pod(-1)
    bares, pods = [], []
    for i in range(n):
        bares.append(bare())
        pods.append(pod(i))
        print(f"  {label} {i + 1}/{n}: bare {bares[-1]:.4f}s, pod {pods[-1]}", flush=True)
    return bares, pods


def run(n_trivial: int, n_jupyter: int) -> dict[str, Any]:
    options = HarnessOptions()
    backend = EmbeddedBackend(options)
    with backend:
        images: Images = backend.images(options.versions)
        singleuser_path = ImageMap(backend.data_dir).resolve(images.singleuser).path
        kube = Kube.from_kubeconfig(backend.kubeconfig)
        ns = deploy.namespace_name("bench-pods")
        deploy.create_namespace(kube, ns)
        try:
            print(f"trivial pods (N={n_trivial})", flush=True)
            t_bare, t_pod = alternate(
                n_trivial,
                benchlib.bare_trivial_start,
                lambda i: pod_trivial_start(kube, ns, images.reader, f"trivial-{i + 1}"),
                "trivial",
            )
            print(f"jupyter-server pods (N={n_jupyter})", flush=True)
            j_bare, j_pod = alternate(
                n_jupyter,
                lambda: benchlib.bare_jupyter_start(singleuser_path),
                lambda i: pod_jupyter_start(kube, ns, images.singleuser, f"jupyter-{i + 1}"),
                "jupyter",
            )
        finally:
            deploy.delete_namespace(kube, ns, wait=True)
    running = [r for r, _ in t_pod]
    ready = [r for _, r in t_pod]
    return {
        "versions": {"kubespawner": options.kubespawner_version, "jupyterhub": options.jupyterhub_version},
        "method": (
            "bare and pod runs alternate after one unrecorded warm-up each; times from just before the "
            f"create call / fork, observed by polling every {benchlib.POLL_S * 1000:.0f} ms"
        ),
        "trivial": {
            "command": benchlib.TRIVIAL_COMMAND,
            "readiness_probe": "exec /bin/true, periodSeconds 1",
            "pod_create_to_running": benchlib.summary(running),
            "pod_create_to_ready": benchlib.summary(ready),
            "bare_fork_to_first_line": benchlib.summary(t_bare),
            "ratio_running_vs_bare": benchlib.ratio(running, t_bare),
            "ratio_ready_vs_bare": benchlib.ratio(ready, t_bare),
        },
        "jupyter": {
            "command": benchlib.jupyter_server_command(JUPYTER_PORT, "<token>", "0.0.0.0"),
            "note": (
                "jupyter-server of the singleuser image env, not jupyterhub-singleuser: the latter blocks "
                "in check_hub_version until a hub API answers, so it cannot start without a hub"
            ),
            "pod_create_to_http": benchlib.summary(j_pod),
            "bare_start_to_http": benchlib.summary(j_bare),
            "ratio_vs_bare": benchlib.ratio(j_pod, j_bare),
        },
    }


def table_rows(report: dict[str, Any]) -> list[benchlib.Row]:
    t, j = report["trivial"], report["jupyter"]
    bare = t["bare_fork_to_first_line"]
    return [
        ("pod create->Running (sleep)", t["pod_create_to_running"], bare, t["ratio_running_vs_bare"]),
        ("pod create->Ready (sleep)", t["pod_create_to_ready"], bare, t["ratio_ready_vs_bare"]),
        (
            "pod create->HTTP (jupyter-server)",
            j["pod_create_to_http"],
            j["bare_start_to_http"],
            j["ratio_vs_bare"],
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--trivial-runs", type=int, default=20)
    parser.add_argument("--jupyter-runs", type=int, default=10)
    parser.add_argument("--out", type=Path, default=benchlib.REPORTS / "bench-pods.json")
    args = parser.parse_args()
    report = run(args.trivial_runs, args.jupyter_runs)
    benchlib.write_report(args.out, report)
    benchlib.print_table(table_rows(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
