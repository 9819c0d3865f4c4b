"""Benchmark a spawn through a real JupyterHub + KubeSpawner on the embedded cluster, against a bare start.

The hub is deployed by the harness's own code (``DeployedHub``, as a scenario run does) with a per-user
PVC mounted in the server; one user's server is started and stopped repeatedly through the hub's REST
API: the first spawn includes creating and binding the PVC, the others are respawns onto it.  A spawn
is timed from the POST to the progress stream's ``ready`` (the hub has then seen the server answer).
Two baselines, each started bare on the host from the same singleuser environment, alternating with
the spawns:

- ``jupyterhub-singleuser`` as the hub started it (the pod's command and ``JUPYTERHUB_*`` environment,
  talking to the same hub), until it answers the hub's own readiness request: what a spawn runs, so
  issue 13's target (a spawn <= 1.3x a bare jupyterhub-singleuser start) is read against it;
- ``jupyter-server`` until it answers an authenticated request (the baseline of earlier runs, kept so
  they stay comparable): lighter, it imports no jupyterhub and has no hub to talk to.

Writes ``reports/bench-spawn.json``.  Needs root.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import benchlib

from harness.clusters.embedded.backend import EmbeddedBackend
from harness.clusters.embedded.images import ImageMap
from harness.clusters.kube import Kube
from harness.hub import deploy, manifests
from harness.hub.deployed import DeployedHub
from harness.hub.driver import HubClient
from harness.hub.settings import HubSettings
from harness.options import HarnessOptions

USER = "bench"
#: storage like the scenarios': a dynamically provisioned claim per user, mounted in the server.
KUBESPAWNER_CONFIG: dict[str, Any] = {
    "storage_pvc_ensure": True,
    "storage_capacity": "100Mi",
    "pvc_name_template": "claim-{username}",
    "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "claim-{username}"}}],
    "volume_mounts": [{"name": "data", "mountPath": "/home/jovyan/data"}],
}


def timed(action: Callable[..., object], *args: Any, **kwargs: Any) -> float:
    t0 = time.perf_counter()
    action(*args, **kwargs)
    return time.perf_counter() - t0


@dataclass
class BenchedHub:
    """What a spawn benchmark works with: the cluster, its client, the deployed hub, the server's env."""

    backend: EmbeddedBackend
    kube: Kube
    target: DeployedHub
    env_bin: list[str]
    deploy_s: float


@contextlib.contextmanager
def benched_hub(name: str, hub_config: dict[str, Any] | None = None) -> Iterator[BenchedHub]:
    """An embedded cluster with a hub deployed as the scenarios deploy it and the bench user created;
    everything is torn down after. The one setup of bench_spawn and profile_spawn."""
    options = HarnessOptions()
    backend = EmbeddedBackend(options)
    with backend:
        kube = Kube.from_kubeconfig(backend.kubeconfig)
        target = DeployedHub(
            cluster=backend,
            versions=options.versions,
            kube_=kube,
            namespace_=deploy.namespace_name(name),
            config=HubSettings(kubespawner=KUBESPAWNER_CONFIG, hub_config=hub_config or {}),
        )
        try:
            deploy_s = timed(target.setup)
            assert target.images is not None
            env_bin = list(ImageMap(backend.data_dir).resolve(target.images.singleuser).path)
            target.hub.create_user(USER)
            yield BenchedHub(backend, kube, target, env_bin, deploy_s)
        finally:
            target.teardown(keep=False)


def explain(kube: Kube, namespace: str) -> str:
    """Pods and the tail of the hub's log: why a spawn failed, before teardown deletes the evidence."""
    hub_pods = kube.list("pod", namespace, deploy.selector_of(manifests.HUB_LABELS))
    logs = [kube.logs(namespace, p["metadata"]["name"]) for p in hub_pods]
    tail = "\n".join("\n".join(text.splitlines()[-40:]) for text in logs)
    return f"pods: {deploy.pod_summary(kube, namespace)}\nhub log tail:\n{tail}"


