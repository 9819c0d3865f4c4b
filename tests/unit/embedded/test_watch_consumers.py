"""Every consumer of ``registry.watch`` closes the stream when an exception ends its loop.

An unclosed ``WatchStream`` keeps its store subscription (and a queue that fills with every event)
until garbage collection; the consumers restart the watch after an error, so each error would leak one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from harness.clusters.embedded.config import ClusterConfig
from harness.clusters.embedded.controllers.informer import Informer
from harness.clusters.embedded.kubelet.kubelet import Kubelet
from harness.clusters.embedded.kubelet.scheduler import Scheduler
from harness.clusters.embedded.kubelet.service_proxy import ServiceProxy

Obj = dict[str, Any]


class FakeStream:
    """One scripted event, then waits forever; records ``aclose``."""

    def __init__(self, event: tuple[str, Obj]) -> None:
        self._events = [event]
        self.closed = False

    def __aiter__(self) -> FakeStream:
        return self

    async def __anext__(self) -> tuple[str, Obj]:
        if self._events:
            return self._events.pop(0)
        await asyncio.Event().wait()
        raise StopAsyncIteration

    async def aclose(self) -> None:
        self.closed = True


class WatchRegistry:
    def __init__(self, event: tuple[str, Obj]) -> None:
        self.event = event
        self.streams: list[FakeStream] = []

    def watch(self, resource: str, namespace: str | None = None, **_: Any) -> FakeStream:
        stream = FakeStream(self.event)
        self.streams.append(stream)
        return stream

    async def list(self, resource: str, namespace: str | None = None, **_: Any) -> tuple[list[Obj], str]:
        return [], "1"


POD: Obj = {"metadata": {"name": "p", "namespace": "ns", "uid": "u1", "resourceVersion": "2"}}


def boom(*_: object) -> None:
    raise RuntimeError("handler failed")


async def _restarts_with_closed_streams(
    registry: WatchRegistry, loop: Callable[[], Coroutine[Any, Any, None]]
) -> None:
    """Run ``loop`` until it watched twice (the first watch ended on the error): all streams end closed."""
    task = asyncio.create_task(loop())
    try:
        for _ in range(1000):
            if len(registry.streams) >= 2:
                break
            await asyncio.sleep(0.01)
        assert len(registry.streams) >= 2, "the watch was not restarted after the error"
        assert registry.streams[0].closed
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert all(stream.closed for stream in registry.streams)


def test_kubelet_pod_watch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = WatchRegistry(("ADDED", POD))
    kubelet = Kubelet(registry, ClusterConfig(tmp_path))

    async def fail(etype: str, pod: Obj) -> None:
        boom()

    monkeypatch.setattr(kubelet, "_on_pod", fail)
    asyncio.run(_restarts_with_closed_streams(registry, kubelet._sync_pods))


def test_scheduler_pod_watch(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = WatchRegistry(("ADDED", POD))
    scheduler = Scheduler(registry, "node")  # type: ignore[arg-type]  # only watch() is used
    monkeypatch.setattr(scheduler, "_observe", boom)
    asyncio.run(_restarts_with_closed_streams(registry, scheduler._watch))


def test_service_proxy_watch() -> None:
    registry = WatchRegistry(("ADDED", {"metadata": {"name": "s", "namespace": "ns"}}))
    proxy = ServiceProxy.__new__(ServiceProxy)
    proxy.registry = registry  # type: ignore[assignment]  # only watch() is used
    asyncio.run(_restarts_with_closed_streams(registry, lambda: proxy._watch("services", boom)))


def test_informer_watch() -> None:
    registry = WatchRegistry(("ERROR", {"kind": "Status", "code": 500, "message": "internal"}))
    informer = Informer(registry, "pods", retry_delay=0.01)
    asyncio.run(_restarts_with_closed_streams(registry, informer.run))
