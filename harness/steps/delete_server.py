"""``delete_server``: remove a server for good (``remove: true``), which is when ``delete_pvc`` acts."""

from __future__ import annotations

from typing import Any

from harness.steps.context import StepContext


def run(item: Any, ctx: StepContext) -> str:
    ctx.hub.stop_server(ctx.user(item.body), item.body.server, remove=True)
    return ""
