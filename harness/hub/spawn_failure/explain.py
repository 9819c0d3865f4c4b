"""Reading a cluster for a spawn's reasons, and the steps' entry point (start_explained)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kubernetes.client.exceptions import ApiException

from harness.clusters.kube import Kube
from harness.hub.driver import HubClient, Progress, SpawnFailed, SpawnTimedOut
from harness.hub.spawn_failure.events import event_counts, event_reasons, hub_reasons, server_objects
from harness.hub.spawn_failure.hub_log import (
    lines_after,
    log_reasons,
    parse_stamp,
)
from harness.hub.spawn_failure.reasons import (
    HUB_POD_SELECTOR,
    LOG_SETTLE_SECONDS,
    FailureReasons,
    Reason,
    Stamp,
)
from harness.hub.target import HubTarget


# ------------------------------------------------------------------------------- reading a cluster
@dataclass(frozen=True)
class LogMark:
    """Where the hub's log stood when the spawn started."""

    pod: str
    container: str | None
    #: kubelet timestamp of the last line then (None: the log was empty)
    after: Stamp | None


@dataclass
class SpawnWatch:
    """What ``begin`` noted when a spawn started; ``explain`` reads what came after."""

    user: str
    server: str
    started: float
    kube: Kube | None = None
    namespace: str | None = None
    log: LogMark | None = None
    #: Event uid -> count when the spawn started; None when Events could not be read
    events: dict[str, int] | None = None
    unavailable: list[str] = field(default_factory=list)


def _api_error(what: str, exc: Exception, namespace: str) -> str:
    """Why a source could not be read: the API's status, or the error that prevented asking."""
    if isinstance(exc, ApiException):
        return f"{what}: {exc.status} {exc.reason} in namespace {namespace}"
    return f"{what}: {type(exc).__name__}: {exc}"


def _hub_pod(kube: Kube, namespace: str) -> tuple[str, str | None] | None:
    pods = kube.list("pod", namespace, selector=HUB_POD_SELECTOR)
    running = [p for p in pods if (p.get("status") or {}).get("phase") == "Running"] or pods
    if not running:
        return None
    pod = running[0]
    containers = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
    container = "hub" if "hub" in containers else (containers[0] if containers else None)
    return pod["metadata"]["name"], container


def _read_log(kube: Kube, namespace: str, pod: str, container: str | None, **kwargs: Any) -> str:
    if container:
        kwargs["container"] = container
    return str(kube.core.read_namespaced_pod_log(pod, namespace, timestamps=True, **kwargs))


def begin(kube: Kube | None, namespace: str | None, user: str, server: str) -> SpawnWatch:
    """Note the hub log's last line and the Events' counts before ``user``'s server is started."""
    watch = SpawnWatch(user, server, time.monotonic(), kube, namespace)
    if kube is None or namespace is None:
        watch.unavailable.append("hub log and events: the hub's namespace is not known (--namespace)")
        return watch
    try:
        hub = _hub_pod(kube, namespace)
        if hub is None:
            watch.unavailable.append(f"hub log: no pod labelled {HUB_POD_SELECTOR} in namespace {namespace}")
        else:
            last = _read_log(kube, namespace, hub[0], hub[1], tail_lines=1).strip()
            watch.log = LogMark(hub[0], hub[1], parse_stamp(last) if last else None)
    except Exception as exc:  # a reason finder must never turn a failure into another one
        watch.unavailable.append(_api_error("hub log", exc, namespace))
    try:
        watch.events = event_counts(kube.list("event", namespace))
    except Exception as exc:  # a reason finder must never turn a failure into another one
        watch.unavailable.append(_api_error("events", exc, namespace))
    return watch


