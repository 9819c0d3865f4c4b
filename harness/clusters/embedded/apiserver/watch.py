"""Watch streams over the store's subscriptions: selector filtering (objects entering and leaving a
selector become ADDED/DELETED, as the watch cache does), the replayed snapshot, and polling with a timeout.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .meta import clone
from .selectors import fields_match, labels_match
from .store import Event, Watcher

Obj = dict[str, Any]


class WatchClosed(Exception):
    """The server ended the watch (the consumer was too slow); resume from the last resourceVersion."""


class WatchStream:
    """Events of one watch as ``(type, object)``; iterate, or poll with a timeout via :meth:`next`."""

    def __init__(
        self, watcher: Watcher, initial: list[Obj], labels: list[Any], fields: list[Any], snapshot_rv: int = 0
    ) -> None:
        self._watcher = watcher
        self._initial = initial
        #: the stream starts strictly after this resourceVersion (also the initial-events-end bookmark's)
        self.snapshot_rv = snapshot_rv
        self._labels = labels
        self._fields = fields

    def _matches(self, obj: Obj | None) -> bool:
        return obj is not None and labels_match(self._labels, obj) and fields_match(self._fields, obj)

    def _translate(self, ev: Event) -> tuple[str, Obj] | None:
        new_ok = self._matches(ev.obj)
        if ev.type == "ADDED":
            return ("ADDED", clone(ev.obj)) if new_ok else None
        old_ok = self._matches(ev.old)
        if ev.type == "DELETED":
            return ("DELETED", clone(ev.obj)) if old_ok else None
        if new_ok and old_ok:
            return ("MODIFIED", clone(ev.obj))
        if new_ok:
            return ("ADDED", clone(ev.obj))
        if old_ok:
            return ("DELETED", clone(ev.obj))
        return None

    @property
    def initial_drained(self) -> bool:
        """True once every object of the starting snapshot has been returned."""
        return not self._initial

    async def next(self, timeout: float | None = None) -> tuple[str, Obj] | None:
        """The next event, or None when ``timeout`` seconds pass without one (or the snapshot just ended)."""
        if self._initial:
            while self._initial:
                obj = self._initial.pop(0)
                if self._matches(obj):
                    return "ADDED", obj
            return None  # let the caller mark the end of the snapshot before live events
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            remaining = None if deadline is None else max(0.0, deadline - loop.time())
            if self._watcher.overflowed and self._watcher.queue.empty():
                raise WatchClosed("watcher fell too far behind")
            try:
                ev = await asyncio.wait_for(self._watcher.queue.get(), remaining)
            except asyncio.TimeoutError:
                return None
            if ev.rv <= self.snapshot_rv:
                continue  # a watch from a resourceVersion ahead of the store starts after it
            out = self._translate(ev)
            if out is not None:
                return out

    def __aiter__(self) -> WatchStream:
        return self

    async def __anext__(self) -> tuple[str, Obj]:
        while True:
            try:
                ev = await self.next()
            except WatchClosed:
                raise StopAsyncIteration from None
            if ev is not None:
                return ev

    def close(self) -> None:
        self._watcher.close()

    async def aclose(self) -> None:
        self.close()

    def __del__(self) -> None:
        # a caller that drops the stream without closing it (e.g. leaves `async for` on an exception)
        # must not keep a subscription whose queue fills forever
        self._watcher.close()
