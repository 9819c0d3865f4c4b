"""Shared informers: one list+watch per resource, an in-memory cache, and event handlers.

Why: controllers must see the API the way the real kube-controller-manager does — a list, then a watch from
the list's resourceVersion, re-listing when the watch window has expired (410) — so that what they write is
based on the same resourceVersions clients see.  Sharing one informer per resource between all controllers
keeps the load on the API server (and the shared CPUs) to one watch per resource.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from ..apiserver.errors import ApiError
from .objects import Key, key_of

log = logging.getLogger(__name__)

#: ``handler(event_type, obj, old)``: event_type is ADDED, MODIFIED or DELETED; ``old`` is the cached
#: previous version (None for ADDED).
Handler = Callable[[str, dict[str, Any], "dict[str, Any] | None"], None]


class Informer:
    """Keeps ``store`` equal to the API's view of one resource and tells handlers about changes."""

    def __init__(self, registry: Any, resource: str, *, retry_delay: float = 0.5) -> None:
        self.registry = registry
        self.resource = resource
        self.store: dict[Key, dict[str, Any]] = {}
        self.synced = asyncio.Event()
        self._handlers: list[Handler] = []
        self._retry_delay = retry_delay

    def add_handler(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def get(self, namespace: str | None, name: str) -> dict[str, Any] | None:
        return self.store.get((namespace or "", name))

    def list(self, namespace: str | None = None) -> builtins.list[dict[str, Any]]:
        if namespace is None:
            return list(self.store.values())
        return [o for (ns, _), o in self.store.items() if ns == namespace]

    def _notify(self, event_type: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        for handler in self._handlers:
            try:
                handler(event_type, obj, old)
            except Exception:  # a broken handler must not stop the watch for everyone else
                log.exception("informer %s: handler failed on %s", self.resource, event_type)

    def _replace(self, items: builtins.list[dict[str, Any]]) -> None:
        """Swap in a fresh list, emitting the differences as events (as a reflector's Replace does)."""
        fresh = {key_of(o): o for o in items}
        for key, old in builtins.list(self.store.items()):
            if key not in fresh:
                del self.store[key]
                self._notify("DELETED", old, old)
        for key, obj in fresh.items():
            old_obj = self.store.get(key)
            self.store[key] = obj
            self._notify("ADDED" if old_obj is None else "MODIFIED", obj, old_obj)

    def _apply(self, event_type: str, obj: dict[str, Any]) -> None:
        key = key_of(obj)
        old = self.store.get(key)
        if event_type == "DELETED":
            self.store.pop(key, None)
            self._notify("DELETED", obj, old)
        else:
            self.store[key] = obj
            self._notify("ADDED" if old is None else "MODIFIED", obj, old)

    async def run(self) -> None:
        """List, then watch from the last seen resourceVersion forever; re-list on 410 or errors."""
        while True:
            try:
                items, rv = await self.registry.list(self.resource)
                self._replace(items)
                self.synced.set()
                await self._watch_from(rv)
            except asyncio.CancelledError:
                raise
            except ApiError as e:
                if e.code != 410:
                    log.warning("informer %s: %s; re-listing", self.resource, e)
                    await asyncio.sleep(self._retry_delay)
            except Exception:
                log.exception("informer %s failed; re-listing", self.resource)
                await asyncio.sleep(self._retry_delay)

    async def _watch_from(self, rv: str) -> None:
        """Follow the watch; a watch that ends cleanly is resumed from the last resourceVersion seen."""
        while True:
            async with contextlib.aclosing(self.registry.watch(self.resource, resource_version=rv)) as stream:
                async for event_type, obj in stream:
                    if event_type == "ERROR":
                        if int(obj.get("code", 0)) == 410:
                            return  # expired: caller re-lists
                        raise ApiError(obj)
                    rv = obj.get("metadata", {}).get("resourceVersion") or rv
                    if event_type == "BOOKMARK":
                        continue
                    self._apply(event_type, obj)


class InformerFactory:
    """Hands out one shared :class:`Informer` per resource and starts them all together."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry
        self._informers: dict[str, Informer] = {}

    def informer(self, resource: str) -> Informer:
        if resource not in self._informers:
            self._informers[resource] = Informer(self.registry, resource)
        return self._informers[resource]

    def start(self) -> list[asyncio.Task[None]]:
        return [
            asyncio.create_task(inf.run(), name=f"informer-{res}") for res, inf in self._informers.items()
        ]

    async def wait_synced(self, resources: list[str] | None = None) -> None:
        names = resources if resources is not None else list(self._informers)
        await asyncio.gather(*(self._informers[r].synced.wait() for r in names))
