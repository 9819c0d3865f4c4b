"""The controller machinery: work queue semantics and the informer's list/watch/re-list loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from harness.clusters.embedded.apiserver.errors import expired
from harness.clusters.embedded.controllers.informer import Informer
from harness.clusters.embedded.controllers.workqueue import WorkQueue


def test_queue_deduplicates_and_defers_keys_being_processed() -> None:
    async def run() -> None:
        q: WorkQueue[str] = WorkQueue()
        q.add("a")
        q.add("a")
        q.add("b")
        assert len(q) == 2
        key = await q.get()
        assert key == "a"
        q.add("a")  # changed while being processed: not handed out twice at once
        assert await q.get() == "b"
        assert len(q) == 0
        q.done("a")
        assert await asyncio.wait_for(q.get(), 1) == "a"

    asyncio.run(run())


def test_queue_add_after_and_backoff() -> None:
    async def run() -> None:
        q: WorkQueue[str] = WorkQueue(base_delay=0.01, max_delay=0.02)
        q.add_after("later", 0.05)
        assert len(q) == 0
        assert await asyncio.wait_for(q.get(), 1) == "later"
        q.done("later")
        for _ in range(5):
            q.add_rate_limited("flaky")
            assert await asyncio.wait_for(q.get(), 1) == "flaky"  # capped at max_delay
            q.done("flaky")
        q.add_after("never", 10)
        q.shutdown()

    asyncio.run(run())


class FakeRegistry:
    """Serves one list, then a watch that expires (410) once, then a second list and a live watch."""

    def __init__(self) -> None:
        self.lists = 0
        self.watches: list[str | None] = []
        self.feed: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()

    async def list(self, resource: str) -> tuple[list[dict[str, Any]], str]:
        self.lists += 1
        if self.lists == 1:
            return [obj("a", "1"), obj("b", "2")], "2"
        return [obj("b", "5"), obj("c", "6")], "6"

    def watch(
        self, resource: str, *, resource_version: str | None = None
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        self.watches.append(resource_version)
        if len(self.watches) == 1:
            raise expired("too old resource version: 2 (4)")
        return self._live()

    async def _live(self) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        while True:
            yield await self.feed.get()


def obj(name: str, rv: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns", "resourceVersion": rv}}


def test_informer_relists_on_expired_watch_and_reports_differences() -> None:
    async def run() -> None:
        reg = FakeRegistry()
        inf = Informer(reg, "configmaps")
        seen: list[tuple[str, str]] = []
        inf.add_handler(lambda t, o, old: seen.append((t, o["metadata"]["name"])))
        task = asyncio.create_task(inf.run())
        try:
            while len(reg.watches) < 2:
                await asyncio.sleep(0.01)
            assert reg.watches == ["2", "6"]
            assert sorted(k[1] for k in inf.store) == ["b", "c"]
            assert ("DELETED", "a") in seen and ("MODIFIED", "b") in seen and ("ADDED", "c") in seen
            await reg.feed.put(("DELETED", obj("c", "7")))
            await reg.feed.put(("ADDED", obj("d", "8")))
            while inf.get("ns", "d") is None:
                await asyncio.sleep(0.01)
            assert inf.get("ns", "c") is None
            assert [o["metadata"]["name"] for o in inf.list("ns")] == ["b", "d"]
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    asyncio.run(run())
