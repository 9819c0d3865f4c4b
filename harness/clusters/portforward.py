"""Reach a Service's port from the host through the API server (what ``kubectl port-forward svc/x`` does).

Used when the runner cannot route to ClusterIPs (a remote cluster, kind without extra ports). A local
listener on 127.0.0.1 accepts connections; each one resolves the Service to a ready endpoint pod *at
that moment* (so a restarted pod is picked up) and is piped through a pod port-forward stream.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
from collections.abc import Iterator
from typing import Any

from kubernetes.stream import portforward

from harness.clusters.base import ClusterError
from harness.clusters.kube import Kube


def resolve_endpoint(kube: Kube, namespace: str, service: str, port: int) -> tuple[str, int]:
    """(pod name, container port) of a ready endpoint of ``service``:``port``."""
    svc = kube.get("service", namespace, service)
    if svc is None:
        raise ClusterError(f"Service {namespace}/{service} does not exist")
    svc_port = next((p for p in svc["spec"].get("ports") or [] if p.get("port") == port), None)
    if svc_port is None:
        raise ClusterError(f"Service {namespace}/{service} has no port {port}")
    eps = kube.get("endpoints", namespace, service) or {}
    for subset in eps.get("subsets") or []:
        ports = subset.get("ports") or []
        match = next((p for p in ports if p.get("name") == svc_port.get("name")), ports[0] if ports else None)
        for address in subset.get("addresses") or []:
            ref = address.get("targetRef") or {}
            if ref.get("kind") == "Pod" and match is not None:
                return str(ref["name"]), int(match["port"])
    raise ClusterError(f"Service {namespace}/{service} has no ready endpoint")


def _pipe(a: Any, b: Any) -> None:
    sel = selectors.DefaultSelector()
    sel.register(a, selectors.EVENT_READ, b)
    sel.register(b, selectors.EVENT_READ, a)
    try:
        while True:
            for key, _ in sel.select(timeout=300):
                data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                if not data:
                    return
                key.data.sendall(data)
    except OSError:
        return
    finally:
        sel.close()


class ServicePortForward:
    """A 127.0.0.1 listener forwarding each connection to a Service port via the API server."""

    def __init__(self, kube: Kube, namespace: str, service: str, port: int) -> None:
        self.kube, self.namespace, self.service, self.port = kube, namespace, service, port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._stop = threading.Event()
        self.local_port = self._listener.getsockname()[1]
        self._thread = threading.Thread(
            target=self._serve, name=f"port-forward {service}:{port}", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.local_port}"

    def _serve(self) -> None:
        self._listener.settimeout(0.5)
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        pf = None
        try:
            pod, target_port = resolve_endpoint(self.kube, self.namespace, self.service, self.port)
            pf = portforward(
                self.kube.core.connect_get_namespaced_pod_portforward,
                pod,
                self.namespace,
                ports=str(target_port),
            )
            remote = pf.socket(target_port)
            remote.setblocking(True)
            _pipe(conn, remote)
        except Exception:  # a failed connection is seen by the client as a reset; it retries
            pass
        finally:
            conn.close()
            if pf is not None:
                pf.close()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=5)


@contextlib.contextmanager
def service_port_forward(kube: Kube, namespace: str, service: str, port: int) -> Iterator[str]:
    fwd = ServicePortForward(kube, namespace, service, port)
    try:
        yield fwd.url
    finally:
        fwd.close()
