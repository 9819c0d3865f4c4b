"""core/v1 Events (pkg/registry/core/event): the fields client-go's recorder leaves unset, field
selectors KubeSpawner's event reflector uses, ``kubectl get events`` columns, and the TTL after which
the apiserver drops them (``--event-ttl``).
"""

from __future__ import annotations

import calendar
import time
from typing import TYPE_CHECKING, Any

from ..meta import md
from ..resource import Resource
from ..selectors import META_FIELDS, field_getter
from ..strategy import Strategy
from ..tables import age

if TYPE_CHECKING:
    from ..store import Store

Obj = dict[str, Any]

EVENTS = Resource("events", "event", "Event", "", "v1", True, ("ev",))

_INVOLVED = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")


class EventStrategy(Strategy):
    field_labels = {
        **META_FIELDS,
        **{f"involvedObject.{k}": field_getter("involvedObject", k) for k in _INVOLVED},
        "reason": field_getter("reason"),
        "reportingComponent": field_getter("reportingComponent"),
        "source": field_getter("source", "component"),
        "type": field_getter("type"),
    }
    columns = (("Last Seen", "string", 0), ("Type", "string", 0), ("Reason", "string", 0),
               ("Object", "string", 0), ("Message", "string", 0))  # fmt: skip

    def defaults(self, obj: Obj) -> None:
        obj.setdefault("reportingComponent", "")
        obj.setdefault("reportingInstance", "")
        obj.setdefault("eventTime", None)

    def row(self, o: Obj) -> list[Any]:
        ref = o.get("involvedObject") or {}
        last = (
            o.get("lastTimestamp") or o.get("eventTime") or (o.get("metadata") or {}).get("creationTimestamp")
        )
        seen = age({"metadata": {"creationTimestamp": last[:19] + "Z" if last else None}})
        obj = f"{ref.get('kind', '').lower()}/{ref.get('name', '')}"
        return [seen, o.get("type", ""), o.get("reason", ""), obj, o.get("message", "")]


def expire(store: Store, ttl_seconds: int, now_ts: float | None = None) -> int:
    """Remove Events not written for ``ttl_seconds``; watchers see DELETED, as with etcd lease expiry.

    Returns how many were removed.
    """
    cutoff = (now_ts if now_ts is not None else time.time()) - ttl_seconds
    removed = 0
    items, _ = store.list(EVENTS.plural)
    for ev in items:
        stamps = [ev.get("lastTimestamp"), ev.get("eventTime"), md(ev).get("creationTimestamp")]
        latest = max((str(t)[:19] for t in stamps if t), default="")
        if latest and calendar.timegm(time.strptime(latest, "%Y-%m-%dT%H:%M:%S")) < cutoff:
            store.remove(EVENTS.plural, md(ev).get("namespace", ""), ev)
            removed += 1
    return removed


STRATEGIES = (EventStrategy(EVENTS),)
