"""Why a spawn failed (or hangs): the reason for one user's server, from every place it shows up.

The hub's own answer rarely says why: with ``storage_capacity`` unset JupyterHub 6.1.1 answers
"Internal Server Error" and 5.5.4 "error", while the API server's 422 (``spec.resources[storage]:
Invalid value: "0": must be greater than zero``) is only in the hub log; a PVC of a missing
StorageClass makes the spawn hang until ``start_timeout`` and only the Events say why. So a failed
(or timed-out) spawn is explained from four sources, most specific first:

- ``Kubernetes Status``: the API server's answer inside a ``kubernetes_asyncio`` ApiException the
  hub logged (``HTTP response body: {"kind":"Status",...}``): message, reason, code, causes;
- ``event``: Events of this server's PVC(s) and pod that are new since the spawn started
  (Warnings; for a claim that is still unbound, its other events too, e.g. ExternalProvisioning);
  claim events come before pod events, since a pod's FailedScheduling usually follows from its claim;
- ``hub log``: the hub's error/warning records about this user's server written after the spawn
  started (JupyterHub's "Unhandled error starting alice's server: ...", "alice's server failed to
  start in 30 seconds, giving up.", KubeSpawner's "Failed for {pod manifest}", ...);
- ``hub``: what the hub API / progress stream said.

``begin`` notes where the hub log and the namespace's Events stand when a spawn starts (the kubelet
timestamp of the hub log's last line, each Event's count), so ``explain`` reads only what came
after, without comparing the harness's clock with the cluster's. The parsing functions are pure and
tested against log text captured from real runs (``tests/unit/spawn_failure_samples/``).
"""

from __future__ import annotations

import ast
import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kubernetes.client.exceptions import ApiException

from harness.hub.driver import HubClient, Progress, SpawnFailed, SpawnTimedOut
from harness.hub.k8s import Kube
from harness.hub.target import HubTarget

#: Source names, most specific first: ``FailureReasons.best`` and ``find`` prefer them in this order.
SOURCES: tuple[str, ...] = ("Kubernetes Status", "event", "hub log", "hub")
#: Labels of the hub pod (the harness's own Deployment and the z2jh chart both set it).
HUB_POD_SELECTOR = "component=hub"
USERNAME_ANNOTATION = "hub.jupyter.org/username"
SERVERNAME_ANNOTATION = "hub.jupyter.org/servername"
#: How long ``explain`` waits for the hub's log record of a failure the API already reported.
LOG_SETTLE_SECONDS = 3.0
_HEADLINE_MAX = 300
_SHORT_KIND = {"PersistentVolumeClaim": "pvc", "Pod": "pod"}

Stamp = tuple[int, int]  # (epoch seconds, nanoseconds) of a kubelet log timestamp


# ----------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Reason:
    """One source's account of the failure; ``text`` is what ``expect_spawn_failure`` matches."""

    source: str
    #: Where it was found, for the step line: "hub log", "event ProvisioningFailed on pvc/claim-x".
    where: str
    text: str

    @property
    def headline(self) -> str:
        first = next((line.strip() for line in self.text.splitlines() if line.strip()), "")
        return first if len(first) <= _HEADLINE_MAX else first[: _HEADLINE_MAX - 3] + "..."

    @property
    def origin(self) -> str:
        return f"from {self.where}"

    def short(self) -> str:
        return f"{self.headline} ({self.origin})"


@dataclass
class FailureReasons:
    """Everything found about one spawn, and which sources could not be read (and why)."""

    reasons: list[Reason] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)

    def ordered(self) -> list[Reason]:
        """Most specific source first; within a source, in the order found."""
        return sorted(self.reasons, key=lambda r: SOURCES.index(r.source))

    def best(self) -> Reason | None:
        ordered = self.ordered()
        return ordered[0] if ordered else None

    def find(self, needle: str) -> Reason | None:
        """The most specific reason whose text contains ``needle``."""
        return next((r for r in self.ordered() if needle in r.text), None)

    def summary(self) -> str:
        """``<first line of the most specific source> (from ...)``, plus the sources not read."""
        best = self.best()
        text = best.short() if best else "no reason found"
        if self.unavailable:
            text += " [not read: " + "; ".join(self.unavailable) + "]"
        return text


# -------------------------------------------------------------------------- hub log: pure parsing
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d) ?")


