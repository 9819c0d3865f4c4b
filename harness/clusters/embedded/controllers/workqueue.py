"""A de-duplicating, rate-limited work queue of object keys (client-go's ``workqueue`` semantics).

Why: a controller must never process the same key in two workers at once, must coalesce bursts of watch
events for one object into one reconcile, and must retry failures with backoff instead of hot-looping
against the API server (which is shared with the tests and the kubelet on two cores).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class WorkQueue(Generic[K]):
    """Keys waiting for a reconcile; a key being processed that is re-added is processed again afterwards."""

    def __init__(self, *, base_delay: float = 0.05, max_delay: float = 5.0) -> None:
        self._queue: deque[K] = deque()
        self._queued: set[K] = set()
        self._processing: set[K] = set()
        self._dirty: set[K] = set()
        self._failures: dict[K, int] = {}
        self._timers: dict[K, asyncio.TimerHandle] = {}
        self._wakeup = asyncio.Event()
        self._base_delay = base_delay
        self._max_delay = max_delay

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, key: K) -> None:
        """Queue ``key`` now (no-op when already queued; deferred while it is being processed)."""
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        if key in self._processing:
            self._dirty.add(key)
            return
        if key in self._queued:
            return
        self._queued.add(key)
        self._queue.append(key)
        self._wakeup.set()

    def add_after(self, key: K, delay: float) -> None:
        """Queue ``key`` after ``delay`` seconds, keeping an earlier pending timer if there is one."""
        if delay <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        existing = self._timers.get(key)
        when = loop.time() + delay
        if existing is not None:
            if existing.when() <= when:
                return
            existing.cancel()
        self._timers[key] = loop.call_at(when, self._fire, key)

    def _fire(self, key: K) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def add_rate_limited(self, key: K) -> None:
        """Re-queue after a failure with exponential backoff per key."""
        n = self._failures.get(key, 0)
        self._failures[key] = n + 1
        self.add_after(key, min(self._base_delay * (2**n), self._max_delay))

    def forget(self, key: K) -> None:
        """Reset the failure backoff of ``key`` (after a successful reconcile)."""
        self._failures.pop(key, None)

    async def get(self) -> K:
        """Wait for the next key and mark it as being processed; call :meth:`done` afterwards."""
        while not self._queue:
            self._wakeup.clear()
            await self._wakeup.wait()
        key = self._queue.popleft()
        self._queued.discard(key)
        self._processing.add(key)
        return key

    def done(self, key: K) -> None:
        self._processing.discard(key)
        if key in self._dirty:
            self._dirty.discard(key)
            self.add(key)

    def shutdown(self) -> None:
        """Cancel pending delayed adds (their callbacks would otherwise outlive the controller)."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
