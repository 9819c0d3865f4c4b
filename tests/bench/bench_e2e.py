"""Benchmark the whole e2e run: scenarios x KubeSpawner releases, serial and with xdist, warm and cold.

Runs ``pytest scenarios/`` the way ``nox -s e2e`` does (one pytest per release), in these phases, all
in one run so the ratios compare like with like on a shared CPU (parallel and serial alternate per
release, so a change of the machine's load weighs on both):

- ``cold`` (full mode only): ``-n <workers>`` with empty environment and uv caches (fresh
  ``JHSC_CACHE_DIR`` and ``UV_CACHE_DIR``), so every pod environment is built as on a fresh machine;
- ``parallel``: ``-n <workers>`` with the built environments (the default ``nox -s e2e``);
- ``serial``: ``-n 0`` (``-p no:xdist`` semantics: one process, one cluster);
- ``bare``: ``jupyter-server`` of the singleuser environment started on the host (``benchlib``),
  between the phases, the baseline a spawn is compared with.

Everything per scenario and per step comes from the results files the plugin writes
(``reports/bench-e2e/<phase>/results/*.json``, kept out of the conformance report), never from
logs. Writes ``reports/bench-e2e.json`` and prints the numbers against the targets of issue 13.
``--quick`` runs a subset (two scenarios, one release) in a few minutes. Needs root.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import benchlib

from harness.clusters.base import HubVersions
from harness.clusters.embedded.backend import hub_image, proxy_image, singleuser_image
from harness.versions import KUBESPAWNER_MATRIX, default_jupyterhub_for

SCENARIOS = benchlib.ROOT / "scenarios"
OUT_DIR = benchlib.REPORTS / "bench-e2e"
#: The step kinds the issue asks about; every other kind is summed under "checks".
STEP_KINDS = ("start", "stop", "restart_hub", "restart_cluster")
#: The seed scenarios (the warm per-scenario target is about them).
SEEDS = ("seed-single-user", "seed-multi-user")
QUICK_SCENARIOS = ("seed-single-user.yaml", "persistence-restarts.yaml")
QUICK_RELEASES = ("7.1.0",)

#: name -> (what, how the measured value compares); the values are filled in by ``targets``.
TARGETS: dict[str, str] = {
    "warm_seed_scenario_median_s": "each seed scenario <= 10 s median (warm)",
    "warm_matrix_wall_s": "the library x 3 releases <= 8 min wall (warm, the default -n)",
    "parallel_speedup": "-n 2 >= 1.7x serial",
    "spawn_vs_bare": "a spawn through the hub <= 1.3x a bare jupyter-server start",
    "cold_vs_warm": "cold (empty caches) <= 1.5x warm",
}


def pytest_argv(release: str, scenarios: Sequence[str], workers: int, reports: Path, name: str) -> list[str]:
    paths = [str(SCENARIOS / s) for s in scenarios] if scenarios else [str(SCENARIOS)]
    return [
        sys.executable,
        "-m",
        "pytest",
        *paths,
        "--kubespawner-version",
        release,
        "--jupyterhub-version",
        default_jupyterhub_for(release),
        "--reports-dir",
        str(reports),
        "--results-name",
        name,
        "-p",
        "no:cacheprovider",
        "-q",
        "-n",
        str(workers),
    ]


def run_release(phase: str, release: str, scenarios: Sequence[str], workers: int, env: dict[str, str]) -> Any:
    """One release's pytest (as one nox session runs it); its wall, exit status and cells."""
    reports = OUT_DIR / phase
    name = f"{phase}-ks-{release}"
    argv = pytest_argv(release, scenarios, workers, reports, name)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=benchlib.ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    log = reports / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(proc.stdout + proc.stderr)
    results_file = reports / "results" / f"{name}.json"
    cells = json.loads(results_file.read_text())["cells"] if results_file.exists() else []
    tail = proc.stdout.strip().splitlines()[-1:] or ["(no output)"]
    load = round(os.getloadavg()[0], 1)
    print(f"  {phase} {release}: {wall:.1f}s, exit {proc.returncode}, load {load}: {tail[0]}", flush=True)
    return {"wall_s": round(wall, 2), "exit": proc.returncode, "log": str(log), "load1": load, "cells": cells}


def run_phases(
    phases: dict[str, int], releases: Sequence[str], scenarios: Sequence[str], env: dict[str, str]
) -> dict[str, Any]:
    """Every phase (name -> xdist workers) for each release, the phases interleaved per release
    (parallel 6.2.0, serial 6.2.0, parallel 7.0.0, ...) so that a change in the machine's load
    during the run weighs on both sides of their ratio alike."""
    for phase in phases:
        shutil.rmtree(OUT_DIR / phase, ignore_errors=True)
    out: dict[str, Any] = {phase: {"workers": workers, "runs": {}} for phase, workers in phases.items()}
    for release in releases:
        for phase, workers in phases.items():
            out[phase]["runs"][release] = run_release(phase, release, scenarios, workers, env)
    for phase in out.values():
        phase["wall_s"] = round(sum(run["wall_s"] for run in phase["runs"].values()), 2)
    return out


