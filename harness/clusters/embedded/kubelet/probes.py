"""Readiness, liveness and startup probes (httpGet, tcpSocket, exec), run like the kubelet's prober.

httpGet and tcpSocket probes connect from the host to the pod IP (as a real kubelet does from the
node's network namespace); exec probes run inside the container through the exec path.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

Obj = dict[str, Any]
ExecFn = Callable[[list[str], float], Awaitable[tuple[int, bytes]]]


def resolve_port(port: int | str, container: Obj) -> int:
    if isinstance(port, int) or str(port).isdigit():
        return int(port)
    for cport in container.get("ports") or []:
        if cport.get("name") == port:
            return int(cport["containerPort"])
    raise ValueError(f"couldn't find port: {port} in {container.get('name')}")


async def _http_get(spec: Obj, host: str, port: int, timeout: float) -> tuple[bool, str]:
    scheme = spec.get("scheme", "HTTP").lower()
    path = spec.get("path") or "/"
    url = f"{scheme}://{host}:{port}{path}"
    ctx = None
    if scheme == "https":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port, ssl=ctx), timeout)
    except asyncio.TimeoutError:
        return (
            False,
            f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
        )
    except OSError as exc:
        reason = "connection refused" if isinstance(exc, ConnectionRefusedError) else str(exc)
        return False, f'Get "{url}": dial tcp {host}:{port}: connect: {reason}'
    try:
        headers = {
            "Host": f"{host}:{port}",
            "User-Agent": "kube-probe/1.20",
            "Accept": "*/*",
            "Connection": "close",
        }
        for h in spec.get("httpHeaders") or []:
            headers[h["name"]] = h["value"]
        request = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        writer.write(request.encode())
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout)
        parts = line.decode(errors="replace").split()
        code = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    except (OSError, asyncio.TimeoutError) as exc:
        return False, f'Get "{url}": {exc or "context deadline exceeded"}'
    finally:
        writer.close()
    if 200 <= code < 400:
        return True, ""
    return False, f"HTTP probe failed with statuscode: {code}"


async def _tcp(host: str, port: int, timeout: float) -> tuple[bool, str]:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, asyncio.TimeoutError) as exc:
        reason = "connection refused" if isinstance(exc, ConnectionRefusedError) else "i/o timeout"
        return False, f"dial tcp {host}:{port}: connect: {reason}"
    writer.close()
    return True, ""


async def probe_once(probe: Obj, container: Obj, pod_ip: str, exec_fn: ExecFn) -> tuple[bool, str]:
    timeout = float(probe.get("timeoutSeconds") or 1)
    try:
        if "httpGet" in probe:
            spec = probe["httpGet"]
            return await _http_get(
                spec, spec.get("host") or pod_ip, resolve_port(spec["port"], container), timeout
            )
        if "tcpSocket" in probe:
            spec = probe["tcpSocket"]
            return await _tcp(spec.get("host") or pod_ip, resolve_port(spec["port"], container), timeout)
        if "exec" in probe:
            code, output = await exec_fn(list(probe["exec"].get("command") or []), timeout)
            if code == 0:
                return True, ""
            return False, output.decode(errors="replace").strip() or f"command exited with {code}"
    except ValueError as exc:
        return False, str(exc)
    return True, ""


class Prober:
    """Runs one probe periodically.

    ``on_result(ok, message, crossed)`` is called on every failed attempt (the real prober emits an
    ``Unhealthy`` event for each) and when the result crosses its threshold (``crossed`` true), so the
    caller flips readiness, restarts the container or marks it started.
    """

    def __init__(
        self,
        kind: str,
        probe: Obj,
        container: Obj,
        pod_ip: str,
        exec_fn: ExecFn,
        on_result: Callable[[bool, str, bool], Awaitable[None]],
    ) -> None:
        self.kind = kind
        self.probe = probe
        self.container = container
        self.pod_ip = pod_ip
        self.exec_fn = exec_fn
        self.on_result = on_result

    async def run(self) -> None:
        period = float(self.probe.get("periodSeconds") or 10)
        success_needed = int(self.probe.get("successThreshold") or 1)
        failure_needed = int(self.probe.get("failureThreshold") or 3)
        await asyncio.sleep(float(self.probe.get("initialDelaySeconds") or 0))
        successes = failures = 0
        state: bool | None = None
        while True:
            ok, message = await probe_once(self.probe, self.container, self.pod_ip, self.exec_fn)
            if ok:
                successes, failures = successes + 1, 0
                if successes >= success_needed and state is not True:
                    state = True
                    await self.on_result(True, "", True)
            else:
                successes, failures = 0, failures + 1
                crossed = failures >= failure_needed and state is not False
                if crossed:
                    state = False
                await self.on_result(False, message, crossed)
            await asyncio.sleep(period)
