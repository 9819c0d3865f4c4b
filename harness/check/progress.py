"""Run the scenarios' pytest and show one live line: cells done / total, and what is happening now.

Everything pytest prints goes to a log file (the details are in the report and the bundles); the
terminal gets the live line (rewritten in place on a terminal, one line per cell otherwise), so the
long parts, the environment builds and the runs, show progress without flooding the screen.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TextIO

_VERDICT_WORDS = (" PASSED", " FAILED", " ERROR", " SKIPPED", " XFAIL")


class _Done:
    """Cells in the results file so far (it is rewritten after every cell); re-read only when it changed."""

    def __init__(self, results: Path) -> None:
        self.results, self.mtime, self.count = results, 0.0, 0

    def __call__(self) -> int:
        try:
            mtime = self.results.stat().st_mtime
            if mtime != self.mtime:
                self.mtime = mtime
                self.count = len(json.loads(self.results.read_text(encoding="utf-8")).get("cells", []))
        except (OSError, ValueError):
            pass
        return self.count


def _show(out: TextIO, text: str, live: bool) -> None:
    if live:
        width = max(20, shutil.get_terminal_size().columns - 1)
        out.write("\r" + text[:width].ljust(width))
    else:
        out.write(text + "\n")
    out.flush()


def run(command: list[str], log: Path, total: int, results: Path, out: TextIO = sys.stderr) -> int:
    """Run ``command``, its output into ``log``; returns its exit status."""
    log.parent.mkdir(parents=True, exist_ok=True)
    results.unlink(missing_ok=True)  # the count must be this run's
    live = out.isatty()
    cells_done = _Done(results)
    with (
        log.open("w", encoding="utf-8") as sink,
        subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},  # lines as they happen, not when a buffer fills
        ) as proc,
    ):
        assert proc.stdout is not None
        for line in proc.stdout:
            sink.write(line)
            text = line.strip()
            done = cells_done()
            verdict = any(word in text for word in _VERDICT_WORDS) and "::" in text
            if (live and text) or verdict:
                _show(out, f"[{done}/{total}] {text}", live)
        status = proc.wait()
    if live:
        out.write("\n")
    return status
