"""``python -m harness.clusters.embedded up|down|status --data-dir DIR``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .cluster import EmbeddedCluster, cleanup_after_kill, main_up, read_pid, readyz, stop_process
from .config import ClusterConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.clusters.embedded")
    parser.add_argument("command", choices=("up", "down", "status"))
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument(
        "--detach", action="store_true", help="up: start in the background, return when ready"
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="down: seconds before SIGKILL")
    args = parser.parse_args(argv)
    data_dir = args.data_dir.resolve()
    config = ClusterConfig(data_dir)
    if args.command == "up":
        if not args.detach:
            return main_up(data_dir)
        cluster = EmbeddedCluster(data_dir)
        cluster.start()
        cluster._proc = None  # detached: leave it running
        print(cluster.kubeconfig)
        return 0
    pid = read_pid(config)
    if args.command == "down":
        if pid is None:
            print("not running")
            return 0
        if stop_process(pid, args.timeout):
            cleanup_after_kill(config)
            print(f"killed pid {pid} after {args.timeout:.0f}s; removed its leftovers")
        else:
            print(f"stopped pid {pid}")
        return 0
    ready = pid is not None and config.kubeconfig.exists() and readyz(config.kubeconfig)
    info = {"running": pid is not None, "pid": pid, "ready": ready, "kubeconfig": str(config.kubeconfig)}
    if config.cluster_json.exists():
        info.update(json.loads(config.cluster_json.read_text()))
    print(json.dumps(info, indent=1))
    return 0 if ready else 1


if __name__ == "__main__":
    sys.exit(main())
