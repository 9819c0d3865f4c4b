"""Durable object storage and watch fan-out for the embedded API server.

Objects live in SQLite (WAL) keyed by (resource, namespace, name) with the JSON body and the resourceVersion
of their last write; one global counter gives every write a new, increasing resourceVersion, as etcd's
revision does, and survives restarts.  Change events are kept in memory for a bounded window so a watch can
resume from a recent resourceVersion; older ones get the same 410 Expired kube-apiserver's watch cache sends.

All methods are synchronous and called from the event loop thread only: SQLite writes of one small row are
sub-millisecond, and never awaiting inside a write keeps "write + fan-out" atomic for watchers.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import errors

Obj = dict[str, Any]

#: events a watcher may have pending before it is closed (its client then resumes or re-lists)
MAX_PENDING = 10_000


@dataclass(frozen=True)
class Event:
    """One change: ``type`` is ADDED, MODIFIED or DELETED; ``old`` is the previous object (None for ADDED)."""

    rv: int
    resource: str
    namespace: str
    type: str
    obj: Obj
    old: Obj | None


class Watcher:
    """A subscription to the events of one resource (optionally one namespace)."""

    def __init__(self, hub: Store, resource: str, namespace: str | None) -> None:
        self._hub = hub
        self.resource = resource
        self.namespace = namespace
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        #: set when the consumer fell too far behind and the subscription was dropped
        self.overflowed = False

    def wants(self, event: Event) -> bool:
        return event.resource == self.resource and (
            self.namespace is None or event.namespace == self.namespace
        )

    def close(self) -> None:
        self._hub._watchers.discard(self)


class Store:
    """SQLite-backed objects plus the in-memory watch window."""

    def __init__(self, path: Path, window: int = 1000) -> None:
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS objects (resource TEXT NOT NULL, namespace TEXT NOT NULL, "
            "name TEXT NOT NULL, rv INTEGER NOT NULL, json TEXT NOT NULL, "
            "PRIMARY KEY (resource, namespace, name))"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        row = self._db.execute("SELECT value FROM meta WHERE key='rv'").fetchone()
        self._rv = int(row[0]) if row else 1
        self._history: deque[Event] = deque(maxlen=window)
        #: every event with rv > _floor is in _history
        self._floor = self._rv
        self._watchers: set[Watcher] = set()
        self._listeners: list[Callable[[Event], None]] = []

    def close(self) -> None:
        self._db.close()

    @property
    def resource_version(self) -> int:
        return self._rv

    @property
    def window_floor(self) -> int:
        """Oldest resourceVersion a watch can resume from."""
        return self._floor

    # ---- reads -----------------------------------------------------------------------------------------
    def get(self, resource: str, namespace: str, name: str) -> Obj | None:
        row = self._db.execute(
            "SELECT json FROM objects WHERE resource=? AND namespace=? AND name=?",
            (resource, namespace, name),
        ).fetchone()
        return json.loads(row[0]) if row else None

    def list(self, resource: str, namespace: str | None = None) -> tuple[list[Obj], int]:
        if namespace is None:
            # etcd key order: "<namespace>/<name>" compared bytewise (what chunked lists page through)
            rows = self._db.execute(
                "SELECT json FROM objects WHERE resource=? ORDER BY namespace || '/' || name", (resource,)
            ).fetchall()
        else:
            rows = self._db.execute(
                "SELECT json FROM objects WHERE resource=? AND namespace=? ORDER BY name",
                (resource, namespace),
            ).fetchall()
        return [json.loads(r[0]) for r in rows], self._rv

    def count(self, resource: str, namespace: str) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) FROM objects WHERE resource=? AND namespace=?", (resource, namespace)
        ).fetchone()
        return int(row[0])

    # ---- writes ----------------------------------------------------------------------------------------
    def _next_rv(self) -> int:
        self._rv += 1
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('rv', ?)", (str(self._rv),))
        return self._rv

    def put(self, resource: str, namespace: str, obj: Obj, *, expect_rv: str | None = None) -> Obj:
        """Create or replace ``obj``; stamps a new resourceVersion and fans the event out.

        ``expect_rv`` (compare-and-swap): when given, the stored object's resourceVersion must equal it,
        otherwise 409 Conflict, like etcd's guaranteed update.
        """
        name = obj["metadata"]["name"]
        old = self.get(resource, namespace, name)
        if expect_rv is not None and (old is None or old["metadata"].get("resourceVersion") != expect_rv):
            raise errors.conflict(resource, name)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            rv = self._next_rv()
            obj["metadata"]["resourceVersion"] = str(rv)
            self._db.execute(
                "INSERT OR REPLACE INTO objects (resource, namespace, name, rv, json) VALUES (?, ?, ?, ?, ?)",
                (resource, namespace, name, rv, json.dumps(obj, separators=(",", ":"))),
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._emit(Event(rv, resource, namespace, "MODIFIED" if old else "ADDED", obj, old))
        return obj

    def remove(self, resource: str, namespace: str, obj: Obj) -> Obj:
        """Delete the object; the DELETED event carries it with a fresh resourceVersion (as real)."""
        name = obj["metadata"]["name"]
        old = self.get(resource, namespace, name)
        if old is None:
            raise errors.not_found(resource, name)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            rv = self._next_rv()
            self._db.execute(
                "DELETE FROM objects WHERE resource=? AND namespace=? AND name=?", (resource, namespace, name)
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        obj["metadata"]["resourceVersion"] = str(rv)
        self._emit(Event(rv, resource, namespace, "DELETED", obj, old))
        return obj

    # ---- watch -----------------------------------------------------------------------------------------
    def _emit(self, event: Event) -> None:
        if len(self._history) == self._history.maxlen and self._history:
            self._floor = self._history[0].rv
        self._history.append(event)
        for w in list(self._watchers):
            if w.wants(event):
                if w.queue.qsize() >= MAX_PENDING:
                    # like kube-apiserver's cacher: an unresponsive watcher is closed, not buffered forever
                    w.overflowed = True
                    w.close()
                    continue
                w.queue.put_nowait(event)
        for listener in self._listeners:
            listener(event)

    def changes_after(self, rv: int) -> tuple[Event, ...] | None:
        """Every change after ``rv``, oldest first; None when ``rv`` is older than the window."""
        if rv < self._floor:
            return None
        return tuple(event for event in self._history if event.rv > rv)

    def add_listener(self, listener: Callable[[Event], None]) -> None:
        """Call ``listener`` synchronously for every event (used for caches such as RBAC)."""
        self._listeners.append(listener)

    def subscribe(self, resource: str, namespace: str | None, since: int) -> Watcher:
        """Watch events strictly after ``since``; replays the window; 410 Expired if too old."""
        if since < self._floor:
            raise errors.expired(f"too old resource version: {since} ({self._floor})")
        watcher = Watcher(self, resource, namespace)
        for event in self._history:
            if event.rv > since and watcher.wants(event):
                watcher.queue.put_nowait(event)
        self._watchers.add(watcher)
        return watcher

    def subscribe_now(self, resource: str, namespace: str | None) -> Watcher:
        """Watch from the current resourceVersion (caller lists first; no await in between)."""
        watcher = Watcher(self, resource, namespace)
        self._watchers.add(watcher)
        return watcher
