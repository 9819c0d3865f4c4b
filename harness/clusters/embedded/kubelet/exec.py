"""``kubectl exec``: run a command inside a running container's namespaces as its user, cwd and env."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import sys
import tempfile
from typing import TYPE_CHECKING

from .runtime import SHIM

if TYPE_CHECKING:
    from .pod_worker import PodWorker


class ExecError(Exception):
    """The container cannot take an exec (not running); message as the API server reports it."""


async def start_exec(
    worker: PodWorker, container: str, command: list[str], *, stdin: bool, tty: bool
) -> asyncio.subprocess.Process:
    proc = worker.procs.get(container)
    launch = worker.launches.get(container)
    if proc is None or not proc.running or proc.pid1 is None or launch is None:
        raise ExecError(f"container {container} is not running")
    spec = {
        "pid": proc.pid1,
        "uid": launch.uid,
        "gid": launch.gid,
        "groups": launch.groups,
        "cwd": launch.cwd,
        "env": launch.env,
        "argv": command,
        "tty": tty,
    }
    fd, spec_path = tempfile.mkstemp(prefix="exec-", suffix=".json", dir=proc.run_dir)
    with os.fdopen(fd, "w") as fh:
        json.dump(spec, fh)
    if tty:
        master, slave = pty.openpty()
        sub = await asyncio.create_subprocess_exec(
            sys.executable,
            str(SHIM),
            "exec",
            spec_path,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        return _attach_pty(sub, master)
    sub = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SHIM),
        "exec",
        spec_path,
        stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    # not journalled in HostRecords: an exec dies with the container's PID namespace, whose PID 1 is
    # recorded (exec probes would otherwise add a journal line every period)
    return sub


def _attach_pty(sub: asyncio.subprocess.Process, master: int) -> asyncio.subprocess.Process:
    """Expose the pty master as the process's stdout (and stdin) streams; stderr is merged (TTY)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    read_fh = os.fdopen(master, "rb", buffering=0)
    write_fh = os.fdopen(os.dup(master), "wb", buffering=0)

    async def connect() -> None:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), read_fh)

    sub.stdout = reader
    sub.stderr = None
    sub._jhsc_connect = asyncio.ensure_future(connect())  # type: ignore[attr-defined]
    sub._jhsc_pty = master  # type: ignore[attr-defined]
    sub.stdin = _PtyWriter(write_fh)  # type: ignore[assignment]
    return sub


class _PtyWriter:
    """Minimal StreamWriter stand-in over the pty master (write/drain/close)."""

    def __init__(self, fh: object) -> None:
        self.fh = fh

    def write(self, data: bytes) -> None:
        self.fh.write(data)  # type: ignore[attr-defined]

    async def drain(self) -> None:
        return None

    def write_eof(self) -> None:
        self.write(b"\x04")

    def can_write_eof(self) -> bool:
        return True

    def close(self) -> None:
        self.fh.close()  # type: ignore[attr-defined]

    async def wait_closed(self) -> None:
        return None

    def is_closing(self) -> bool:
        return bool(self.fh.closed)  # type: ignore[attr-defined]


def resize(process: object, width: int, height: int) -> None:
    master = getattr(process, "_jhsc_pty", None)
    if master is None:
        return
    import fcntl
    import struct
    import termios

    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
