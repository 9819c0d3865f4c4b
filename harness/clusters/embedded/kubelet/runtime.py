"""Container processes: command resolution, the shim launch, CRI-format log files, stop and kill.

A ``ContainerProcess`` is one run of one container (a restart is a new one). The shim
(``container_init.py``) is started with stdout/stderr piped here; every line goes to the container's
log file in the CRI format ``<RFC3339Nano> <stream> <F|P> <text>``, which ``logs.py`` reads back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

from ..images import ImageEntry

SHIM = Path(__file__).with_name("container_init.py")
#: How the shim is run. It is stdlib-only, so ``-I -S`` skip ``site`` (the harness venv's .pth files) and
#: PYTHON* variables: that halves its interpreter start-up, which every container start and every exec
#: (kubectl exec, exec probes) pays before the command runs.
SHIM_ARGV = (sys.executable, "-I", "-S", str(SHIM))
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class ContainerStartError(Exception):
    """The container could not be created/started; ``reason`` is the waiting reason a kubelet reports."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def now_rfc3339() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _nano_timestamp() -> str:
    ns = time.time_ns()
    return datetime.fromtimestamp(ns // 10**9, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{ns % 10**9:09d}Z"
    )


def command_argv(container: dict, entry: ImageEntry) -> list[str]:
    """command+args as the runtime combines them with the image's command (ENTRYPOINT/CMD stand-in)."""
    command, args = container.get("command"), container.get("args")
    if command:
        return [*command, *(args or [])]
    if args:
        return list(args)
    if entry.command:
        return list(entry.command)
    raise ContainerStartError("CreateContainerError", "Error: no command specified")


def _can_exec(path: str, uid: int, gids: set[int]) -> bool:
    try:
        st = os.stat(path)
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode):
        return False
    if uid == 0:
        return bool(st.st_mode & 0o111)
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid in gids:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def _dirs_traversable(path: str, uid: int, gids: set[int]) -> bool:
    if uid == 0:
        return True
    parent = os.path.dirname(os.path.realpath(path))
    while True:
        st = os.stat(parent)
        bit = stat.S_IXUSR if st.st_uid == uid else stat.S_IXGRP if st.st_gid in gids else stat.S_IXOTH
        if not st.st_mode & bit:
            return False
        if parent == "/":
            return True
        parent = os.path.dirname(parent)


def find_executable(name: str, path_env: str, uid: int, gids: set[int]) -> str:
    """Resolve like runc's exec: ``/``-paths as is, else the first executable match on PATH."""
    if "/" in name:
        if _can_exec(name, uid, gids) and _dirs_traversable(name, uid, gids):
            return name
        what = "no such file or directory" if not os.path.exists(name) else "permission denied"
        raise ContainerStartError("RunContainerError", _oci_message(f"exec: {name!r}: {what}"))
    for directory in path_env.split(":"):
        candidate = os.path.join(directory or ".", name)
        if _can_exec(candidate, uid, gids) and _dirs_traversable(candidate, uid, gids):
            return candidate
    raise ContainerStartError(
        "RunContainerError", _oci_message(f'exec: "{name}": executable file not found in $PATH')
    )


def _oci_message(detail: str) -> str:
    return (
        "failed to create containerd task: failed to create shim task: OCI runtime create failed: "
        f"runc create failed: unable to start container process: {detail}: unknown"
    )


@dataclass
class ShimSpec:
    """Everything the shim needs to start one container (serialised to JSON for it)."""

    netns: str
    hostname: str
    scratch: str
    argv: list[str]
    exec_path: str
    env: dict[str, str]
    cwd: str
    uid: int
    gid: int
    groups: list[int]
    mounts: list[dict[str, object]]
    #: dirs the image would contain (created before the volume mounts): {path, uid, gid, mode}
    image_dirs: list[dict[str, object]] = field(default_factory=list)
    #: host dirs of the image the root overlay does not show, each given a writable layer at its path
    image_layers: list[str] = field(default_factory=list)
    #: files the image has, copied into the writable layer: {source (host path), path, mode}
    image_files: list[dict[str, object]] = field(default_factory=list)
    #: host dirs that are empty in the container (the node's data dir)
    hidden: list[str] = field(default_factory=list)


