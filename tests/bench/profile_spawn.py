"""Where the time of one spawn through the hub goes, on the embedded cluster: a timeline per spawn.

Deploys the hub as ``bench_spawn.py`` does (with ``JupyterHub.log_level = DEBUG``), starts and stops one
user's server a few times, and lines up on one clock (the host's: the cluster, the hub and the server
all run here) what each party saw, relative to the spawn's POST:

- the pod as a watch of it reports it (created, bound to the node, container running, Ready);
- the hub's log (the kubelet's ``timestamps`` of each line): KubeSpawner creating the pod, the hub's
  ``wait_up`` ("Waiting ... for server", "responded in"), the proxy route, "took ... to start";
- the server's own log: its first line (the interpreter has imported jupyterhub-singleuser) and
  "running at" (it listens);
- the progress stream's ``ready`` as the client gets it;

and, beside each spawn, a bare ``jupyter-server`` and a bare ``jupyterhub-singleuser`` start (as in
``bench_spawn.py``).

Needs root. Prints the timelines; ``--out`` writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from kubernetes import watch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import benchlib
from bench_spawn import USER, as_started, benched_hub

from harness.clusters.kube import Kube
from harness.hub import deploy, manifests

#: hub log lines worth a mark: (label, pattern)
HUB_MARKS = [
    ("hub: POST handled", re.compile(r"POST /hub/api/users/[^/]+/server")),
    ("hub: PVC create", re.compile(r"Creating PVC|Attempting to create pvc")),
    ("hub: pod create", re.compile(r"Attempting to create pod")),
    ("hub: wait_up starts", re.compile(r"Waiting \d+s for server at")),
    ("hub: server answered", re.compile(r"Server at \S+ responded in")),
    ("hub: took to start", re.compile(r"took [\d.]+ seconds to start")),
    ("hub: proxy add", re.compile(r"Adding user \S+ to proxy")),
    ("hub: singleuser API call", re.compile(r"/hub/api/(user|authorizations)")),
]
SERVER_MARKS = [
    ("server: first log line", re.compile(r".")),
    ("server: extension loaded", re.compile(r"jupyterhub.singleuser|Extension package|Loading")),
    ("server: listening", re.compile(r"running at|is running at")),
    ("server: hub version check", re.compile(r"hub version|jupyterhub version", re.I)),
]


def stamp(text: str) -> float:
    """An RFC 3339 timestamp (nanoseconds allowed) as epoch seconds."""
    text = text.rstrip("Z")
    if "." in text:
        head, frac = text.split(".", 1)
        text = f"{head}.{frac[:6]}"
    return datetime.fromisoformat(text + "+00:00").timestamp()


def stamped_lines(log: str) -> list[tuple[float, str]]:
    out = []
    for line in log.splitlines():
        head, _, rest = line.partition(" ")
        try:
            out.append((stamp(head), rest))
        except ValueError:
            continue
    return out


class PodWatch(threading.Thread):
    """Wall-clock times at which the user's pod reached each state, as a watch reports them."""

    def __init__(self, kube: Kube, namespace: str, name: str) -> None:
        super().__init__(daemon=True)
        self.kube, self.namespace, self.name = kube, namespace, name
        self.marks: list[tuple[float, str]] = []
        self._seen: set[str] = set()
        self._watch = watch.Watch()
        self._stopped = False

    def mark(self, what: str) -> None:
        if what not in self._seen:
            self._seen.add(what)
            self.marks.append((time.time(), what))

    def run(self) -> None:
        while not self._stopped:
            try:
                self._follow()
            except Exception:  # a watch the server ended: watch again
                continue

    def _follow(self) -> None:
        core = self.kube.core
        stream = self._watch.stream(
            core.list_namespaced_pod, self.namespace, field_selector=f"metadata.name={self.name}"
        )
        for event in stream:
            pod = self.kube.to_dict(event["object"])
            uid = pod["metadata"]["uid"][:8]
            if event["type"] == "ADDED":
                self.mark(f"pod {uid}: created")
            if pod["spec"].get("nodeName"):
                self.mark(f"pod {uid}: bound to node")
            for status in (pod.get("status") or {}).get("containerStatuses") or []:
                if "running" in (status.get("state") or {}):
                    self.mark(f"pod {uid}: container running")
            for cond in (pod.get("status") or {}).get("conditions") or []:
                if cond["type"] == "Ready" and cond["status"] == "True":
                    self.mark(f"pod {uid}: Ready")
            if pod["metadata"].get("deletionTimestamp"):
                self.mark(f"pod {uid}: deleting")
            if event["type"] == "DELETED":
                self.mark(f"pod {uid}: deleted")

    def stop(self) -> None:
        self._stopped = True
        self._watch.stop()


