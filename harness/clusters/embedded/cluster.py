"""Running an embedded cluster: the process itself and the handle that starts it from the harness.

``serve`` is the cluster process (``python -m harness.clusters.embedded up``): it starts the parts in
DESIGN.md order, serves until SIGTERM/SIGINT, then takes everything down in reverse order.
``EmbeddedCluster`` spawns that process, waits for /readyz through the kubeconfig and stops it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import faulthandler
import json
import logging
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from ..base import ClusterError
from .config import ClusterConfig

log = logging.getLogger("harness.clusters.embedded")


class StartupError(RuntimeError):
    """The cluster cannot start; the message says why and what to do."""


def setup_logging(config: ClusterConfig) -> None:
    config.log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(config.log_file)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def read_pid(config: ClusterConfig) -> int | None:
    try:
        pid = int(config.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return pid


def _port_free(port: int, addresses: list[str]) -> bool:
    for addr in addresses:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((addr, port))
            except OSError:
                return False
    return True


def _import_parts() -> tuple[Any, Any, Any]:
    """The kubelet and controllers packages; a clear message when one is not there yet."""
    try:
        from .kubelet import ClusterNetwork, Kubelet
    except ImportError as e:
        raise StartupError(
            f"the embedded kubelet is not available ({e}); harness/clusters/embedded/kubelet must export "
            "ClusterNetwork and Kubelet (see DESIGN.md)"
        ) from e
    try:
        from .controllers import run_controllers
    except ImportError as e:
        raise StartupError(
            f"the embedded controllers are not available ({e}); harness/clusters/embedded/controllers must "
            "export run_controllers (see DESIGN.md)"
        ) from e
    return ClusterNetwork, Kubelet, run_controllers


def _log_tasks() -> None:
    """`kill -USR2 <pid>`: log every asyncio task's stack (where a hung shutdown waits)."""
    import io

    for task in asyncio.all_tasks():
        buf = io.StringIO()
        task.print_stack(file=buf)
        log.warning("task %s:\n%s", task.get_name(), buf.getvalue())


def _claim_data_dir(data_dir: Path) -> tuple[ClusterConfig, dict[str, Any] | None]:
    """Root check, logging, the pid file; the previous run's cluster.json (port, CIDRs) if any."""
    if os.geteuid() != 0:
        raise StartupError(
            "the embedded cluster needs root (network namespaces, bridge, mounts); run as root"
        )
    config = ClusterConfig(data_dir)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    setup_logging(config)
    other = read_pid(config)
    if other is not None and other != os.getpid():
        raise StartupError(f"a cluster process (pid {other}) already runs on {data_dir}; run `down` first")
    config.run_dir.mkdir(parents=True, exist_ok=True)
    config.pid_file.write_text(str(os.getpid()))
    previous: dict[str, Any] | None = None
    if config.cluster_json.exists():
        with contextlib.suppress(ValueError, OSError):
            previous = json.loads(config.cluster_json.read_text())
    return config, previous


class _Parts:
    """The running parts of the cluster process, started in order and stopped in reverse."""

    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self.network: Any = None
        self.server: Any = None
        self.kubelet: Any = None
        self.store: Any = None
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self, previous: dict[str, Any] | None) -> None:
        from .apiserver.registry import Registry
        from .apiserver.server import ApiServer
        from .apiserver.store import Store

        config = self.config
        ClusterNetwork, Kubelet, run_controllers = _import_parts()
        network = self.network = await asyncio.to_thread(ClusterNetwork.setup, config.data_dir, previous)
        config.gateway, config.pod_cidr, config.service_cidr = (
            network.gateway,
            network.pod_cidr,
            network.service_cidr,
        )
        config.bind_addresses = ["127.0.0.1", network.gateway]
        wanted = int((previous or {}).get("api_port") or 0)
        config.api_port = wanted if wanted and _port_free(wanted, config.bind_addresses) else 0
        self.store = Store(config.state_db, window=config.watch_window)
        registry = Registry(self.store, config)
        server = self.server = ApiServer(config, registry)
        server.ready = False
        await server.start(ready=False)
        config.cluster_json.write_text(
            json.dumps({"api_port": config.api_port, **network.to_json()}, indent=1)
        )
        self.tasks = await run_controllers(registry, config)
        self.kubelet = Kubelet(registry, config, network=network)
        await self.kubelet.start()
        registry.pod_io = self.kubelet.pod_io
        server.ready = True

    async def stop(self) -> None:
        if self.kubelet is not None:
            log.info("stopping the kubelet")
            with contextlib.suppress(Exception):
                await self.kubelet.stop()
        log.info("stopping %d controller tasks", len(self.tasks))
        for t in self.tasks:
            t.cancel()
        for t in self.tasks:
            with contextlib.suppress(BaseException):
                await t
        if self.server is not None:
            log.info("stopping the apiserver")
            await self.server.stop()
        if self.store is not None:
            self.store.close()
        if self.network is not None:
            log.info("tearing down the network")
            await asyncio.to_thread(self.network.teardown)


