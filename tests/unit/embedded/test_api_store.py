"""The SQLite store: resourceVersions, durability and the watch window's 410 Expired."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from harness.clusters.embedded.apiserver.errors import ApiError
from harness.clusters.embedded.apiserver.store import Store


def cm(name: str) -> dict:
    return {"metadata": {"name": name}, "data": {}}


def test_resource_versions_increase_and_survive_reopen(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    a = store.put("configmaps", "ns", cm("a"))
    b = store.put("configmaps", "ns", cm("b"))
    assert int(b["metadata"]["resourceVersion"]) == int(a["metadata"]["resourceVersion"]) + 1
    store.remove("configmaps", "ns", store.get("configmaps", "ns", "a") or {})
    rv = store.resource_version
    store.close()
    again = Store(tmp_path / "s.db")
    assert again.get("configmaps", "ns", "a") is None
    assert again.get("configmaps", "ns", "b") == b
    assert again.resource_version == rv
    assert int(again.put("configmaps", "ns", cm("c"))["metadata"]["resourceVersion"]) == rv + 1


def test_compare_and_swap_conflict(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    old = store.put("configmaps", "ns", cm("a"))["metadata"]["resourceVersion"]
    store.put("configmaps", "ns", cm("a"), expect_rv=old)
    with pytest.raises(ApiError) as err:
        store.put("configmaps", "ns", cm("a"), expect_rv=old)
    assert err.value.code == 409


def test_watch_window_replays_recent_and_expires_old(tmp_path: Path) -> None:
    async def run() -> None:
        store = Store(tmp_path / "s.db", window=5)
        start = store.resource_version
        for i in range(8):
            store.put("configmaps", "ns", cm(f"c{i}"))
        with pytest.raises(ApiError) as err:
            store.subscribe("configmaps", None, start)
        assert err.value.code == 410
        assert err.value.status["message"] == f"too old resource version: {start} ({store.window_floor})"
        w = store.subscribe("configmaps", "ns", store.window_floor)
        got = [w.queue.get_nowait().obj["metadata"]["name"] for _ in range(w.queue.qsize())]
        assert got == [f"c{i}" for i in range(3, 8)]
        other = store.subscribe("configmaps", "elsewhere", store.resource_version)
        store.put("configmaps", "ns", cm("late"))
        assert other.queue.empty()
        w.close()
        other.close()

    asyncio.run(run())


def test_events_expire_after_the_ttl(tmp_path: Path) -> None:
    from harness.clusters.embedded.apiserver.registry import Registry
    from harness.clusters.embedded.config import ClusterConfig

    store = Store(tmp_path / "s.db")
    registry = Registry(store, ClusterConfig(tmp_path))
    old = {"metadata": {"name": "old", "namespace": "ns", "creationTimestamp": "2025-12-31T23:00:00Z"},
           "lastTimestamp": "2025-12-31T23:50:00Z"}  # fmt: skip
    fresh = {"metadata": {"name": "fresh", "namespace": "ns", "creationTimestamp": "2026-01-01T00:00:00Z"},
             "lastTimestamp": "2026-01-01T00:59:00Z"}  # fmt: skip
    store.put("events", "ns", old)
    store.put("events", "ns", fresh)
    now = 1767229200.0  # 2026-01-01T01:00:00Z
    assert registry.expire_events(3600, now_ts=now) == 1
    assert store.get("events", "ns", "old") is None
    assert store.get("events", "ns", "fresh") is not None


def test_dropped_watch_stream_unsubscribes(tmp_path: Path) -> None:
    import gc

    from harness.clusters.embedded.apiserver.registry import Registry
    from harness.clusters.embedded.config import ClusterConfig

    store = Store(tmp_path / "s.db")
    registry = Registry(store, ClusterConfig(tmp_path))
    stream = registry.watch("configmaps", "ns", resource_version=str(store.resource_version))
    assert len(store._watchers) == 1
    del stream
    gc.collect()
    assert len(store._watchers) == 0


def test_a_watcher_that_falls_behind_is_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.clusters.embedded.apiserver import store as store_module
    from harness.clusters.embedded.apiserver.registry import Registry
    from harness.clusters.embedded.config import ClusterConfig

    monkeypatch.setattr(store_module, "MAX_PENDING", 3)
    store = Store(tmp_path / "s.db")
    registry = Registry(store, ClusterConfig(tmp_path))

    async def run() -> list[str]:
        stream = registry.watch("configmaps", "ns", resource_version=str(store.resource_version))
        for i in range(5):
            store.put("configmaps", "ns", cm(f"c{i}"))
        return [obj["metadata"]["name"] async for _, obj in stream]

    assert asyncio.run(run()) == ["c0", "c1", "c2"]  # then the stream ends; the consumer resumes
    assert store._watchers == set()