def marks_in(
    lines: list[tuple[float, str]], marks: list[tuple[str, re.Pattern[str]]], t0: float, t1: float
) -> list[tuple[float, str, str]]:
    out = []
    for label, pattern in marks:
        for when, text in lines:
            if t0 - 0.5 <= when <= t1 + 0.5 and pattern.search(text):
                out.append((when, label, text.strip()[:140]))
                if not label.startswith("hub: singleuser"):
                    break
    return out


def run(spawns: int, dump: Path | None) -> list[dict[str, Any]]:
    timelines = []
    with benched_hub("profile-spawn", {"JupyterHub.log_level": "DEBUG"}) as bench:
        backend, kube, target, env_bin = bench.backend, bench.kube, bench.target, bench.env_bin
        ns = target.namespace_
        hub = target.hub
        pod_name = f"jupyter-{USER}"
        for i in range(spawns):
            bare = benchlib.bare_jupyter_start(env_bin)
            watcher = PodWatch(kube, ns, pod_name)
            watcher.start()
            time.sleep(0.3)
            t0 = time.time()
            hub.start_server(USER, timeout=300)
            t_ready = time.time()
            with backend.service_url(ns, "hub", 8081) as hub_url:
                bare_su = benchlib.bare_singleuser_start(env_bin, *as_started(kube, target), hub_url)
            server_log = kube.core.read_namespaced_pod_log(pod_name, ns, timestamps=True)
            hub_pods = kube.list("pod", ns, deploy.selector_of(manifests.HUB_LABELS))
            hub_log = kube.core.read_namespaced_pod_log(
                hub_pods[0]["metadata"]["name"], ns, timestamps=True, since_seconds=600
            )
            hub.stop_server(USER)
            if dump is not None:
                (dump / f"hub-{i}.log").write_text(hub_log)
                (dump / f"server-{i}.log").write_text(server_log)
            watcher.stop()
            events: list[tuple[float, str, str]] = [
                (t0, "client: POST", ""),
                (t_ready, "client: ready", ""),
            ]
            events += [(w, m, "") for w, m in watcher.marks if w <= t_ready + 0.5]
            events += marks_in(stamped_lines(hub_log), HUB_MARKS, t0, t_ready)
            events += marks_in(stamped_lines(server_log), SERVER_MARKS, t0, t_ready)
            events.sort()
            timeline: dict[str, Any] = {
                "spawn": i,
                "total_s": round(t_ready - t0, 3),
                "bare_jupyter_server_s": round(bare, 3),
                "bare_singleuser_s": round(bare_su, 3),
                "marks": [(round(w - t0, 3), m, text) for w, m, text in events],
            }
            timelines.append(timeline)
            print(
                f"spawn {i}: {timeline['total_s']:.3f}s (bare jupyter-server before it {bare:.3f}s, "
                f"bare jupyterhub-singleuser after it {bare_su:.3f}s)"
            )
            for rel, label, text in timeline["marks"]:
                print(f"  {rel:7.3f}  {label:30s} {text}")
            sys.stdout.flush()
    return timelines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--spawns", type=int, default=3)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--dump", type=Path, help="a directory for the hub's and the server's logs")
    args = parser.parse_args()
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)
    timelines = run(args.spawns, args.dump)
    if args.out:
        args.out.write_text(json.dumps(timelines, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
