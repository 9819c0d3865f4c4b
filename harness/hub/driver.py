"""JupyterHub REST driver: what a scenario step does to a hub, over its public URL.

Everything goes through the proxy's public address (``/hub/api/...`` and ``/user/...``), the way a
real client reaches a hub; that also makes the same driver work for an already deployed hub.
Failures carry JupyterHub's (and so KubeSpawner's) own message, e.g. an API server 422, because
that message is what a scenario's ``expect_spawn_failure`` matches against.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential

#: Transport errors and these statuses mean "hub/proxy not (yet) there": retried for idempotent calls.
_RETRY_STATUSES = {502, 503, 504}


class HubApiError(RuntimeError):
    """The hub answered with an error; ``message`` is JupyterHub's own text."""

    def __init__(self, method: str, path: str, status: int, message: str) -> None:
        super().__init__(f"{method} {path} -> {status}: {message}")
        self.status = status
        self.message = message


class SpawnFailed(RuntimeError):
    """A server failed to start; the message is the last progress / API message.

    ``messages`` keeps everything the hub said about this spawn (the API answer or every progress
    message, in order): KubeSpawner relays pod events there, so an earlier message can hold the
    reason that the final "Spawn failed: " lacks.
    """

    def __init__(self, message: str, messages: list[str] | None = None) -> None:
        super().__init__(message)
        self.messages = list(messages) if messages else [message]


class SpawnTimedOut(SpawnFailed):
    """The caller's timeout ran out while the hub still reported the spawn as pending.

    Not a failure the hub reported: ``expect_spawn_failure`` must not take it for the expected one.
    """


@dataclass
class Progress:
    """What the progress event-stream said, in order."""

    ready: bool = False
    failed: bool = False
    messages: list[str] = field(default_factory=list)

    @property
    def last_message(self) -> str:
        return self.messages[-1] if self.messages else ""


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, HubApiError) and exc.status in _RETRY_STATUSES


def _error_message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text.strip()[:2000] or resp.reason_phrase
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return json.dumps(body)[:2000]


def server_path(user: str, server: str = "") -> str:
    """API path of a user's default (``server == ""``) or named server."""
    u = quote(user, safe="")
    return f"/hub/api/users/{u}/servers/{quote(server, safe='')}" if server else f"/hub/api/users/{u}/server"


