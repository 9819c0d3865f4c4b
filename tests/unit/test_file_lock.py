"""``file_lock`` excludes other processes while held and creates its file's directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness.clusters.file_lock import file_lock

TRY_LOCK = """
import fcntl, sys
with open(sys.argv[1], "a") as handle:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.exit(1)
"""


def _other_process_gets_it(path: Path) -> bool:
    return subprocess.run([sys.executable, "-c", TRY_LOCK, str(path)], timeout=30).returncode == 0


def test_lock_is_exclusive_across_processes_until_released(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "x.lock"
    with file_lock(path):
        assert path.is_file()
        assert not _other_process_gets_it(path)
    assert _other_process_gets_it(path)
