"""``pods/log`` and ``pods/exec``: the HTTP/websocket side; the kubelet's :class:`PodIO` does the work.

Exec speaks the remotecommand websocket subprotocols ``v5.channel.k8s.io`` (kubectl >= 1.30) and
``v4.channel.k8s.io`` (the Python clients): binary frames whose first byte is the channel (0 stdin,
1 stdout, 2 stderr, 3 error/Status, 4 resize, 255 close in v5).  The final channel-3 message is the Status
the kubelet's remotecommand server writes, including the ``NonZeroExitCode`` form.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import WSMsgType, web

from . import errors
from .podio import ExecProcess, PodIO

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255


def pick_container(pod: dict[str, Any], requested: str | None) -> str:
    """The container a log/exec request means, with kube-apiserver's 400 messages."""
    name = pod["metadata"]["name"]
    containers = [c["name"] for c in pod["spec"].get("containers") or []]
    init = [c["name"] for c in pod["spec"].get("initContainers") or []]
    if not requested:
        if len(containers) == 1:
            return containers[0]
        msg = f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
        if init:
            msg += f" or one of the init containers: [{' '.join(init)}]"
        raise errors.bad_request(msg)
    if requested not in containers + init:
        raise errors.bad_request(f"container {requested} is not valid for pod {name}")
    return requested


def _flag(request: web.Request, key: str) -> bool:
    return request.query.get(key, "").lower() in ("1", "true")


async def serve_logs(request: web.Request, pod_io: PodIO | None, pod: dict[str, Any]) -> web.StreamResponse:
    container = pick_container(pod, request.query.get("container"))
    if pod_io is None:
        raise errors.service_unavailable("the kubelet has not registered a log backend yet")
    tail = request.query.get("tailLines")
    follow = _flag(request, "follow")
    chunks = pod_io.logs(
        pod["metadata"]["namespace"],
        pod["metadata"]["name"],
        container,
        follow=follow,
        tail_lines=int(tail) if tail else None,
        previous=_flag(request, "previous"),
        timestamps=_flag(request, "timestamps"),
    )
    first = await anext(chunks, None)  # errors (e.g. container not started) before any byte is sent
    resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
    if follow:
        resp.enable_chunked_encoding()
    await resp.prepare(request)
    try:
        if first is not None:
            await resp.write(first)
        async for chunk in chunks:
            await resp.write(chunk)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
    with contextlib.suppress(ConnectionResetError):
        await resp.write_eof()
    return resp


