"""Taking turns on a cluster that several harness processes use at once.

A ``restart_cluster`` step reboots every node: on a cluster that another xdist worker (or another
run on this host) is using at that moment, the other scenario loses its hub, its pods and its API
connection mid-step and fails for a reason that has nothing to do with its storage config. So a
scenario that restarts the cluster must have it alone, and the others may share it.

That is a readers-writer lock over two ``flock`` files named after the cluster's API server:
- every scenario passes the *gate* (held exclusively only for a moment), then holds *use* shared;
- a restarting scenario holds the gate for its whole run, then *use* exclusively: once it waits at
  the gate no new scenario can start, so it is not starved by a stream of short ones.

Locks go with their process, so a crashed worker never leaves the cluster locked. They coordinate
processes on one host only; runs from several hosts against one cluster must be kept apart by hand.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: Where the lock files live: one pair per cluster (API server URL), shared by every run on the host.
LOCK_DIR = Path(os.environ.get("JHSC_LOCK_DIR", Path(tempfile.gettempdir()) / "jhsc-cluster-locks"))


def lock_base(key: str, directory: Path = LOCK_DIR) -> Path:
    """The lock files' common stem for cluster ``key``: a hash, since a URL is no file name."""
    return directory / hashlib.sha256(key.encode()).hexdigest()[:16]


@contextmanager
def cluster_turn(key: str | None, *, exclusive: bool, directory: Path = LOCK_DIR) -> Iterator[float]:
    """Hold a turn on cluster ``key`` for the body; yields the seconds spent waiting for it.

    ``key`` None means this process has the cluster to itself (embedded, kind: one per worker):
    nothing to wait for.
    """
    if key is None:
        yield 0.0
        return
    base = lock_base(key, directory)
    base.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with open(base.with_suffix(".gate"), "a") as gate, open(base.with_suffix(".use"), "a") as use:
        fcntl.flock(gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(use, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        except BaseException:
            fcntl.flock(gate, fcntl.LOCK_UN)
            raise
        if not exclusive:
            fcntl.flock(gate, fcntl.LOCK_UN)
        try:
            yield time.monotonic() - started
        finally:
            fcntl.flock(use, fcntl.LOCK_UN)
            if exclusive:
                fcntl.flock(gate, fcntl.LOCK_UN)