async def serve(data_dir: Path) -> None:
    """Run the whole cluster until SIGTERM/SIGINT."""
    config, previous = _claim_data_dir(data_dir)
    stop = asyncio.Event()
    orphaned: list[bool] = []
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def parent_died() -> None:
        log.warning("the process that started this cluster is gone (SIGHUP): shutting down")
        orphaned.append(True)
        stop.set()

    loop.add_signal_handler(ORPHAN_SIGNAL, parent_died)
    loop.add_signal_handler(signal.SIGUSR2, _log_tasks)
    parts = _Parts(config)
    try:
        await parts.start(previous)
        log.info("cluster ready: %s (kubeconfig %s)", config.server_url, config.kubeconfig)
        await stop.wait()
        log.info("shutting down")
    finally:
        await parts.stop()
        log.info("stopped")
        with contextlib.suppress(OSError):
            if read_pid(config) in (os.getpid(), None):
                config.pid_file.unlink()
        if orphaned and (config.data_dir / EPHEMERAL_MARKER).exists():
            # nobody is left to remove the scratch data dir its starter made: do it here
            shutil.rmtree(config.data_dir, ignore_errors=True)


def main_up(data_dir: Path) -> int:
    # `kill -USR1 <pid>` dumps every thread's stack to stderr (logs/process.out): for hangs
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    # jsonschema (schema validation, kubernetes-validate) imports rfc3987-syntax when installed, which
    # compiles a lark grammar for its "iri" format check: py-spy showed ~3 s of every cluster start and
    # restart there on a busy 2-core machine. No format checker is used here, so the cluster process
    # does without that optional import (jsonschema skips the check when the import fails).
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    try:
        asyncio.run(serve(data_dir))
    except StartupError as e:
        log.error("%s", e)
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


def readyz(kubeconfig: Path, timeout: float = 2.0) -> bool:
    """True when the server named in ``kubeconfig`` answers /readyz with ok (CA + token from the file)."""
    import base64

    import yaml

    try:
        doc = yaml.safe_load(kubeconfig.read_text())
        cluster = doc["clusters"][0]["cluster"]
        token = doc["users"][0]["user"]["token"]
        ctx = ssl.create_default_context(
            cadata=base64.b64decode(cluster["certificate-authority-data"]).decode()
        )
        req = urllib.request.Request(
            cluster["server"] + "/readyz", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(req, context=ctx, timeout=timeout) as resp:
            return bool(resp.status == 200 and resp.read().strip() == b"ok")
    except Exception:
        return False


def stop_process(pid: int, timeout: float = 30.0) -> bool:
    """SIGTERM, wait up to ``timeout`` for the process to go, then SIGKILL; True when it had to be killed."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return True


def cleanup_after_kill(config: ClusterConfig) -> None:
    """A killed cluster process could not undo its host changes: remove what it recorded under run/."""
    try:
        from .kubelet.records import HostRecords
    except ImportError as e:
        log.error("cannot clean up after a killed cluster (%s); the next `up` on %s will", e, config.data_dir)
        return
    removed = HostRecords(config.data_dir).cleanup()
    log.warning("cluster process was killed; removed its leftovers: %s", ", ".join(removed) or "nothing")
    with contextlib.suppress(OSError):
        config.pid_file.unlink()


#: Sent to the cluster process when the process that started it dies (``die_with_parent``).
ORPHAN_SIGNAL = signal.SIGHUP
#: A data dir holding this file is scratch: an orphaned cluster process removes it on the way out.
EPHEMERAL_MARKER = ".jhsc-ephemeral"
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """In the child before exec: ORPHAN_SIGNAL when the parent dies (prctl PR_SET_PDEATHSIG)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, int(ORPHAN_SIGNAL), 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os.kill(os.getpid(), ORPHAN_SIGNAL)


class EmbeddedCluster:
    """One cluster process on ``data_dir``; a context manager (start on enter, stop on exit).

    ``die_with_parent``: the cluster process shuts down (and removes a data dir marked
    EPHEMERAL_MARKER) when the process that started it dies without stopping it: an xdist worker
    that pytest-xdist kills 10 s into its cleanup after Ctrl-C, or a SIGKILLed pytest.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        startup_timeout: float = 120.0,
        stop_timeout: float = 30.0,
        die_with_parent: bool = False,
    ) -> None:
        self.config = ClusterConfig(Path(data_dir))
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.die_with_parent = die_with_parent
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def kubeconfig(self) -> Path:
        return self.config.kubeconfig

    @property
    def process_log(self) -> Path:
        return self.config.data_dir / "logs" / "process.out"

    def start(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        self.process_log.parent.mkdir(parents=True, exist_ok=True)
        started = time.time()
        parent = os.getpid()
        with open(self.process_log, "ab") as out:
            self._proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "harness.clusters.embedded",
                    "up",
                    "--data-dir",
                    str(self.config.data_dir),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=str(Path(__file__).resolve().parents[3]),
                preexec_fn=(lambda: _die_with_parent(parent)) if self.die_with_parent else None,
            )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ClusterError(
                    f"the embedded cluster exited with code {self._proc.returncode} while starting:\n"
                    f"{self._log_tail()}"
                )
            fresh = self.kubeconfig.exists() and self.kubeconfig.stat().st_mtime >= started - 1
            if fresh and readyz(self.kubeconfig):
                return
            time.sleep(0.2)
        self.stop()
        raise ClusterError(
            f"the embedded cluster was not ready after {self.startup_timeout:.0f}s:\n{self._log_tail()}"
        )

    def _log_tail(self, lines: int = 40) -> str:
        text = ""
        for path in (self.process_log, self.config.log_file):
            with contextlib.suppress(OSError):
                text += "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) + "\n"
        return text

    def stop(self) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            # our own child: wait() reaps it (polling with kill(pid, 0) would see the zombie as alive)
            self._proc.terminate()
            try:
                self._proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
                cleanup_after_kill(self.config)
        self._proc = None

    def __enter__(self) -> EmbeddedCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
