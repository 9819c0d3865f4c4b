"""Turns on a shared cluster: shared turns overlap, a restarting scenario runs alone and is not starved.

flock locks belong to open file descriptions, so threads that each open the lock files contend
exactly as xdist worker processes do.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from harness.clusters.shared_use import cluster_turn, lock_base

KEY = "https://127.0.0.1:6443"


def _hold(
    path: Path, exclusive: bool, entered: threading.Event, release: threading.Event, log: list[str], name: str
) -> threading.Thread:
    def body() -> None:
        with cluster_turn(KEY, exclusive=exclusive, directory=path):
            log.append(f"{name} in")
            entered.set()
            release.wait(10)
            log.append(f"{name} out")

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread


def test_no_key_means_no_wait_and_no_files(tmp_path: Path) -> None:
    with cluster_turn(None, exclusive=True, directory=tmp_path) as waited:
        assert waited == 0.0
    assert list(tmp_path.iterdir()) == []


def test_shared_turns_overlap(tmp_path: Path) -> None:
    log: list[str] = []
    release = threading.Event()
    entered = [threading.Event(), threading.Event()]
    threads = [_hold(tmp_path, False, entered[i], release, log, f"r{i}") for i in range(2)]
    assert all(event.wait(5) for event in entered), log
    release.set()
    for thread in threads:
        thread.join(5)
    assert log[:2] == ["r0 in", "r1 in"] or log[:2] == ["r1 in", "r0 in"]


def test_exclusive_waits_for_shared_and_later_shared_wait_behind_it(tmp_path: Path) -> None:
    log: list[str] = []
    release_reader, release_writer, release_late = threading.Event(), threading.Event(), threading.Event()
    reader_in, writer_in, late_in = threading.Event(), threading.Event(), threading.Event()
    reader = _hold(tmp_path, False, reader_in, release_reader, log, "reader")
    assert reader_in.wait(5)
    writer = _hold(tmp_path, True, writer_in, release_writer, log, "writer")
    time.sleep(0.2)
    assert not writer_in.is_set(), "a restart must wait for the scenario using the cluster"
    late = _hold(tmp_path, False, late_in, release_late, log, "late")
    time.sleep(0.2)
    assert not late_in.is_set(), "a scenario arriving after a waiting restart must wait behind it"
    release_reader.set()
    assert writer_in.wait(5)
    time.sleep(0.2)
    assert not late_in.is_set(), "nothing runs beside a restarting scenario"
    release_writer.set()
    assert late_in.wait(5)
    release_late.set()
    for thread in (reader, writer, late):
        thread.join(5)
    assert log == ["reader in", "reader out", "writer in", "writer out", "late in", "late out"]


def test_a_raising_body_gives_the_turn_back(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), cluster_turn(KEY, exclusive=True, directory=tmp_path):
        raise RuntimeError("step failed")
    with cluster_turn(KEY, exclusive=True, directory=tmp_path) as waited:
        assert waited < 1.0


def test_clusters_are_told_apart_by_key(tmp_path: Path) -> None:
    assert lock_base("https://a:6443", tmp_path) != lock_base("https://b:6443", tmp_path)
    assert lock_base(KEY, tmp_path).parent == tmp_path