def parse_stamp(text: str) -> Stamp | None:
    """The RFC3339(Nano) timestamp a kubelet puts before each line with ``timestamps=true``.

    Go trims trailing zeros of the fraction ("...05.1Z" vs "...05.12Z"), so stamps compare as
    numbers, not strings.
    """
    m = _STAMP.match(text)
    if not m:
        return None
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    seconds = int(datetime.fromisoformat(m.group(1) + zone).timestamp())
    return seconds, int((m.group(2) or "0").ljust(9, "0"))


def lines_after(text: str, after: Stamp | None) -> list[str]:
    """Lines of a ``timestamps=true`` log written after ``after``, stamps removed (None: all lines)."""
    out: list[str] = []
    keep = after is None
    for line in text.splitlines():
        stamp = parse_stamp(line)
        if stamp is not None:
            keep = after is None or stamp > after
            line = _STAMP.sub("", line, count=1)
        if keep:
            out.append(line)
    return out


#: JupyterHub's log format: ``[E 2026-12-02 01:18:11.716 JupyterHub user:1072] message``.
_HEADER = re.compile(
    r"^\[(?P<level>[A-Z]) (?P<when>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?) "
    r"(?P<where>[^\]]*)\] ?(?P<msg>.*)$"
)
#: Tornado's LogFormatter indents every further line of a record (traceback, exception text) by four.
_CONTINUATION = "    "


@dataclass
class LogRecord:
    """One hub log record: its header and all its lines (the first is the message)."""

    level: str
    where: str
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines).rstrip()

    def account(self) -> str:
        """The message before any traceback, then the exception the traceback ends with."""
        lines = self.lines
        if "Traceback (most recent call last):" not in lines:
            return self.text
        start = lines.index("Traceback (most recent call last):")
        frames = lines[start + 1 :]
        last_frame = max((i for i, line in enumerate(frames) if line.startswith(" ")), default=-1)
        tail = [line for line in frames[last_frame + 1 :] if line.strip()]
        head = [line for line in lines[:start] if line.strip()]
        if head and len(head[0]) > _HEADLINE_MAX and tail:
            head, tail = tail, head  # a repr of a manifest or Future says less than the exception line
        return "\n".join(head + tail)


def log_records(lines: Iterable[str]) -> list[LogRecord]:
    """Group log lines into records; lines in another format become records of their own."""
    records: list[LogRecord] = []
    for line in lines:
        m = _HEADER.match(line)
        if m:
            records.append(LogRecord(m.group("level"), m.group("where"), [m.group("msg")]))
        elif records and line.startswith(_CONTINUATION):
            records[-1].lines.append(line[len(_CONTINUATION) :])
        elif line.strip():
            records.append(LogRecord("", "", [line]))
    return records


def _mentions(text: str, word: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_.-]){re.escape(word)}(?![A-Za-z0-9_-])", text) is not None


def spawn_records(records: Iterable[LogRecord], user: str, names: Iterable[str] = ()) -> list[LogRecord]:
    """Error/warning records about ``user``'s server: JupyterHub names it "<user>'s server";
    KubeSpawner's "Failed for {manifest}" carries the user annotation; others name the pod or PVC."""
    own = re.compile(rf"(?:^|\s){re.escape(user)}'s server")
    annotation = f"'{USERNAME_ANNOTATION}': '{user}'"
    found = []
    for record in records:
        if record.level not in ("E", "W", "C"):
            continue
        text = record.text
        if own.search(text) or annotation in text or any(_mentions(text, n) for n in names if n):
            found.append(record)
    # errors (with the exception) before warnings ("failed to start in 30 seconds, giving up.")
    return sorted(found, key=lambda r: r.level == "W")


_BODY = "HTTP response body:"


def statuses_in(text: str) -> list[dict[str, Any]]:
    """Kubernetes Status objects in ApiException texts (``HTTP response body: {...}``), deduplicated."""
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    for m in re.finditer(re.escape(_BODY), text):
        rest = text[m.end() :].lstrip()
        if rest.startswith(("b'", 'b"')):  # the synchronous client prints the body as a bytes repr
            rest = _bytes_literal(rest.split("\n", 1)[0])
        brace = rest.find("{")
        if brace < 0 or brace > 2:
            continue
        try:
            obj, _ = decoder.raw_decode(rest[brace:])
        except ValueError:
            continue
        if isinstance(obj, dict) and obj.get("kind") == "Status" and obj not in found:
            found.append(obj)
    return found


def _bytes_literal(line: str) -> str:
    try:
        value = ast.literal_eval(line)
    except (ValueError, SyntaxError):
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else ""


