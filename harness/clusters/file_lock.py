"""An exclusive ``flock`` on a lock file: how harness processes on one host take turns.

Used for what parallel pytest-xdist workers (and parallel runs) must not do at once: building the
same environment or image, rewriting the image map, claiming a subnet or bridge name.  The lock goes
with the process, so a crashed holder never leaves it stuck.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created, with its directory, if missing) for the body."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
