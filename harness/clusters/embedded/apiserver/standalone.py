"""Run the real API server alone (no network, controllers or kubelet) on 127.0.0.1, in a thread.

For tests and benchmarks of the API layer, and for other components' tests that need an API to talk to.
It is the production ``Store``/``Registry``/``ApiServer`` code, only without the other cluster parts.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import yaml

from ..config import ClusterConfig
from .registry import Registry
from .server import ApiServer
from .store import Store

T = TypeVar("T")


@dataclass
class Standalone:
    config: ClusterConfig
    registry: Registry
    server: ApiServer
    loop: asyncio.AbstractEventLoop

    @property
    def kubeconfig(self) -> Path:
        return self.config.kubeconfig

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Run a coroutine (e.g. a Registry call) on the server's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


def http_client(kubeconfig: Path) -> httpx.Client:
    """An httpx client for the cluster in ``kubeconfig`` (its CA, its admin token): for raw API calls."""
    doc = yaml.safe_load(kubeconfig.read_text())
    cluster = doc["clusters"][0]["cluster"]
    ctx = ssl.create_default_context(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
    token = doc["users"][0]["user"]["token"]
    return httpx.Client(base_url=cluster["server"], verify=ctx, headers={"Authorization": f"Bearer {token}"})


@contextmanager
def standalone_server(data_dir: Path, *, api_port: int = 0, watch_window: int = 1000) -> Iterator[Standalone]:
    """Start store + registry + HTTPS server on 127.0.0.1 in a background loop; stop it on exit."""
    config = ClusterConfig(data_dir, api_port=api_port, watch_window=watch_window)
    data_dir.mkdir(parents=True, exist_ok=True)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    state: dict[str, Any] = {}

    async def main() -> None:
        try:
            store = Store(config.state_db, window=config.watch_window)
            registry = Registry(store, config)
            server = ApiServer(config, registry)
            await server.start()
            state["it"] = Standalone(config, registry, server, loop)
        except BaseException as e:
            state["error"] = e
            started.set()
            return
        state["stop"] = stop = asyncio.Event()
        started.set()
        await stop.wait()
        await server.stop()
        store.close()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    started.wait(60)
    if "error" in state:
        thread.join(5)
        loop.close()
        raise state["error"]
    try:
        yield state["it"]
    finally:
        loop.call_soon_threadsafe(state["stop"].set)
        thread.join(30)
        loop.close()
