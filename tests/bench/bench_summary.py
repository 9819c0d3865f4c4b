"""Print one short table of the numbers the benchmarks wrote under ``reports/`` (the closing note's).

Run last by ``nox -s bench``; reads ``bench-apiserver.json``, ``bench-pods.json``, ``bench-spawn.json``
and ``bench-suite-start.json`` and says which of them are missing rather than failing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_pods
import bench_spawn
import benchlib


def load(name: str) -> dict[str, Any] | None:
    path = benchlib.REPORTS / name
    if not path.exists():
        print(f"({path} missing)")
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def main() -> int:
    api = load("bench-apiserver.json")
    if api is not None:
        print(
            f"apiserver: cold start {api['cold_start_s']} s, "
            f"create+get median {api['create_get_median_ms']} ms, "
            f"watch event median {api['watch_event_median_ms']} ms, RSS {api['rss_mib']} MiB "
            f"with {api['objects']} objects (target < {api['rss_target_mib']})"
        )
    rows: list[benchlib.Row] = []
    pods = load("bench-pods.json")
    if pods is not None:
        rows += bench_pods.table_rows(pods)
    spawn = load("bench-spawn.json")
    if spawn is not None:
        rows += bench_spawn.table_rows(spawn)
    if rows:
        benchlib.print_table(rows)
    suite = load("bench-suite-start.json")
    if suite is not None:
        pod = suite["pod"]
        print(
            f"suite server ({suite['image']}): container start->exec median "
            f"{pod['start_to_exec']['median_s']} s "
            f"(p90 {pod['start_to_exec']['p90_s']}), exec->port {pod['exec_to_port']['median_s']} s "
            f"vs bare {suite['bare_start_to_port']['median_s']} s, one check_up exec "
            f"{suite['exec_check_up_attempt']['median_s']} s, load {suite['load_average'][0]:.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
