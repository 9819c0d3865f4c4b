"""``start``: start a server through the hub REST API and wait until it is ready."""

from __future__ import annotations

import time
from typing import Any

from harness.checks.errors import CheckFailed
from harness.hub.spawn_failure import ExplainedSpawnFailure, start_explained
from harness.steps.context import StepContext, server_label


def run(item: Any, ctx: StepContext) -> str:
    body = item.body
    user = ctx.user(body)
    t0 = time.monotonic()
    try:
        start_explained(ctx.target, user, body.server, timeout=body.timeout)
    except ExplainedSpawnFailure as exc:
        # the reason goes in the message itself: the bundle's hub log should not be the only place
        raise CheckFailed(f"server {server_label(user, body.server)} failed to start: {exc}") from exc
    spawn = time.monotonic() - t0
    ctx.record_spawn(spawn)
    return f"spawned in {spawn:.1f}s"
