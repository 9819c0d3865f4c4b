"""``kubectl exec``: run a command inside a running container's namespaces as its user, cwd and env."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import tempfile
from collections.abc import Mapping
from typing import Any, BinaryIO, Protocol

from .container_spec import ContainerLaunch
from .runtime import SHIM_ARGV, ContainerProcess


class RunningContainers(Protocol):
    """What an exec needs of a pod: its container processes and how each was launched, by container name.

    ``PodState`` has both; asking only for this keeps exec below the pod's state and worker (which run
    exec probes and exec hooks through it), so the dependency goes one way.
    """

    @property
    def procs(self) -> Mapping[str, ContainerProcess]: ...

    @property
    def launches(self) -> Mapping[str, ContainerLaunch]: ...


class ExecError(Exception):
    """The container cannot take an exec (not running); message as the API server reports it."""


async def start_exec(
    pod: RunningContainers, container: str, command: list[str], *, stdin: bool, tty: bool
) -> asyncio.subprocess.Process | PtyExec:
    """Start ``command`` in the container; a TTY exec gets a pty whose master is stdin and stdout."""
    proc = pod.procs.get(container)
    launch = pod.launches.get(container)
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
            *SHIM_ARGV,
            "exec",
            spec_path,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        return await PtyExec.attach(sub, master)
    sub = await asyncio.create_subprocess_exec(
        *SHIM_ARGV,
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


async def exec_capture(
    pod: RunningContainers, container: str, command: list[str], timeout: float
) -> tuple[int, bytes]:
    """Run ``command`` in the container to its end, without stdin or TTY, as exec probes and exec
    hooks do: its exit code and stdout + stderr. One that outlives ``timeout`` is killed (exit code 1,
    "command timed out")."""
    proc = await start_exec(pod, container, command, stdin=False, tty=False)
    assert isinstance(proc, asyncio.subprocess.Process)  # no TTY: plain pipes
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        return 1, b"command timed out"
    return int(proc.returncode or 0), out + err


class PtyExec:
    """A TTY exec session (the ``ExecProcess`` shape): stdout reads the pty master, stdin writes it,
    stderr is merged into stdout as on a real TTY."""

    def __init__(self, sub: asyncio.subprocess.Process, master: int, reader: asyncio.StreamReader) -> None:
        self.sub = sub
        self.master = master
        self.stdout: asyncio.StreamReader | None = reader
        self.stderr: asyncio.StreamReader | None = None
        # duck-typed StreamWriter (write/drain/close/write_eof): all the API's exec stream uses
        self.stdin: Any = _PtyWriter(os.fdopen(os.dup(master), "wb", buffering=0))

    @classmethod
    async def attach(cls, sub: asyncio.subprocess.Process, master: int) -> PtyExec:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(master, "rb", buffering=0)
        )
        return cls(sub, master, reader)

    @property
    def returncode(self) -> int | None:
        return self.sub.returncode

    async def wait(self) -> int:
        return await self.sub.wait()

    def kill(self) -> None:
        self.sub.kill()


class _PtyWriter:
    """Minimal StreamWriter stand-in over the pty master (write/drain/close)."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh

    def write(self, data: bytes) -> None:
        self.fh.write(data)

    async def drain(self) -> None:
        return None

    def write_eof(self) -> None:
        self.write(b"\x04")

    def can_write_eof(self) -> bool:
        return True

    def close(self) -> None:
        self.fh.close()

    async def wait_closed(self) -> None:
        return None

    def is_closing(self) -> bool:
        return self.fh.closed


def resize(process: object, width: int, height: int) -> None:
    """Channel 4 (resize) of a TTY exec: set the pty's window size; non-TTY sessions ignore it."""
    if not isinstance(process, PtyExec):
        return
    master = process.master
    import fcntl
    import struct
    import termios

    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