def run(n_respawns: int) -> dict[str, Any]:
    with benched_hub("bench-spawn") as bench, contextlib.ExitStack() as closing:
        kube, target, env_bin, deploy_s = bench.kube, bench.target, bench.env_bin, bench.deploy_s
        try:
            hub = target.hub
            benchlib.bare_jupyter_start(env_bin)  # unrecorded warm-up of the baseline
            bare: list[float] = []
            bare_su: list[float] = []
            hub_url = closing.enter_context(target.cluster.service_url(target.namespace_, "hub", 8081))
            starts: dict[int, float] = {}
            stops: list[float] = []
            incidents: list[str] = []
            for i in range(n_respawns + 1):
                kind = "first spawn (with PVC)" if i == 0 else f"respawn {i}/{n_respawns}"
                bare.append(benchlib.bare_jupyter_start(env_bin))
                step = "start"
                try:
                    starts[i] = timed(hub.start_server, USER, timeout=300)
                    step = "bare jupyterhub-singleuser"
                    bare_su.append(
                        benchlib.bare_singleuser_start(env_bin, *as_started(kube, target), hub_url)
                    )
                    step = "stop"
                    stops.append(timed(hub.stop_server, USER))
                except httpx.TransportError as exc:
                    incidents.append(
                        f"{kind}: {step}: {type(exc).__name__} (no answer within the client timeout)"
                    )
                    print(f"  {kind}: INCIDENT {incidents[-1]}", file=sys.stderr, flush=True)
                    hub = settle(hub)
                    continue
                print(
                    f"  {kind}: spawn {starts[i]:.3f}s, stop {stops[-1]:.3f}s, bare jupyter-server "
                    f"{bare[-1]:.3f}s, bare jupyterhub-singleuser {bare_su[-1]:.3f}s",
                    flush=True,
                )
            pvc = kube.get("pvc", target.namespace_, f"claim-{USER}")
            if pvc is None or (pvc.get("status") or {}).get("phase") != "Bound":
                raise RuntimeError(f"the user's PVC is not Bound after the spawns: {pvc}")
            try:
                hub.delete_user(USER)
            except httpx.TransportError as exc:  # teardown deletes the namespace anyway
                incidents.append(f"cleanup: delete_user: {type(exc).__name__}")
            hub.close()
        except BaseException:
            print(explain(kube, target.namespace_), file=sys.stderr)
            raise
    respawns = [t for i, t in starts.items() if i > 0]
    first = starts.get(0)
    median_bare = statistics.median(bare)
    median_su = statistics.median(bare_su)
    return {
        "versions": {"kubespawner": target.spawner_version, "jupyterhub": target.hub_version},
        "method": (
            "spawn = POST /hub/api/users/bench/server -> progress 'ready'; stop = DELETE -> hub lists no "
            "server; each spawn follows a bare jupyter-server start (after one unrecorded warm-up); "
            "a cycle whose request got no answer is an incident, left out of the timings"
        ),
        "hub_deploy_to_api_s": round(deploy_s, 3),
        "first_spawn_with_pvc_s": round(first, 4) if first is not None else None,
        "respawn": benchlib.summary(respawns),
        "stop": benchlib.summary(stops),
        "bare_jupyter_server_to_http": benchlib.summary(bare),
        "bare_singleuser_to_http": benchlib.summary(bare_su),
        "ratio_first_spawn_vs_bare": round(first / median_bare, 2) if first is not None else None,
        "ratio_respawn_vs_bare": benchlib.ratio(respawns, bare),
        "ratio_first_spawn_vs_bare_singleuser": round(first / median_su, 2) if first is not None else None,
        "ratio_respawn_vs_bare_singleuser": benchlib.ratio(respawns, bare_su),
        "incidents": incidents,
    }


def as_started(kube: Kube, target: DeployedHub) -> tuple[list[str], dict[str, str]]:
    """The running server's command line and environment, from its pod (KubeSpawner wrote both)."""
    pod = kube.get("pod", target.namespace_, f"jupyter-{USER}")
    if pod is None:
        raise RuntimeError("the user's pod is gone while its server runs")
    container = pod["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container.get("env") or [] if "value" in e}
    return [*(container.get("command") or []), *(container.get("args") or [])], env


def settle(hub: HubClient) -> HubClient:
    """After a request that got no answer: a new client (new connections), and no server left running."""
    fresh = HubClient(hub.base_url, hub.token)
    hub.close()

    def not_pending() -> bool:
        model = fresh.server(USER)
        return model is None or not model.get("pending")

    benchlib.poll("the user's server to leave its pending state", not_pending, 300, 0.5)
    fresh.stop_server(USER)
    return fresh


def table_rows(report: dict[str, Any]) -> list[benchlib.Row]:
    rows: list[benchlib.Row] = []
    for short, key, suffix in (
        ("singleuser", "bare_singleuser_to_http", "_singleuser"),
        ("jupyter-server", "bare_jupyter_server_to_http", ""),
    ):
        if key not in report:  # a report from before the singleuser baseline
            continue
        bare = report[key]
        if report["first_spawn_with_pvc_s"] is not None:
            first = benchlib.summary([report["first_spawn_with_pvc_s"]])
            rows.append(
                (f"first spawn vs bare {short}", first, bare, report[f"ratio_first_spawn_vs_bare{suffix}"])
            )
        rows.append(
            (f"respawn vs bare {short}", report["respawn"], bare, report[f"ratio_respawn_vs_bare{suffix}"])
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--respawns", type=int, default=10)
    parser.add_argument("--out", type=Path, default=benchlib.REPORTS / "bench-spawn.json")
    args = parser.parse_args()
    report = run(args.respawns)
    benchlib.write_report(args.out, report)
    benchlib.print_table(table_rows(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
