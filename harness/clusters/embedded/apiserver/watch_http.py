"""``?watch=true`` over HTTP: chunked newline-delimited WatchEvents until ``timeoutSeconds`` or the client
leaves, with bookmarks (allowWatchBookmarks), WatchList (sendInitialEvents: the state, then a BOOKMARK
marking its end) and Table rows for ``kubectl get -w``, as kube-apiserver's cacheWatcher sends them.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import errors, tables
from .httpio import dumps, int_param
from .routing import Target
from .strategy import Strategy
from .watch import WatchClosed, WatchStream

if TYPE_CHECKING:
    from .registry import Registry

Obj = dict[str, Any]

#: cacheWatcher: a bookmark every minute, and one 2s before the deadline
BOOKMARK_EVERY = 60.0


def _flag(request: web.Request, key: str) -> bool:
    return request.query.get(key, "").lower() in ("1", "true")


@dataclass
class _Watch:
    """One watch response being written."""

    request: web.Request
    response: web.StreamResponse
    strategy: Strategy
    stream: WatchStream
    deadline: float
    bookmarks: bool
    initial_events: bool
    as_table: bool
    first_table: bool = True

    def _marker(self, resource_version: int, annotations: dict[str, str] | None = None) -> Obj:
        meta: Obj = {"resourceVersion": str(resource_version), "creationTimestamp": None}
        if annotations:
            meta["annotations"] = annotations
        info = self.strategy.resource
        return {"kind": info.kind, "apiVersion": info.api_version, "metadata": meta}

    async def send(self, event_type: str, obj: Obj) -> None:
        await self.response.write(dumps({"type": event_type, "object": obj}) + b"\n")

    async def send_change(self, event_type: str, obj: Obj) -> None:
        if self.as_table:  # kubectl get -w: rows; column definitions only with the first event
            obj = self.strategy.table([obj], {})
            if not self.first_table:
                obj["columnDefinitions"] = []
            self.first_table = False
        await self.send(event_type, obj)

    def client_gone(self) -> bool:
        transport = self.request.transport
        return transport is None or transport.is_closing()

    async def run(self, registry: Registry) -> None:
        loop = asyncio.get_running_loop()
        next_bookmark = min(loop.time() + BOOKMARK_EVERY, self.deadline - 2)
        while True:
            if self.initial_events and self.stream.initial_drained:
                self.initial_events = False
                end = {"k8s.io/initial-events-end": "true"}
                await self.send("BOOKMARK", self._marker(self.stream.snapshot_rv, end))
            now = loop.time()
            if now >= self.deadline or self.client_gone():
                return
            wait = min(self.deadline - now, 1.0)
            if self.bookmarks and next_bookmark > now:
                wait = min(wait, next_bookmark - now)
            event = await self.stream.next(timeout=wait)
            if event is not None:
                await self.send_change(*event)
                continue
            if self.initial_events:
                continue  # the snapshot just ended: its marker goes first
            if self.bookmarks and loop.time() >= next_bookmark:
                await self.send("BOOKMARK", self._marker(registry.store.resource_version))
                next_bookmark = min(loop.time() + BOOKMARK_EVERY, self.deadline - 2)
                if next_bookmark <= loop.time():
                    next_bookmark = self.deadline + 1


def _initial_events(request: web.Request, bookmarks: bool) -> bool:
    """sendInitialEvents, which needs allowWatchBookmarks and resourceVersionMatch=NotOlderThan."""
    initial_events = _flag(request, "sendInitialEvents")
    if initial_events and (not bookmarks or request.query.get("resourceVersionMatch") != "NotOlderThan"):
        raise errors.invalid(
            "ListOptions",
            "",
            [{"reason": "FieldValueForbidden", "field": "sendInitialEvents",
              "message": "Forbidden: sendInitialEvents requires setting allowWatchBookmarks=true and "
              "resourceVersionMatch=NotOlderThan"}],
            "meta.k8s.io",
        )  # fmt: skip
    return initial_events


async def serve_watch(
    request: web.Request, registry: Registry, target: Target, strategy: Strategy
) -> web.StreamResponse:
    timeout = int_param(request, "timeoutSeconds")
    if timeout is None:
        timeout = random.randint(1800, 3600)  # minRequestTimeout .. 2x, as real
    bookmarks = _flag(request, "allowWatchBookmarks")
    initial_events = _initial_events(request, bookmarks)
    try:
        stream = registry.watch(
            target.info.plural,
            target.namespace,
            resource_version=None if initial_events else request.query.get("resourceVersion"),
            label_selector=request.query.get("labelSelector"),
            field_selector=request.query.get("fieldSelector"),
        )
    except errors.ApiError as e:
        if e.code == 410:
            return await watch_error(request, e)
        raise
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    deadline = asyncio.get_running_loop().time() + timeout
    as_table = tables.wants_table(request.headers.get("Accept", ""))
    watch = _Watch(request, resp, strategy, stream, deadline, bookmarks, initial_events, as_table)
    try:
        await watch.run(registry)
    except (ConnectionResetError, asyncio.CancelledError, WatchClosed):
        pass  # client gone, or too slow: it resumes from its last resourceVersion as with a timeout
    finally:
        stream.close()
    with contextlib.suppress(ConnectionResetError, RuntimeError):
        await resp.write_eof()
    return resp


async def watch_error(request: web.Request, err: errors.ApiError) -> web.StreamResponse:
    """A watch that cannot start (e.g. 410 Expired) answers 200 with one ERROR event, as real."""
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    await resp.write(dumps({"type": "ERROR", "object": err.status}) + b"\n")
    await resp.write_eof()
    return resp
