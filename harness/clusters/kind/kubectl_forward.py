"""``kubectl port-forward`` that reads the local port kubectl actually bound and is restarted on it
when the pod behind the Service goes away (pytest-kind-ng's helper guesses a port and leaks the
process when the connect fails).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable

from harness.clusters.base import ClusterError
from harness.clusters.kind.tools import KindToolError

_FORWARDING = re.compile(rb"Forwarding from 127\.0\.0\.1:(\d+) ->")


class PortForward:
    """One ``kubectl port-forward``, restarted on the same local port while open.

    A port-forward to a Service is bound to the pod it picked at start; when that pod goes away (the
    hub restarted, the node rebooted) kubectl exits.  Restarting it on the same port keeps the URL the
    runner holds valid.  kubectl's output goes to an unnamed temp file, not a pipe: it logs a line per
    connection, and an undrained pipe would eventually block it.
    """

    def __init__(
        self, command: Callable[[int | None], list[str]], *, local_port: int | None, timeout: float
    ) -> None:
        self._command = command
        self._port = local_port
        self._timeout = timeout
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._watcher: threading.Thread | None = None

    def start(self) -> int:
        port = self._spawn()
        self._watcher = threading.Thread(target=self._keep_alive, name=f"port-forward-{port}", daemon=True)
        self._watcher.start()
        return port

    def close(self) -> None:
        self._closed.set()
        if self._watcher is not None:
            self._watcher.join(timeout=self._timeout + 10)
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None:
            _terminate(proc)

    def _spawn(self) -> int:
        command = self._command(self._port)
        with tempfile.TemporaryFile() as log:
            try:
                proc = subprocess.Popen(
                    command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
                )
            except FileNotFoundError as exc:
                raise ClusterError(f"{command[0]} not found: {exc}") from exc
            try:
                port = _wait_forwarded_port(proc, log.fileno(), self._timeout)
            except BaseException:
                _terminate(proc)
                raise
        with self._lock:
            self._proc = proc
        self._port = port
        return port

    def _keep_alive(self) -> None:
        while not self._closed.wait(0.2):
            with self._lock:
                proc = self._proc
            if proc is None or proc.poll() is None:
                continue
            with self._lock:
                self._proc = None
            while not self._closed.wait(0.5):
                try:
                    self._spawn()
                    break
                except ClusterError:
                    continue


def _wait_forwarded_port(proc: subprocess.Popen[bytes], log_fd: int, timeout: float) -> int:
    """Wait for kubectl's "Forwarding from 127.0.0.1:PORT" line; fail with its output if it exits."""
    deadline = time.monotonic() + timeout
    while True:
        output = os.pread(log_fd, 1 << 16, 0)
        match = _FORWARDING.search(output)
        if match:
            return int(match.group(1))
        if proc.poll() is not None:
            raise KindToolError(proc.args, proc.returncode, output.decode(errors="replace"))  # type: ignore[arg-type]
        if time.monotonic() >= deadline:
            raise KindToolError(
                proc.args,  # type: ignore[arg-type]
                -1,
                f"no 'Forwarding from' line within {timeout:g}s; output so far:\n"
                + output.decode(errors="replace"),
            )
        time.sleep(0.05)


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
