"""The reconcile loop every controller shares: informers feed keys into a work queue, a worker reconciles.

Why: the real controllers are level-triggered — they look at the current cached state of one object and move
the world one step towards it, retrying with backoff on conflicts — and they resync periodically.  Keeping
that loop in one place lets each controller module hold only its own reconcile logic.
"""

from __future__ import annotations

import abc
import asyncio
import logging
from typing import Any

from ..apiserver.errors import ApiError
from ..config import ClusterConfig
from .informer import Informer, InformerFactory
from .objects import Key, Obj, key_of
from .workqueue import WorkQueue

log = logging.getLogger(__name__)


async def delete_if_present(
    registry: Any, resource: str, namespace: str | None, name: str, *, propagation_policy: str | None = None
) -> None:
    """Delete, treating "already gone" as done (a reconcile may race the informer or another deleter)."""
    try:
        await registry.delete(resource, namespace, name, propagation_policy=propagation_policy)
    except ApiError as e:
        if e.code != 404:
            raise


class Controller(abc.ABC):
    """One controller: declare informers in ``__init__``, implement :meth:`reconcile`."""

    #: name used in logs and as the Event source component
    name: str = "controller"
    #: seconds between full resyncs of the primary resource (0 disables)
    resync_period: float = 30.0

    def __init__(self, registry: Any, informers: InformerFactory, config: ClusterConfig) -> None:
        self.registry = registry
        self.informers = informers
        self.config = config
        self.queue: WorkQueue[Key] = WorkQueue()
        self._watched: list[str] = []

    def watch(self, resource: str) -> Informer:
        """Use the shared informer of ``resource`` (the controller starts once all of them synced)."""
        inf = self.informers.informer(resource)
        if resource not in self._watched:
            self._watched.append(resource)
        return inf

    def enqueue(self, obj: Obj) -> None:
        self.queue.add(key_of(obj))

    def enqueue_on_event(self, event_type: str, obj: Obj, old: Obj | None) -> None:
        """Handler that queues the object itself."""
        self.enqueue(obj)

    @abc.abstractmethod
    def primary(self) -> Informer:
        """The informer whose keys this controller reconciles (used by resync)."""

    @abc.abstractmethod
    async def reconcile(self, key: Key) -> float | None:
        """Move the object named ``key`` one step towards its desired state.

        Return seconds after which to look again (e.g. waiting for pods to go away), or None.
        Raise to retry with backoff.
        """

    def initial_keys(self) -> list[Key]:
        """Keys reconciled at start and on every resync: all objects of the primary resource."""
        return [key_of(o) for o in self.primary().list()]

    async def setup(self) -> None:  # noqa: B027 - optional hook
        """Run once after the informers synced, before the worker starts."""

    async def run(self) -> None:
        await self.informers.wait_synced(self._watched)
        await self.setup()
        for key in self.initial_keys():
            self.queue.add(key)
        resync = asyncio.create_task(self._resync()) if self.resync_period > 0 else None
        try:
            while True:
                key = await self.queue.get()
                try:
                    again = await self.reconcile(key)
                except asyncio.CancelledError:
                    raise
                except ApiError as e:
                    level = logging.DEBUG if e.code in (404, 409) else logging.WARNING
                    log.log(level, "%s: reconcile %s: %s", self.name, key, e)
                    self.queue.add_rate_limited(key)
                except Exception:
                    log.exception("%s: reconcile %s failed", self.name, key)
                    self.queue.add_rate_limited(key)
                else:
                    self.queue.forget(key)
                    if again is not None:
                        self.queue.add_after(key, again)
                finally:
                    self.queue.done(key)
        finally:
            if resync is not None:
                resync.cancel()
            self.queue.shutdown()

    async def _resync(self) -> None:
        while True:
            await asyncio.sleep(self.resync_period)
            for key in self.initial_keys():
                self.queue.add(key)