class ContainerProcess:
    """One run of a container: started by ``start``; ``wait`` gives the exit code."""

    def __init__(self, run_dir: Path, log_path: Path) -> None:
        self.run_dir = run_dir
        self.log_path = log_path
        self.container_id = secrets.token_hex(32)
        self.proc: asyncio.subprocess.Process | None = None
        self.pid1: int | None = None
        self.started_at: str | None = None
        self.finished_at: str | None = None
        self.exit_code: int | None = None
        self.start_error: str | None = None
        self._pumps: list[asyncio.Task[None]] = []
        self._log_fh: BinaryIO | None = None

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "pid"

    async def start(self, spec: ShimSpec, on_spawn: Callable[[int], None] | None = None) -> None:
        """Start the shim and wait until the command was exec'd (or failed to be)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        spec_file = self.run_dir / "spec.json"
        data = {**spec.__dict__, "pid_file": str(self.pid_file), "error_file": str(self.run_dir / "error")}
        spec_file.write_text(json.dumps(data))
        spec_file.chmod(0o600)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log_fh = open(self.log_path, "ab")  # noqa: SIM115 - closed by the pumps' owner in wait()
        self._log_fh = log_fh
        self.proc = await asyncio.create_subprocess_exec(
            *SHIM_ARGV,
            "run",
            str(spec_file),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        if on_spawn is not None:
            on_spawn(self.proc.pid)  # journalled before anything can go wrong (SIGKILL cleanup)
        assert self.proc.stdout and self.proc.stderr
        self._pumps = [
            asyncio.create_task(_pump(self.proc.stdout, "stdout", log_fh)),
            asyncio.create_task(_pump(self.proc.stderr, "stderr", log_fh)),
        ]
        while not self.pid_file.exists():
            if self.proc.returncode is not None:
                break
            error_file = self.run_dir / "error"
            if error_file.exists():
                break
            await asyncio.sleep(0.01)
        if self.pid_file.exists():
            self.pid1 = int(self.pid_file.read_text())
            self.started_at = now_rfc3339()
            return
        await self.wait()
        error_file = self.run_dir / "error"
        self.start_error = error_file.read_text() if error_file.exists() else f"exit {self.exit_code}"
        raise ContainerStartError("RunContainerError", _oci_message(self.start_error))

    async def wait(self) -> int:
        assert self.proc is not None
        code = await self.proc.wait()
        await asyncio.gather(*self._pumps, return_exceptions=True)
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None
        if self.exit_code is None:
            self.exit_code = code if code >= 0 else 128 - code
            self.finished_at = now_rfc3339()
        return self.exit_code

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def signal(self, signum: int) -> None:
        """Signal the container's PID 1 (through the shim, which forwards it)."""
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signum)

    def kill(self) -> None:
        """SIGKILL PID 1 (the kernel then kills the whole PID namespace) and the shim."""
        if self.pid1 is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid1, signal.SIGKILL)
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)

    async def stop(self, grace_seconds: float) -> int:
        """SIGTERM, wait up to the grace period, then SIGKILL; return the exit code."""
        if self.proc is None:
            return 0
        self.signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(asyncio.shield(self.wait()), timeout=max(grace_seconds, 0.1))
        except asyncio.TimeoutError:
            self.kill()
            return await self.wait()


async def _pump(stream: asyncio.StreamReader, name: str, log_fh: BinaryIO) -> None:
    write, flush = log_fh.write, log_fh.flush
    while True:
        try:
            line = await stream.readuntil(b"\n")
            tag = b"F"
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                return
            line, tag = exc.partial, b"P"
        except asyncio.LimitOverrunError as exc:
            line, tag = await stream.readexactly(exc.consumed), b"P"
        text = line[:-1] if line.endswith(b"\n") else line
        write(_nano_timestamp().encode() + b" " + name.encode() + b" " + tag + b" " + text + b"\n")
        flush()