def parse_event_stream(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """Yield the JSON ``data:`` payloads of a server-sent-events stream."""
    data: list[str] = []
    for line in lines:
        if line.startswith("data:"):
            data.append(line[5:].strip())
        elif not line.strip() and data:
            payload = "\n".join(data)
            data = []
            try:
                event = json.loads(payload)
            except ValueError:
                continue
            if isinstance(event, dict):
                yield event
    if data:
        try:
            event = json.loads("\n".join(data))
        except ValueError:
            return
        if isinstance(event, dict):
            yield event


class HubClient:
    """Drive one hub with an admin (service) token."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._timeout, self._transport = timeout, transport
        self._http = self._new_http()

    def _new_http(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"token {self.token}"},
            timeout=self._timeout,
            transport=self._transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -----------------------------------------------------------------------------
    def request(
        self, method: str, path: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any
    ) -> httpx.Response:
        resp = self._http.request(method, path, **kwargs)
        if resp.status_code not in ok:
            raise HubApiError(method, path, resp.status_code, _error_message(resp))
        return resp

    def retrying(self, method: str, path: str, *, retry_for: float = 60.0, **kwargs: Any) -> httpx.Response:
        """``request`` retried while the hub or proxy is unreachable (idempotent calls only)."""
        for attempt in Retrying(
            retry=retry_if_exception(_transient),
            stop=stop_after_delay(retry_for),
            wait=wait_exponential(multiplier=0.2, max=3),
            reraise=True,
        ):
            with attempt:
                return self.request(method, path, **kwargs)
        raise AssertionError("unreachable")

    # -- hub -----------------------------------------------------------------------------------
    def wait_up(self, timeout: float = 120.0) -> dict[str, Any]:
        """Wait until the hub API answers through the proxy; return ``GET /hub/api/`` (has ``version``)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                data: dict[str, Any] = self.retrying("GET", "/hub/api/", retry_for=timeout).json()
                return data
            except HubApiError as exc:
                # While the hub starts, the proxy answers from its error target (CHP's Python port
                # gives 404 when that is down too); only a refused token is final.
                if exc.status in (401, 403) or time.monotonic() > deadline:
                    raise
                # Drop kept-alive connections: while a node restarts, a connection can land on
                # whatever briefly answers on the Service address and would be reused forever.
                if self._transport is None:
                    self._http.close()
                    self._http = self._new_http()
                time.sleep(1)

    def info(self) -> dict[str, Any]:
        data: dict[str, Any] = self.retrying("GET", "/hub/api/info").json()
        return data

    # -- users ---------------------------------------------------------------------------------
    def create_user(self, user: str) -> None:
        """Create ``user``; an existing user is fine (409)."""
        self.request("POST", f"/hub/api/users/{quote(user, safe='')}", ok=(201, 409))

    def get_user(self, user: str, include_stopped: bool = False) -> dict[str, Any] | None:
        params = {"include_stopped_servers": "1"} if include_stopped else None
        try:
            data: dict[str, Any] = self.retrying(
                "GET", f"/hub/api/users/{quote(user, safe='')}", params=params
            ).json()
        except HubApiError as exc:
            if exc.status == 404:
                return None
            raise
        return data

    def list_users(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self.retrying("GET", "/hub/api/users").json()
        return data

    def delete_user(self, user: str, timeout: float = 120.0) -> None:
        """Stop ``user``'s servers, delete the user; wait until the hub no longer knows it."""
        path = f"/hub/api/users/{quote(user, safe='')}"
        deadline = time.monotonic() + timeout
        # JupyterHub 5 answers 500 ("Spawner ... is active and cannot be deleted") when a *named*
        # server still runs, so stop every server first, as an admin would.
        model = self.get_user(user)
        for name in (model or {}).get("servers") or {}:
            self.stop_server(user, name, timeout=timeout)
        while True:
            try:
                self.request("DELETE", path, ok=(204, 404))
                break
            except HubApiError as exc:
                # 400 "... pending" while a server is still stopping: try again shortly.
                if exc.status != 400 or time.monotonic() > deadline:
                    raise
                time.sleep(1)
        delays = _poll_delays()
        while self.get_user(user) is not None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"user {user} still exists after {timeout:.0f}s")
            time.sleep(next(delays))

    def create_token(self, user: str, note: str = "jupyterhub-storage-conformance") -> str:
        resp = self.request(
            "POST", f"/hub/api/users/{quote(user, safe='')}/tokens", ok=(200, 201), json={"note": note}
        )
        return str(resp.json()["token"])

    # -- servers -------------------------------------------------------------------------------
    def server(self, user: str, server: str = "") -> dict[str, Any] | None:
        """The server model, or None when the hub lists no such active server."""
        model = self.get_user(user)
        if model is None:
            return None
        servers: dict[str, Any] = model.get("servers") or {}
        found: dict[str, Any] | None = servers.get(server)
        return found

    def start_server(self, user: str, server: str = "", timeout: float = 300.0) -> Progress:
        """Request a start, follow the progress stream to ready; SpawnFailed carries the hub's message."""
        try:
            self.request("POST", server_path(user, server), ok=(201, 202), json={})
        except HubApiError as exc:
            raise SpawnFailed(exc.message) from exc
        progress = self.follow_progress(user, server, timeout)
        if progress.failed or not progress.ready:
            raise SpawnFailed(progress.last_message or "spawn did not become ready", progress.messages)
        return progress

    def follow_progress(self, user: str, server: str = "", timeout: float = 300.0) -> Progress:
        """Read ``.../progress`` until it reports ready or failed (or ends); SpawnTimedOut after ``timeout``.

        ``timeout`` bounds the whole wait: the hub sends keepalive comments every few seconds, so a
        read timeout alone would wait for as long as the spawner does (its start_timeout).
        """
        # server_path() gives ".../server/progress" for the default server: a proxy may collapse the
        # "servers//progress" spelling (the embedded one does) and JupyterHub then answers 404.
        path = server_path(user, server) + "/progress"
        progress = Progress()
        deadline = time.monotonic() + timeout

        def lines(resp: httpx.Response) -> Iterator[str]:
            for line in resp.iter_lines():
                if time.monotonic() > deadline:
                    raise SpawnTimedOut(
                        f"not ready after {timeout:.0f}s; the hub still reports the spawn pending",
                        progress.messages,
                    )
                yield line

        try:
            with self._http.stream("GET", path, timeout=httpx.Timeout(timeout, connect=30.0)) as resp:
                if resp.status_code != 200:
                    resp.read()
                    raise HubApiError("GET", path, resp.status_code, _error_message(resp))
                progress = self._read_progress(parse_event_stream(lines(resp)), progress)
        except httpx.ReadTimeout as exc:
            raise SpawnTimedOut(
                f"not ready after {timeout:.0f}s; the hub sent nothing for that long", progress.messages
            ) from exc
        if not progress.ready and not progress.failed:
            # The stream ends without an event when the server was already running.
            model = self.server(user, server)
            progress.ready = bool(model and model.get("ready"))
        return progress

    @staticmethod
    def _read_progress(events: Iterator[dict[str, Any]], progress: Progress) -> Progress:
        for event in events:
            if event.get("message"):
                progress.messages.append(str(event["message"]))
            if event.get("failed"):
                progress.failed = True
                return progress
            if event.get("ready"):
                progress.ready = True
                return progress
        return progress

    def stop_server(
        self, user: str, server: str = "", *, remove: bool = False, timeout: float = 120.0
    ) -> None:
        """Stop (and with ``remove`` delete) a server; wait until the hub reports it gone."""
        body = {"remove": True} if remove else None
        try:
            self.request("DELETE", server_path(user, server), ok=(202, 204), json=body)
        except HubApiError as exc:
            # Stopping a server that is not running is a no-op for the scenario.
            if not (exc.status in (400, 404) and not remove):
                raise
        deadline = time.monotonic() + timeout
        delays = _poll_delays()
        while True:
            if remove:
                model = self.get_user(user, include_stopped=True)
                gone = model is None or server not in (model.get("servers") or {})
            else:
                gone = self.server(user, server) is None
            if gone:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"server {user}/{server} still present after {timeout:.0f}s")
            time.sleep(next(delays))

    # -- single-user server (Jupyter contents API, with the user's own token) -------------------
    def user_url(self, user: str, server: str = "") -> str:
        prefix = f"/user/{quote(user, safe='')}/"
        return prefix + (f"{quote(server, safe='')}/" if server else "")

    def put_file(self, user: str, server: str, path: str, content: str, user_token: str) -> None:
        """Save a text file; missing parent directories are created first (the API does not)."""
        headers = {"Authorization": f"token {user_token}"}
        base = self.user_url(user, server) + "api/contents/"
        parts = [p for p in path.split("/") if p]
        for depth in range(1, len(parts)):
            directory = "/".join(parts[:depth])
            self.retrying(
                "PUT", base + quote(directory), ok=(200, 201), json={"type": "directory"}, headers=headers
            )
        body = {"type": "file", "format": "text", "content": content}
        self.retrying("PUT", base + quote(path), ok=(200, 201), json=body, headers=headers)

    def get_file(self, user: str, server: str, path: str, user_token: str) -> str | None:
        """File content through the user's server, or None when it does not exist (404)."""
        url = self.user_url(user, server) + "api/contents/" + quote(path)
        try:
            resp = self.retrying(
                "GET",
                url,
                params={"type": "file", "format": "text", "content": "1"},
                headers={"Authorization": f"token {user_token}"},
            )
        except HubApiError as exc:
            if exc.status == 404:
                return None
            raise
        return str(resp.json().get("content"))


def _poll_delays(first: float = 0.05, most: float = 0.5) -> Iterator[float]:
    """Pauses between polls of the hub's REST API, which has no event for "stopped" or "deleted":
    short at first (a stop often completes within a few hundred ms), then every ``most`` seconds."""
    delay = first
    while True:
        yield delay
        delay = min(most, delay * 2)
