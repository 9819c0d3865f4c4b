"""Benchmark of the embedded API server alone: cold start, create+get latency, watch event latency, and
resident memory with 1000 objects (target < 150 MiB).  Writes ``reports/bench-apiserver.json``.

The server runs in a child process (``--serve``) so that its RSS is measured without the client's.
Run with ``nox -s bench`` or ``python tests/bench/bench_apiserver.py``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from harness.clusters.embedded.apiserver.standalone import http_client, standalone_server  # noqa: E402

TARGET_RSS_MIB = 150


def serve(data_dir: Path) -> None:
    with standalone_server(data_dir) as it:
        print(it.kubeconfig, flush=True)
        sys.stdin.read()  # until the parent closes our stdin


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def bench(n_latency: int, n_objects: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bench-apiserver-") as tmp:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", tmp],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            kubeconfig = Path(proc.stdout.readline().strip())
            with http_client(kubeconfig) as api:
                while api.get("/readyz").text != "ok":
                    time.sleep(0.01)
                cold_start = time.perf_counter() - t0
                base = "/api/v1/namespaces/default/configmaps"
                latencies = []
                for i in range(n_latency):
                    s = time.perf_counter()
                    api.post(
                        base, json={"metadata": {"name": f"lat-{i}"}, "data": {"k": "v"}}
                    ).raise_for_status()
                    api.get(f"{base}/lat-{i}").raise_for_status()
                    latencies.append(time.perf_counter() - s)
                watch_latencies = watch_latency(kubeconfig, base, n_latency)
                for i in range(n_objects):
                    body = {
                        "metadata": {"name": f"obj-{i}", "labels": {"bench": "rss"}},
                        "data": {"k": "v" * 200},
                    }
                    api.post(base, json=body).raise_for_status()
                s = time.perf_counter()
                listed = api.get(base, params={"labelSelector": "bench=rss"}).json()
                list_time = time.perf_counter() - s
                assert len(listed["items"]) == n_objects
                rss = rss_mib(proc.pid)
        finally:
            if proc.stdin:
                proc.stdin.close()
            proc.wait(30)
    return {
        "cold_start_s": round(cold_start, 3),
        "create_get_median_ms": round(statistics.median(latencies) * 1000, 2),
        "watch_event_median_ms": round(statistics.median(watch_latencies) * 1000, 2),
        "list_1000_ms": round(list_time * 1000, 1),
        "objects": n_objects + 2 * n_latency,
        "rss_mib": round(rss, 1),
        "rss_target_mib": TARGET_RSS_MIB,
        "rss_ok": rss < TARGET_RSS_MIB,
    }


def watch_latency(kubeconfig: Path, base: str, n: int) -> list[float]:
    """Time from just before a create to the ADDED event on an open watch."""
    sent: dict[str, float] = {}
    got: dict[str, float] = {}
    ready = threading.Event()

    def reader() -> None:
        with (
            http_client(kubeconfig) as c,
            c.stream("GET", base, params={"watch": "1", "labelSelector": "w", "timeoutSeconds": "60"}) as r,
        ):
            ready.set()
            for line in r.iter_lines():
                name = json.loads(line)["object"]["metadata"]["name"]
                got[name] = time.perf_counter()
                if len(got) == n:
                    return

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    ready.wait(10)
    time.sleep(0.2)
    with http_client(kubeconfig) as api:
        for i in range(n):
            name = f"w-{i}"
            sent[name] = time.perf_counter()
            api.post(base, json={"metadata": {"name": name, "labels": {"w": "1"}}}).raise_for_status()
    t.join(30)
    return [got[k] - sent[k] for k in sent if k in got]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", type=Path)
    parser.add_argument("--latency-samples", type=int, default=200)
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench-apiserver.json")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return 0
    result = bench(args.latency_samples, args.objects)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0 if result["rss_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