def step_bucket(kind: str) -> str:
    return kind if kind in STEP_KINDS else "checks"


def phase_breakdown(phase: dict[str, Any]) -> dict[str, Any]:
    """Per scenario (wall per release, median) and per step kind (every duration) of one phase."""
    walls: dict[str, list[float]] = defaultdict(list)
    kinds: dict[str, list[float]] = defaultdict(list)
    spawns: list[float] = []
    first_spawns: list[float] = []
    verdicts: dict[str, int] = defaultdict(int)
    for run in phase["runs"].values():
        for cell in run["cells"]:
            verdicts[cell["verdict"]] += 1
            if cell["verdict"] in ("SKIP", "ERROR"):
                continue
            walls[cell["scenario"]].append(cell.get("wall", 0.0))
            kinds["deploy"].append(cell.get("deploy", 0.0))
            kinds["cleanup"].append(cell.get("cleanup", 0.0))
            for step in cell["steps"]:
                if step["status"] in ("passed", "known", "failed"):
                    kinds[step_bucket(step["kind"])].append(step["duration"])
            spawns += cell["spawn_times"]
            first_spawns += cell["spawn_times"][:1]
    scenario_rows = {
        name: {"median_s": round(statistics.median(w), 2), "walls_s": [round(x, 2) for x in w]}
        for name, w in sorted(walls.items())
    }
    kind_rows = {
        kind: {
            "n": len(d),
            "median_s": round(statistics.median(d), 3),
            "total_s": round(sum(d), 2),
            "max_s": round(max(d), 3),
        }
        for kind, d in sorted(kinds.items())
        if d
    }
    cells_total = sum(sum(w) for w in walls.values())
    return {
        "scenarios": scenario_rows,
        "step_kinds": kind_rows,
        "spawn": benchlib.summary(spawns) if spawns else None,
        "first_spawn_per_scenario": benchlib.summary(first_spawns) if first_spawns else None,
        "cells_wall_total_s": round(cells_total, 2),
        "verdicts": dict(verdicts),
        "exits": {release: run["exit"] for release, run in phase["runs"].items()},
    }


def bare_starts(releases: Sequence[str], n: int) -> list[float]:
    """``n`` bare jupyter-server starts from the singleuser environment of each release."""
    samples: list[float] = []
    for release in releases:
        versions = HubVersions(release, default_jupyterhub_for(release))
        _ref, entry = singleuser_image(versions)
        benchlib.bare_jupyter_start(entry.path)  # unrecorded warm-up, as bench_spawn does
        samples += [benchlib.bare_jupyter_start(entry.path) for _ in range(n)]
    return samples


