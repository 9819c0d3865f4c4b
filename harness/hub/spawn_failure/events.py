"""Events of one server's PVC and pod, and what the hub itself said, as reasons."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from harness.hub.spawn_failure.reasons import (
    _SHORT_KIND,
    SERVERNAME_ANNOTATION,
    USERNAME_ANNOTATION,
    Reason,
)


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
