"""Benchmark a spawn through a real JupyterHub + KubeSpawner on the embedded cluster, against a bare start.

The hub is deployed by the harness's own code (``DeployedHub``, as a scenario run does) with a per-user
PVC mounted in the server; one user's server is started and stopped repeatedly through the hub's REST
API: the first spawn includes creating and binding the PVC, the others are respawns onto it.  A spawn
is timed from the POST to the progress stream's ``ready`` (the hub has then seen the server answer).
The baseline is ``jupyter-server`` from the same singleuser environment started bare on the host until
it answers HTTP, alternating with the spawns.  Writes ``reports/bench-spawn.json``.  Needs root.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import benchlib

from harness.clusters.embedded.backend import EmbeddedBackend
from harness.clusters.embedded.images import ImageMap
from harness.hub import deploy
from harness.hub.k8s import Kube
from harness.hub.target import DeployedHub
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


def timed(action: Any) -> float:
    t0 = time.perf_counter()
    action()
    return time.perf_counter() - t0


def run(n_respawns: int) -> dict[str, Any]:
    options = HarnessOptions()
    backend = EmbeddedBackend(options)
    with backend:
        kube = Kube.from_kubeconfig(backend.kubeconfig)
        target = DeployedHub(
            cluster=backend,
            versions=options.versions,
            kube_=kube,
            namespace_=deploy.namespace_name("bench-spawn"),
            kubespawner_config=KUBESPAWNER_CONFIG,
            hub_config={},
        )
        try:
            deploy_s = timed(target.setup)
            assert target.images is not None
            env_bin = ImageMap(backend.data_dir).resolve(target.images.singleuser).path
            hub = target.hub
            hub.create_user(USER)
            benchlib.bare_jupyter_start(env_bin)  # unrecorded warm-up of the baseline
            bare: list[float] = []
            starts: list[float] = []
            stops: list[float] = []
            for i in range(n_respawns + 1):
                bare.append(benchlib.bare_jupyter_start(env_bin))
                starts.append(timed(lambda: hub.start_server(USER, timeout=300)))
                stops.append(timed(lambda: hub.stop_server(USER)))
                kind = "first spawn (with PVC)" if i == 0 else f"respawn {i}/{n_respawns}"
                print(
                    f"  {kind}: spawn {starts[-1]:.3f}s, stop {stops[-1]:.3f}s, bare {bare[-1]:.3f}s",
                    flush=True,
                )
            pvc = kube.get("pvc", target.namespace_, f"claim-{USER}")
            if pvc is None or (pvc.get("status") or {}).get("phase") != "Bound":
                raise RuntimeError(f"the user's PVC is not Bound after the spawns: {pvc}")
            hub.delete_user(USER)
        finally:
            target.teardown(keep=False)
    respawns = starts[1:]
    return {
        "versions": {"kubespawner": target.spawner_version, "jupyterhub": target.hub_version},
        "method": (
            "spawn = POST /hub/api/users/bench/server -> progress 'ready'; stop = DELETE -> hub lists no "
            "server; each spawn follows a bare jupyter-server start (after one unrecorded warm-up)"
        ),
        "hub_deploy_to_api_s": round(deploy_s, 3),
        "first_spawn_with_pvc_s": round(starts[0], 4),
        "respawn": benchlib.summary(respawns),
        "stop": benchlib.summary(stops),
        "bare_jupyter_server_to_http": benchlib.summary(bare),
        "ratio_first_spawn_vs_bare": round(starts[0] / statistics.median(bare), 2),
        "ratio_respawn_vs_bare": benchlib.ratio(respawns, bare),
    }


def table_rows(report: dict[str, Any]) -> list[benchlib.Row]:
    bare = report["bare_jupyter_server_to_http"]
    first = benchlib.summary([report["first_spawn_with_pvc_s"]])
    return [
        ("hub spawn, first (with PVC)", first, bare, report["ratio_first_spawn_vs_bare"]),
        ("hub respawn", report["respawn"], bare, report["ratio_respawn_vs_bare"]),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--respawns", type=int, default=5)
    parser.add_argument("--out", type=Path, default=benchlib.REPORTS / "bench-spawn.json")
    args = parser.parse_args()
    report = run(args.respawns)
    benchlib.write_report(args.out, report)
    benchlib.print_table(table_rows(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
