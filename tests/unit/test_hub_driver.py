"""The REST driver's own parsing: progress streams, error messages, paths (httpx MockTransport)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from harness.hub.driver import (
    HubApiError,
    HubClient,
    SpawnFailed,
    SpawnTimedOut,
    parse_event_stream,
    server_path,
)


def _sse(*events: dict) -> bytes:
    return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)


def _client(handler) -> HubClient:  # type: ignore[no-untyped-def]
    return HubClient("http://hub.test/", "admintok", transport=httpx.MockTransport(handler))


def test_parse_event_stream_handles_comments_multiline_and_no_trailing_blank() -> None:
    lines = [": keepalive", 'data: {"progress": 1,', 'data: "message": "a"}', "", 'data: {"ready": true}']
    assert list(parse_event_stream(iter(lines))) == [{"progress": 1, "message": "a"}, {"ready": True}]


def test_server_paths_quote_names() -> None:
    assert server_path("alice") == "/hub/api/users/alice/server"
    assert server_path("a/b c", "x y") == "/hub/api/users/a%2Fb%20c/servers/x%20y"


def test_start_follows_progress_to_ready() -> None:
    seen = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append((req.method, req.url.path, req.headers["authorization"]))
        if req.method == "POST":
            return httpx.Response(202)
        return httpx.Response(
            200, content=_sse({"progress": 10, "message": "Pending"}, {"ready": True, "message": "up"})
        )

    with _client(handler) as hub:
        progress = hub.start_server("alice", "work")
    assert progress.ready and progress.messages == ["Pending", "up"]
    assert seen[0] == ("POST", "/hub/api/users/alice/servers/work", "token admintok")
    assert seen[1][1] == "/hub/api/users/alice/servers/work/progress"


def test_default_server_progress_path_has_no_empty_segment() -> None:
    paths = []

    def handler(req: httpx.Request) -> httpx.Response:
        paths.append(req.url.raw_path.decode())
        return (
            httpx.Response(202)
            if req.method == "POST"
            else httpx.Response(200, content=_sse({"ready": True}))
        )

    with _client(handler) as hub:
        hub.start_server("alice")
    assert paths == ["/hub/api/users/alice/server", "/hub/api/users/alice/server/progress"]


def test_spawn_failure_carries_kubespawner_message() -> None:
    msg = 'Spawn failed: (422) Reason: Unprocessable Entity: PersistentVolumeClaim "claim-x" is invalid'

    def handler(req: httpx.Request) -> httpx.Response:
        if req.method == "POST":
            return httpx.Response(202)
        return httpx.Response(
            200, content=_sse({"progress": 50, "message": "x"}, {"failed": True, "message": msg})
        )

    with _client(handler) as hub, pytest.raises(SpawnFailed, match=r"\(422\).*is invalid") as info:
        hub.start_server("alice")
    assert info.value.messages == ["x", msg], "every progress message is kept for the reason finder"


def test_progress_keepalives_do_not_outlast_the_timeout() -> None:
    def keepalives() -> Any:
        yield b'data: {"progress": 10, "message": "[Warning] 0/1 nodes are available"}\n\n'
        for _ in range(200):
            yield b":keepalive\n\n"
            time.sleep(0.02)

    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(202) if req.method == "POST" else httpx.Response(200, content=keepalives())

    with _client(handler) as hub, pytest.raises(SpawnTimedOut, match="not ready after 0s") as info:
        hub.start_server("alice", timeout=0.3)
    assert info.value.messages == ["[Warning] 0/1 nodes are available"]


def test_start_api_error_is_a_spawn_failure_with_the_hub_message() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"status": 500, "message": "Unhandled error starting server: boom"})

    with _client(handler) as hub, pytest.raises(SpawnFailed, match="boom"):
        hub.start_server("alice")


def test_errors_keep_status_and_message() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"status": 400, "message": "Cannot delete the default server"})

    with _client(handler) as hub, pytest.raises(HubApiError) as info:
        hub.stop_server("alice", "", remove=True)
    assert info.value.status == 400 and "default server" in info.value.message


def test_get_user_404_is_none_and_502_is_retried() -> None:
    calls = {"n": 0}

    def handler(req: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return httpx.Response(502, text="proxy: no route")
        return httpx.Response(404, json={"status": 404, "message": "Not Found"})

    with _client(handler) as hub:
        assert hub.get_user("ghost") is None
    assert calls["n"] == 2


def test_contents_use_the_user_token_and_server_prefix() -> None:
    seen = {}

    def handler(req: httpx.Request) -> httpx.Response:
        seen["path"] = req.url.raw_path.decode()
        seen["auth"] = req.headers["authorization"]
        return httpx.Response(200, json={"content": "hi\n", "type": "file"})

    with _client(handler) as hub:
        assert hub.get_file("alice", "work", "dir/a b.txt", "usertok") == "hi\n"
    assert seen["path"].startswith("/user/alice/work/api/contents/dir/a%20b.txt")
    assert seen["auth"] == "token usertok"


def test_put_file_creates_parent_directories_first() -> None:
    seen = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append((req.url.raw_path.decode(), json.loads(req.content)["type"]))
        return httpx.Response(201, json={})

    with _client(handler) as hub:
        hub.put_file("alice", "", "a/b/c.txt", "x", "usertok")
    assert seen == [
        ("/user/alice/api/contents/a", "directory"),
        ("/user/alice/api/contents/a/b", "directory"),
        ("/user/alice/api/contents/a/b/c.txt", "file"),
    ]


def test_wait_up_outlasts_a_proxy_404_but_not_a_bad_token() -> None:
    codes = iter([404, 404, 200])

    def handler(req: httpx.Request) -> httpx.Response:
        code = next(codes)
        return httpx.Response(code, json={"version": "6.1.1"} if code == 200 else {"message": "Not Found"})

    with _client(handler) as hub:
        assert hub.wait_up(timeout=30)["version"] == "6.1.1"
    with (
        _client(lambda req: httpx.Response(403, json={"message": "Forbidden"})) as hub,
        pytest.raises(HubApiError),
    ):
        hub.wait_up(timeout=30)