def ratio_or_none(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with the measured value and whether it is met (None: not measured in this mode)."""
    phases = report["phases"]
    parallel, serial = phases.get("parallel"), phases.get("serial")
    scenarios = parallel["breakdown"]["scenarios"] if parallel else {}
    serial_scen = serial["breakdown"]["scenarios"] if serial else scenarios
    seeds = [serial_scen[s]["median_s"] for s in SEEDS if s in serial_scen]
    full_matrix = report["releases"] == list(KUBESPAWNER_MATRIX) and not report["quick"]
    rows = [
        ("warm_seed_scenario_median_s", max(seeds) if seeds else None, lambda v: v <= 10.0),
        (
            "warm_matrix_wall_s",
            parallel["wall_s"] if parallel and full_matrix else None,
            lambda v: v <= 480.0,
        ),
        ("parallel_speedup", report["ratios"].get("serial_over_parallel"), lambda v: v >= 1.7),
        ("spawn_vs_bare", report["ratios"].get("spawn_over_bare"), lambda v: v <= 1.3),
        ("cold_vs_warm", report["ratios"].get("cold_over_warm"), lambda v: v <= 1.5),
    ]
    return [
        {
            "target": name,
            "what": TARGETS[name],
            "measured": value,
            "met": None if value is None else ok(value),
        }
        for name, value, ok in rows
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="two scenarios, one release, no cold phase")
    parser.add_argument("--releases", nargs="+", help=f"KubeSpawner releases (default {KUBESPAWNER_MATRIX})")
    parser.add_argument("--scenarios", nargs="+", help="scenario files under scenarios/ (default: all)")
    parser.add_argument("--workers", type=int, default=2, help="xdist workers of the parallel phases")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold phase")
    parser.add_argument("--bare", type=int, default=5, help="bare starts per release")
    parser.add_argument("--out", type=Path, default=benchlib.REPORTS / "bench-e2e.json")
    args = parser.parse_args()
    releases = list(args.releases or (QUICK_RELEASES if args.quick else KUBESPAWNER_MATRIX))
    scenarios = list(args.scenarios or (QUICK_SCENARIOS if args.quick else ()))
    cold = not (args.quick or args.no_cold)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    report: dict[str, Any] = {
        "method": (
            "one pytest per release (as nox -s e2e): cold first (-n workers, empty JHSC_CACHE_DIR and "
            "UV_CACHE_DIR), then parallel (-n workers) and serial (-n 0) interleaved per release; "
            "per scenario and step kind from the results files; bare = jupyter-server of the singleuser "
            "environment started on the host, measured in the same run; the CPU is shared, so compare "
            "ratios, not absolute seconds"
        ),
        "quick": args.quick,
        "releases": releases,
        "scenarios": scenarios or sorted(p.name for p in SCENARIOS.glob("*.yaml")),
        "cpus": os.cpu_count(),
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
        "phases": {},
        "ratios": {},
    }
    phases: dict[str, Any] = report["phases"]
    if cold:
        scratch = Path(tempfile.mkdtemp(prefix="bench-e2e-cold-", dir="/var/tmp"))
        try:
            (scratch / "envs").mkdir()
            os.chmod(scratch, 0o755)  # pods (uid 1000) run from environments under it
            cold_env = {**env, "JHSC_CACHE_DIR": str(scratch), "UV_CACHE_DIR": str(scratch / "uv")}
            phases.update(run_phases({"cold": args.workers}, releases, scenarios, cold_env))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    # the warm phases need built environments: build what is missing now, outside the timings
    proxy_image()
    for release in releases:
        versions = HubVersions(release, default_jupyterhub_for(release))
        hub_image(versions)
        singleuser_image(versions)
    bare = bare_starts(releases, args.bare)
    phases.update(run_phases({"parallel": args.workers, "serial": 0}, releases, scenarios, env))
    bare += bare_starts(releases, args.bare)
    for phase in phases.values():
        phase["breakdown"] = phase_breakdown(phase)
        for run in phase["runs"].values():
            del run["cells"]  # the results files keep them
    report["bare_jupyter_server_to_http"] = benchlib.summary(bare)
    serial_b = phases["serial"]["breakdown"]
    spawn = serial_b["spawn"]
    first = serial_b["first_spawn_per_scenario"]
    bare_median = report["bare_jupyter_server_to_http"]["median_s"]
    report["ratios"] = {
        "serial_over_parallel": ratio_or_none(phases["serial"]["wall_s"], phases["parallel"]["wall_s"]),
        "serial_over_parallel_per_release": {
            release: ratio_or_none(run["wall_s"], phases["parallel"]["runs"][release]["wall_s"])
            for release, run in phases["serial"]["runs"].items()
        },
        "spawn_over_bare": ratio_or_none(spawn and spawn["median_s"], bare_median),
        "first_spawn_over_bare": ratio_or_none(first and first["median_s"], bare_median),
        "cold_over_warm": ratio_or_none(phases["cold"]["wall_s"], phases["parallel"]["wall_s"])
        if "cold" in phases
        else None,
    }
    report["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    report["targets"] = targets(report)
    benchlib.write_report(args.out, report)
    print_report(report)
    print(f"wrote {args.out}")
    return 0 if all(r["exit"] in (0, 1) for p in phases.values() for r in p["runs"].values()) else 1


def print_report(report: dict[str, Any]) -> None:
    phases = report["phases"]
    print(f"e2e: {len(report['scenarios'])} scenario file(s) x {len(report['releases'])} release(s)")
    for name, phase in phases.items():
        b = phase["breakdown"]
        print(
            f"  {name:<9} -n {phase['workers']}: {phase['wall_s']:7.1f}s wall, "
            f"cells {b['cells_wall_total_s']:.1f}s, verdicts {b['verdicts']}"
        )
    serial = phases["serial"]["breakdown"]
    print("per scenario (serial, median over releases):")
    for name, row in serial["scenarios"].items():
        print(f"  {name:<40} {row['median_s']:7.1f}s  {row['walls_s']}")
    print("per step kind (serial): n, median, total")
    for kind, row in serial["step_kinds"].items():
        print(f"  {kind:<16} {row['n']:4d} {row['median_s']:8.2f}s {row['total_s']:8.1f}s")
    bare = report["bare_jupyter_server_to_http"]
    print(f"bare jupyter-server start: median {bare['median_s']:.2f}s (n {bare['n']})")
    print(f"ratios: {report['ratios']}")
    print("targets:")
    for row in report["targets"]:
        met = {True: "met", False: "NOT met", None: "not measured"}[row["met"]]
        print(f"  {row['what']:<66} measured {row['measured']}: {met}")
    print(f"load average before/after: {report['loadavg_before']} / {report['loadavg_after']}")


if __name__ == "__main__":
    sys.exit(main())