def exit_status(code: int, command: list[str]) -> dict[str, Any]:
    """The channel-3 Status for a finished command (kubelet remotecommand server over containerd's CRI)."""
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {
        "metadata": {},
        "status": "Failure",
        "message": "command terminated with non-zero exit code: "
        f"error executing command [{' '.join(command)}], exit code {code}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


async def serve_exec(request: web.Request, pod_io: PodIO | None, pod: dict[str, Any]) -> web.StreamResponse:
    container = pick_container(pod, request.query.get("container"))
    command = request.query.getall("command", [])
    if not command:
        raise errors.bad_request("you must specify at least 1 command")
    want_stdin, tty = _flag(request, "stdin"), _flag(request, "tty")
    want_stdout, want_stderr = _flag(request, "stdout"), _flag(request, "stderr") and not tty
    if request.headers.get("Upgrade", "").lower() != "websocket":
        raise errors.bad_request("Upgrade request required")
    if pod_io is None:
        raise errors.service_unavailable("the kubelet has not registered an exec backend yet")
    ws = web.WebSocketResponse(protocols=PROTOCOLS, autoping=True)
    await ws.prepare(request)
    v5 = ws.ws_protocol == "v5.channel.k8s.io"
    ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    try:
        proc = await pod_io.exec(ns, name, container, command, stdin=want_stdin, tty=tty)
    except errors.ApiError as e:
        await _send(ws, ERROR, json.dumps(e.status).encode())
        await ws.close()
        return ws
    except Exception as e:
        await _send(ws, ERROR, json.dumps(errors.internal(str(e)).status).encode())
        await ws.close()
        return ws
    # v4+ servers open every requested stream with an empty frame so clients learn they exist
    for channel, wanted in ((STDIN, want_stdin), (STDOUT, want_stdout), (STDERR, want_stderr)):
        if wanted:
            await _send(ws, channel, b"")
    pumps = []
    if proc.stdout is not None:
        pumps.append(asyncio.create_task(_pump(proc.stdout, ws, STDOUT, want_stdout)))
    if proc.stderr is not None:
        pumps.append(asyncio.create_task(_pump(proc.stderr, ws, STDERR, want_stderr)))
    reader = asyncio.create_task(_read_client(ws, proc, pod_io, v5))
    waiter = asyncio.create_task(proc.wait())
    await asyncio.wait([waiter, reader], return_when=asyncio.FIRST_COMPLETED)
    if not waiter.done():
        # client went away first: stop the process as the kubelet does when the stream closes
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await waiter
    for p in pumps:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(p, 5)
    if not ws.closed:
        code = waiter.result()
        await _send(ws, ERROR, json.dumps(exit_status(code, command), separators=(",", ":")).encode())
        await ws.close()
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await reader
    return ws


async def _send(ws: web.WebSocketResponse, channel: int, data: bytes) -> None:
    if not ws.closed:
        with contextlib.suppress(ConnectionResetError):
            await ws.send_bytes(bytes([channel]) + data)


async def _pump(stream: asyncio.StreamReader, ws: web.WebSocketResponse, channel: int, forward: bool) -> None:
    while True:
        chunk = await stream.read(32 * 1024)
        if not chunk:
            return
        if forward:
            await _send(ws, channel, chunk)


async def _read_client(ws: web.WebSocketResponse, proc: ExecProcess, pod_io: PodIO, v5: bool) -> None:
    async for msg in ws:
        if msg.type == WSMsgType.BINARY and msg.data:
            data = bytes(msg.data)
        elif msg.type == WSMsgType.TEXT and msg.data:
            data = msg.data.encode()
        else:
            continue
        channel, payload = data[0], data[1:]
        if channel == STDIN and proc.stdin is not None:
            proc.stdin.write(payload)
            with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                await proc.stdin.drain()
        elif channel == RESIZE:
            with contextlib.suppress(Exception):
                size = json.loads(payload)
                pod_io.resize(proc, int(size.get("Width", 0)), int(size.get("Height", 0)))
        elif channel == CLOSE and v5 and payload[:1] == bytes([STDIN]) and proc.stdin is not None:
            proc.stdin.close()
    # returning means the client closed the websocket; serve_exec then stops the process


def _forwarded_ports(request: web.Request) -> list[int]:
    """``?ports=8888&ports=80,443`` with kube-apiserver's 400s."""
    ports: list[int] = []
    for value in request.query.getall("ports", []):
        for part in value.split(","):
            try:
                ports.append(int(part))
            except ValueError:
                raise errors.bad_request(f'unable to parse "{part}" as a port: invalid syntax') from None
    if not ports:
        raise errors.bad_request("at least 1 port must be specified")
    return ports


async def _connect_ports(
    ws: web.WebSocketResponse, pod_io: PodIO | None, pod: dict[str, Any], ports: list[int]
) -> tuple[dict[int, asyncio.StreamWriter], list[asyncio.Task[None]]]:
    """Announce each port on its two channels and connect it; a failure goes to its error channel."""
    opener = getattr(pod_io, "open_port", None)
    pod_ip = (pod.get("status") or {}).get("podIP")
    ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    writers: dict[int, asyncio.StreamWriter] = {}
    pumps: list[asyncio.Task[None]] = []
    for i, port in enumerate(ports):
        prefix = port.to_bytes(2, "little")
        await _send(ws, 2 * i, prefix)
        await _send(ws, 2 * i + 1, prefix)
        try:
            if opener is not None:
                reader, writer = await opener(ns, name, port)
            else:
                reader, writer = await asyncio.open_connection(pod_ip, port)
        except OSError as e:
            await _send(ws, 2 * i + 1, f"error forwarding port {port} to pod {name}: {e}".encode())
            continue
        writers[2 * i] = writer
        pumps.append(asyncio.create_task(_pump(reader, ws, 2 * i, True)))
    return writers, pumps


async def serve_portforward(
    request: web.Request, pod_io: PodIO | None, pod: dict[str, Any]
) -> web.StreamResponse:
    """``pods/portforward`` over websocket (v4.channel.k8s.io, what the Python clients speak).

    Port i uses channel 2i for data and 2i+1 for errors; each channel first carries the port number
    (2 bytes, little endian).  The kubelet may provide ``open_port(namespace, pod, port)`` returning an
    asyncio (reader, writer) inside the pod's network namespace; otherwise the pod IP is dialled, which is
    the same for servers listening on all addresses.
    """
    ports = _forwarded_ports(request)
    if request.headers.get("Upgrade", "").lower() != "websocket":
        raise errors.bad_request("Upgrade request required")
    if getattr(pod_io, "open_port", None) is None and not (pod.get("status") or {}).get("podIP"):
        raise errors.bad_request(f"pod {pod['metadata']['name']} does not have a host assigned")
    ws = web.WebSocketResponse(protocols=("v4.channel.k8s.io", "portforward.k8s.io"), autoping=True)
    await ws.prepare(request)
    writers, pumps = await _connect_ports(ws, pod_io, pod, ports)

    async def close_when_done() -> None:
        # one connection per port and websocket: when the pod side has closed them all, so does the stream
        await asyncio.gather(*pumps, return_exceptions=True)
        await ws.close()

    closer = asyncio.create_task(close_when_done()) if pumps else None
    try:
        async for msg in ws:
            if msg.type != WSMsgType.BINARY or not msg.data:
                continue
            data = bytes(msg.data)
            writer = writers.get(data[0])
            if writer is not None and len(data) > 1:
                writer.write(data[1:])
                with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                    await writer.drain()
    finally:
        if closer is not None:
            closer.cancel()
        for w in writers.values():
            w.close()
        for p in pumps:
            p.cancel()
        for p in pumps:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await p
    return ws