def status_reason(status: dict[str, Any]) -> Reason:
    """A Status as text: message, then code/reason and the object, then one line per cause."""
    details = status.get("details") or {}
    code, why = status.get("code"), status.get("reason") or status.get("status") or ""
    lines = [str(status.get("message") or why)]
    what = " ".join(str(details[k]) for k in ("kind", "name") if details.get(k))
    lines.append(" ".join(str(p) for p in (code, why) if p) + (f" ({what})" if what else ""))
    for cause in details.get("causes") or []:
        lines.append(
            "cause: " + ": ".join(str(cause[k]) for k in ("field", "reason", "message") if cause.get(k))
        )
    label = " ".join(str(p) for p in (code, why) if p)
    return Reason("Kubernetes Status", f"Kubernetes Status {label} in hub log", "\n".join(lines))


def log_reasons(lines: Iterable[str], user: str, names: Iterable[str] = ()) -> list[Reason]:
    """Hub log and Status reasons of ``user``'s spawn from the hub log lines written since it started."""
    reasons: list[Reason] = []
    for record in spawn_records(log_records(lines), user, names):
        reasons.append(Reason("hub log", "hub log", record.account()))
        for status in statuses_in(record.text):
            reason = status_reason(status)
            if reason not in reasons:
                reasons.append(reason)
    return reasons


# --------------------------------------------------------------------------- events: pure parsing
def _count(event: dict[str, Any]) -> int:
    series = event.get("series") or {}
    return int(series.get("count") or event.get("count") or 1)


def event_counts(events: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Each Event's uid and count: what existed before a spawn (a repeat raises the count)."""
    return {str((e.get("metadata") or {}).get("uid")): _count(e) for e in events}


def event_reasons(
    events: Iterable[dict[str, Any]],
    before: dict[str, int],
    objects: Iterable[tuple[str, str]],
    unbound_claims: Iterable[str] = (),
) -> list[Reason]:
    """Events of the server's objects (``(kind, name)``) that are new or repeated since ``before``."""
    wanted, unbound = set(objects), set(unbound_claims)

    def when(e: dict[str, Any]) -> str:
        return str(e.get("lastTimestamp") or e.get("eventTime") or e.get("firstTimestamp") or "")

    picked: list[tuple[int, str, Reason]] = []
    for ev in events:
        obj = ev.get("involvedObject") or {}
        kind, name = str(obj.get("kind") or ""), str(obj.get("name") or "")
        if (kind, name) not in wanted:
            continue
        uid = str((ev.get("metadata") or {}).get("uid"))
        if uid in before and before[uid] >= _count(ev):
            continue
        warning = ev.get("type") == "Warning"
        if not warning and not (kind == "PersistentVolumeClaim" and name in unbound):
            continue
        short = _SHORT_KIND.get(kind, kind.lower())
        reason = Reason("event", f"event {ev.get('reason')} on {short}/{name}", str(ev.get("message")))
        # claims first, Warnings before Normal, then newest first
        rank = (0 if kind == "PersistentVolumeClaim" else 2) + (0 if warning else 1)
        if all(r != reason for _, _, r in picked):
            picked.append((rank, when(ev), reason))
    picked.sort(key=lambda p: p[1], reverse=True)
    picked.sort(key=lambda p: p[0])
    return [r for _, _, r in picked]


def server_objects(
    user: str,
    server: str,
    pods: Iterable[dict[str, Any]],
    pvcs: Iterable[dict[str, Any]],
    state: dict[str, Any],
) -> set[tuple[str, str]]:
    """``(kind, name)`` of the server's pod and PVC(s): KubeSpawner's annotations, the claims its pod
    mounts, and the names its saved state records (the pod may be gone after a failure)."""
    found: set[tuple[str, str]] = set()
    for kind, objs in (("Pod", pods), ("PersistentVolumeClaim", pvcs)):
        for obj in objs:
            ann = (obj.get("metadata") or {}).get("annotations") or {}
            if ann.get(USERNAME_ANNOTATION) == user and ann.get(SERVERNAME_ANNOTATION, "") == server:
                found.add((kind, obj["metadata"]["name"]))
                if kind == "Pod":
                    for volume in (obj.get("spec") or {}).get("volumes") or []:
                        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
                        if claim:
                            found.add(("PersistentVolumeClaim", str(claim)))
    for key, kind in (("pod_name", "Pod"), ("pvc_name", "PersistentVolumeClaim")):
        if state.get(key):
            found.add((kind, str(state[key])))
    return found


def hub_reasons(messages: Sequence[str]) -> list[Reason]:
    """The hub's own messages, the final one first."""
    seen: list[str] = []
    for message in reversed(messages):
        if message.strip() and message not in seen:
            seen.append(message)
    return [Reason("hub", "the hub API", m) for m in seen]


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
