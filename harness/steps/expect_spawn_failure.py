"""``expect_spawn_failure``: start a server and expect the spawn to fail with a given message."""

from __future__ import annotations

from typing import Any

from harness.checks.errors import CheckFailed
from harness.hub.driver import SpawnFailed
from harness.steps.context import StepContext, server_label


def run(item: Any, ctx: StepContext) -> str:
    body = item.body
    user = ctx.user(body)
    try:
        ctx.hub.start_server(user, body.server, timeout=body.timeout)
    except SpawnFailed as exc:
        if body.message not in str(exc):
            raise CheckFailed(
                f"spawn failed, but with {str(exc)!r}, expected a message containing {body.message!r}"
            ) from exc
        return "failed as expected"
    raise CheckFailed(f"server {server_label(user, body.server)} started, expected the spawn to fail")
