"""``start``: start a server through the hub REST API and wait until it is ready."""

from __future__ import annotations

import time
from typing import Any

from harness.checks.errors import CheckFailed
from harness.hub.driver import SpawnFailed
from harness.steps.context import StepContext, server_label


def run(item: Any, ctx: StepContext) -> str:
    body = item.body
    user = ctx.user(body)
    t0 = time.monotonic()
    try:
        ctx.hub.start_server(user, body.server, timeout=body.timeout)
    except SpawnFailed as exc:
        raise CheckFailed(f"server {server_label(user, body.server)} failed to start: {exc}") from exc
    spawn = time.monotonic() - t0
    ctx.record_spawn(spawn)
    return f"spawned in {spawn:.1f}s"
