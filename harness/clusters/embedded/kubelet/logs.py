"""Container logs (``kubectl logs``) read back from the CRI-format files the runtime writes.

File layout: ``pods/<uid>/logs/<container>/<restartCount>.log``; each line is
``<RFC3339Nano> <stdout|stderr> <F|P> <text>`` (``P`` = partial line without its newline).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

FOLLOW_POLL_SECONDS = 0.1


def log_files(pod_dir: Path, container: str) -> list[Path]:
    files = list((pod_dir / "logs" / container).glob("*.log"))
    return sorted(files, key=lambda p: int(p.stem))


def render_line(raw: bytes, timestamps: bool) -> bytes:
    parts = raw.rstrip(b"\n").split(b" ", 3)
    if len(parts) < 4:
        return b""
    stamp, _stream, tag, text = parts
    out = text + (b"\n" if tag == b"F" else b"")
    return stamp + b" " + out if timestamps else out


async def read_log(
    path: Path,
    *,
    follow: bool,
    still_writing: Callable[[], bool],
    tail_lines: int | None,
    timestamps: bool,
) -> AsyncIterator[bytes]:
    """Yield rendered log lines; with ``follow`` keep going until the writer is done."""
    with open(path, "rb") as fh:
        lines = fh.readlines()
        if tail_lines is not None:
            lines = lines[-tail_lines:] if tail_lines > 0 else []
        pending = b""
        if lines and not lines[-1].endswith(b"\n"):
            pending = lines.pop()
        for line in lines:
            yield render_line(line, timestamps)
        if not follow:
            return
        while True:
            chunk = fh.readline()
            if chunk:
                pending += chunk
                if pending.endswith(b"\n"):
                    yield render_line(pending, timestamps)
                    pending = b""
                continue
            if not still_writing():
                rest = fh.read()
                for line in (pending + rest).splitlines(keepends=True):
                    if line.endswith(b"\n"):
                        yield render_line(line, timestamps)
                return
            await asyncio.sleep(FOLLOW_POLL_SECONDS)
