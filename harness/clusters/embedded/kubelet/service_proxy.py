"""kube-proxy in userspace mode: ClusterIP:port -> a ready endpoint (podIP:targetPort).

Every ClusterIP becomes a /32 on the cluster bridge (so the host and the pods reach it locally) with
one asyncio TCP listener per service port. Each accepted connection is piped to the next endpoint
(round-robin) from the Service's Endpoints object; the ``kubernetes`` Service's endpoint is the API
server, whose Endpoints the API side maintains.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable

from .api import Obj, RegistryLike
from .context import ServiceCache
from .network import ClusterNetwork

log = logging.getLogger(__name__)
CONNECT_TIMEOUT = 5.0


def endpoint_targets(endpoints: Obj | None, port_name: str) -> list[tuple[str, int]]:
    """Ready (ip, port) pairs of ``endpoints`` for the service port called ``port_name``."""
    targets = []
    for subset in (endpoints or {}).get("subsets") or []:
        ports = subset.get("ports") or []
        match = [p for p in ports if (p.get("name") or "") == port_name] or (ports if len(ports) == 1 else [])
        if not match:
            continue
        for address in subset.get("addresses") or []:
            targets.append((address["ip"], int(match[0]["port"])))
    return targets


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass


class ServiceProxy:
    def __init__(
        self,
        registry: RegistryLike,
        network: ClusterNetwork,
        services: ServiceCache,
        on_services_changed: Callable[[], None],
    ) -> None:
        self.registry = registry
        self.network = network
        self.services = services
        self.on_services_changed = on_services_changed
        self.endpoints: dict[tuple[str, str], Obj] = {}
        #: (namespace, name, address, port or nodePort) -> (listening address, server)
        self.listeners: dict[tuple[str, str, str, int], tuple[str, asyncio.Server]] = {}
        self._rr = itertools.count()
        self._conns: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        await asyncio.gather(
            self._watch("services", self._on_service), self._watch("endpoints", self._on_endpoints)
        )

    async def _watch(self, resource: str, handle: Callable[[str, Obj], object]) -> None:
        while True:
            try:
                async with contextlib.aclosing(self.registry.watch(resource)) as events:
                    async for etype, obj in events:
                        result = handle(etype, obj)
                        if asyncio.iscoroutine(result):
                            await result
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("%s watch restarted: %s", resource, exc)
                await asyncio.sleep(0.2)

    def _on_endpoints(self, etype: str, obj: Obj) -> None:
        key = (obj["metadata"]["namespace"], obj["metadata"]["name"])
        if etype == "DELETED":
            self.endpoints.pop(key, None)
        else:
            self.endpoints[key] = obj

    async def _on_service(self, etype: str, svc: Obj) -> None:
        key = (svc["metadata"]["namespace"], svc["metadata"]["name"])
        if etype == "DELETED":
            self.services.services.pop(key, None)
        else:
            self.services.services[key] = svc
        await self._sync_listeners(key, None if etype == "DELETED" else svc)
        self.on_services_changed()

    def _wanted(self, svc: Obj | None) -> dict[tuple[str, int], str]:
        """(address, port) -> service port name: ClusterIP:port, and gateway:nodePort (the node's IP)."""
        spec = (svc or {}).get("spec") or {}
        ip = spec.get("clusterIP")
        wanted: dict[tuple[str, int], str] = {}
        if not ip or ip == "None":
            return wanted
        for port in spec.get("ports") or []:
            if port.get("protocol", "TCP") != "TCP":
                continue
            wanted[(ip, int(port["port"]))] = port.get("name") or ""
            if port.get("nodePort") and spec.get("type") in ("NodePort", "LoadBalancer"):
                wanted[(self.network.gateway, int(port["nodePort"]))] = port.get("name") or ""
        return wanted

    async def _sync_listeners(self, key: tuple[str, str], svc: Obj | None) -> None:
        wanted = self._wanted(svc)
        for lkey, (address, server) in list(self.listeners.items()):
            if lkey[:2] == key and (address, lkey[3]) not in wanted:
                server.close()
                del self.listeners[lkey]
                if address != self.network.gateway and not any(
                    a == address for a, _ in self.listeners.values()
                ):
                    self.network.remove_service_ip(address)
        for (address, port), port_name in wanted.items():
            lkey = (key[0], key[1], address, port)
            if lkey in self.listeners:
                continue
            if address != self.network.gateway:
                self.network.add_service_ip(address)
            started = await self._listen(key, address, port, port_name)
            if started is not None:
                self.listeners[lkey] = (address, started)

    async def _listen(
        self, key: tuple[str, str], ip: str, port: int, port_name: str
    ) -> asyncio.Server | None:
        def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.create_task(self._forward(key, port_name, reader, writer))
            self._conns.add(task)
            task.add_done_callback(self._conns.discard)

        for _ in range(50):  # the address may need a moment to leave the tentative state
            try:
                return await asyncio.start_server(handler, ip, port, reuse_address=True)
            except OSError as exc:
                last = exc
                await asyncio.sleep(0.05)
        log.warning("cannot listen on %s:%s for service %s/%s: %s", ip, port, *key, last)
        return None

    async def _forward(
        self, key: tuple[str, str], port_name: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        targets = endpoint_targets(self.endpoints.get(key), port_name)
        upstream = None
        for attempt in range(len(targets)):
            host, port = targets[(next(self._rr) + attempt) % len(targets)]
            try:
                upstream = await asyncio.wait_for(asyncio.open_connection(host, port), CONNECT_TIMEOUT)
                break
            except (OSError, asyncio.TimeoutError):
                continue
        if upstream is None:  # no (reachable) endpoint: the client sees the connection closed
            writer.close()
            return
        up_reader, up_writer = upstream
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            for w in (writer, up_writer):
                with contextlib.suppress(Exception):
                    w.close()

    async def close(self) -> None:
        for address, server in self.listeners.values():
            server.close()
            if address != self.network.gateway:
                self.network.remove_service_ip(address)
        self.listeners.clear()
        for task in list(self._conns):
            task.cancel()
