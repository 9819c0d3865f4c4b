"""Diagnostics bundle of a failed scenario: everything needed to understand it without re-running.

Written to ``reports/<scenario-id>/``: hub/proxy/user-pod logs, events, YAML of pods, PVCs and the
PVs bound to them, the rendered hub config and what the hub API says about the users. Collecting
never raises: a half-dead cluster must still yield whatever can be read.
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

from harness.clusters.kube import Kube


def safe_dirname(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._\[\]-]+", "_", text)[:200]


def _try(errors: list[str], what: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:  # diagnostics must not hide the failure they describe
        errors.append(f"{what}: {type(exc).__name__}: {exc}")
        return None


def _strip(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    meta.pop("managedFields", None)
    return obj


def format_events(events: Iterable[dict[str, Any]]) -> str:
    """Events as ``time type reason kind/name: message`` lines, oldest first."""

    def when(ev: dict[str, Any]) -> str:
        return str(ev.get("lastTimestamp") or ev.get("eventTime") or ev.get("firstTimestamp") or "")

    lines = []
    for ev in sorted(events, key=when):
        obj = ev.get("involvedObject") or {}
        count = ev.get("count") or 1
        lines.append(
            f"{when(ev)} {ev.get('type')} {ev.get('reason')} {obj.get('kind')}/{obj.get('name')}"
            f"{f' (x{count})' if count > 1 else ''}: {ev.get('message')}"
        )
    return "\n".join(lines) + "\n"


def _log_reader(
    kube: Kube, namespace: str, pod: str, container: str, previous: bool = False
) -> Callable[[], str]:
    return lambda: kube.logs(namespace, pod, container, previous)


def write_bundle(
    directory: Path,
    *,
    summary: str,
    kube: Kube | None,
    namespace: str | None,
    extra_files: dict[str, str] | None = None,
    hub_state: Callable[[], Any] | None = None,
    include: Callable[[dict[str, Any]], bool] | None = None,
) -> Path:
    """Write the bundle and return its directory; ``include`` filters pods and PVCs (default: all)."""
    directory.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    (directory / "summary.txt").write_text(summary + "\n")
    for name, text in (extra_files or {}).items():
        (directory / name).write_text(text)
    if hub_state is not None:
        state = _try(errors, "hub API users", hub_state)
        if state is not None:
            (directory / "hub-users.json").write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    if kube is not None and namespace is not None:
        pods = _try(errors, "list pods", lambda: kube.list("pod", namespace)) or []
        pvcs = _try(errors, "list pvcs", lambda: kube.list("pvc", namespace)) or []
        if include is not None:
            pods, pvcs = [p for p in pods if include(p)], [p for p in pvcs if include(p)]
        volume_names = {(p.get("spec") or {}).get("volumeName") for p in pvcs}
        pvs = _try(errors, "list pvs", lambda: kube.list("pv")) or []
        pvs = [pv for pv in pvs if pv["metadata"]["name"] in volume_names]
        for name, objs in (("pods", pods), ("pvcs", pvcs), ("pvs", pvs)):
            text = yaml.safe_dump_all([_strip(o) for o in objs], sort_keys=False)
            (directory / f"{name}.yaml").write_text(text)
        events = _try(errors, "list events", lambda: kube.list("event", namespace)) or []
        (directory / "events.txt").write_text(format_events(events))
        logs = directory / "logs"
        logs.mkdir(exist_ok=True)
        for pod in pods:
            pod_name = pod["metadata"]["name"]
            statuses = {c["name"]: c for c in (pod.get("status") or {}).get("containerStatuses") or []}
            for container in (pod.get("spec") or {}).get("containers") or []:
                cname = container["name"]
                text = _try(errors, f"logs {pod_name}/{cname}", _log_reader(kube, namespace, pod_name, cname))
                (logs / f"{pod_name}_{cname}.log").write_text(text or "")
                if (statuses.get(cname) or {}).get("restartCount"):
                    prev = _try(errors, "previous logs", _log_reader(kube, namespace, pod_name, cname, True))
                    (logs / f"{pod_name}_{cname}.previous.log").write_text(prev or "")
    if errors:
        (directory / "collect-errors.txt").write_text("\n".join(errors) + "\n")
    return directory


def format_exception(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