def explain(
    watch: SpawnWatch, hub_messages: Sequence[str], state: dict[str, Any] | None = None
) -> FailureReasons:
    """All reasons found for the spawn ``watch`` noted; ``state`` is the hub's spawner state for it."""
    found = FailureReasons(hub_reasons(hub_messages), list(watch.unavailable))
    kube, ns = watch.kube, watch.namespace
    if kube is None or ns is None:
        return found
    objects: set[tuple[str, str]] = set()
    unbound: list[str] = []
    try:
        pods, pvcs = kube.list("pod", ns), kube.list("pvc", ns)
        objects = server_objects(watch.user, watch.server, pods, pvcs, state or {})
        unbound = [
            p["metadata"]["name"]
            for p in pvcs
            if ("PersistentVolumeClaim", p["metadata"]["name"]) in objects
            and (p.get("status") or {}).get("phase") != "Bound"
        ]
    except Exception as exc:  # a reason finder must never turn a failure into another one
        found.unavailable.append(_api_error("pods and PVCs", exc, ns))
    if watch.log is not None:
        try:
            found.reasons += _settled_log_reasons(watch, kube, ns, {name for _, name in objects})
        except Exception as exc:  # a reason finder must never turn a failure into another one
            found.unavailable.append(_api_error("hub log", exc, ns))
    if watch.events is not None:
        try:
            found.reasons += event_reasons(kube.list("event", ns), watch.events, objects, unbound)
        except Exception as exc:  # a reason finder must never turn a failure into another one
            found.unavailable.append(_api_error("events", exc, ns))
    return found


def _settled_log_reasons(watch: SpawnWatch, kube: Kube, ns: str, names: set[str]) -> list[Reason]:
    """The log's reasons, waiting briefly for the record: the hub may answer before its log line lands."""
    assert watch.log is not None
    deadline = time.monotonic() + LOG_SETTLE_SECONDS
    while True:
        hub = _hub_pod(kube, ns)
        lines: list[str] = []
        if hub is not None:
            # a restarted hub: all of the new pod's log counts
            after = watch.log.after if hub[0] == watch.log.pod else None
            # sinceSeconds keeps a long-running hub's log short; the stamp comparison decides
            since = int(time.monotonic() - watch.started) + 60
            lines = lines_after(_read_log(kube, ns, hub[0], hub[1], since_seconds=since), after)
        reasons = log_reasons(lines, watch.user, names)
        if reasons or time.monotonic() > deadline:
            return reasons
        time.sleep(0.5)


# ------------------------------------------------------------------------------ the steps' entry
class ExplainedSpawnFailure(Exception):
    """A spawn failed (or the caller's timeout ran out); ``reasons`` says why from every source."""

    def __init__(self, failure: SpawnFailed, reasons: FailureReasons, note: str = "") -> None:
        super().__init__(f"{failure}; reason: {reasons.summary()}{note}")
        self.failure, self.reasons, self.note = failure, reasons, note

    @property
    def timed_out(self) -> bool:
        """The hub had not reported a failure: the spawn was still pending when the timeout ran out."""
        return isinstance(self.failure, SpawnTimedOut)


def _spawner_state(hub: HubClient, user: str, server: str) -> dict[str, Any]:
    """KubeSpawner's saved state of the server (pod_name, pvc_name), which outlives a failed pod."""
    try:
        model = hub.get_user(user, include_stopped=True) or {}
    except Exception:  # a hint for finding the server's objects, never needed for the verdict
        return {}
    state = ((model.get("servers") or {}).get(server) or {}).get("state")
    return dict(state) if isinstance(state, dict) else {}


def _interrupt(hub: HubClient, user: str, server: str) -> str:
    """Stop a spawn the step gave up on (as an admin would), so later steps start from a stopped server."""
    try:
        hub.stop_server(user, server, timeout=60)
    except Exception as exc:
        return f"; stopping the pending spawn failed: {type(exc).__name__}: {exc}"
    return "; the pending spawn was stopped"


def start_explained(target: HubTarget, user: str, server: str, timeout: float) -> Progress:
    """``start_server``, but a failure or timeout raises ExplainedSpawnFailure with the reasons.

    Reasons are gathered before a timed-out spawn is stopped, while its pod and Events still show
    why it hangs.
    """
    watch = begin(target.kube, target.namespace, user, server)
    try:
        return target.hub.start_server(user, server, timeout=timeout)
    except SpawnFailed as exc:
        reasons = explain(watch, exc.messages, _spawner_state(target.hub, user, server))
        note = _interrupt(target.hub, user, server) if isinstance(exc, SpawnTimedOut) else ""
        raise ExplainedSpawnFailure(exc, reasons, note) from exc
