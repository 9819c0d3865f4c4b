"""What the kubelet made on the host, written down before it is made.

A cluster process killed with SIGKILL cannot clean up; the next ``up`` on the same data dir reads
these records and removes exactly those leftovers (processes, netns, links, claim files) and nothing
else on the host.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
from pathlib import Path

from .host import link_exists, netns_exists, process_start_time

log = logging.getLogger(__name__)

RECORDS_FILE = "kubelet-host-resources.jsonl"


class HostRecords:
    """Append-only journal of host resources under ``<data_dir>/run/``."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "run" / RECORDS_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def add(self, kind: str, **fields: object) -> None:
        with open(self.path, "a") as fh:
            fh.write(json.dumps({"kind": kind, **fields}) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def add_process(self, pid: int) -> None:
        self.add("process", pid=pid, start=process_start_time(pid))

    def entries(self) -> list[dict]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue  # a torn last line from a killed writer
        return out

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)

    def cleanup(self) -> list[str]:
        """Remove every recorded resource that still exists; return what was removed (for the log)."""
        removed: list[str] = []
        entries = self.entries()
        for entry in entries:  # processes first: they hold the namespaces
            if entry["kind"] == "process" and _kill_if_same(entry["pid"], entry.get("start")):
                removed.append(f"process {entry['pid']}")
        for entry in reversed(entries):
            kind = entry["kind"]
            if kind == "netns" and netns_exists(entry["name"]):
                subprocess.run(["ip", "netns", "del", entry["name"]], check=False, capture_output=True)
                removed.append(f"netns {entry['name']}")
            elif kind == "link" and link_exists(entry["name"]):
                subprocess.run(["ip", "link", "del", entry["name"]], check=False, capture_output=True)
                removed.append(f"link {entry['name']}")
            elif kind == "file" and Path(entry["path"]).exists():
                Path(entry["path"]).unlink(missing_ok=True)
                removed.append(f"file {entry['path']}")
        self.clear()
        if removed:
            log.info("removed stale host resources: %s", ", ".join(removed))
        return removed


def _kill_if_same(pid: int, start: int | None) -> bool:
    if start is None or process_start_time(pid) != start:
        return False
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True
