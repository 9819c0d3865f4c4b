"""``stop``: stop a server; the pod goes away, what happens to its PVC is what scenarios check."""

from __future__ import annotations

from typing import Any

from harness.steps.context import StepContext


def run(item: Any, ctx: StepContext) -> str:
    ctx.hub.stop_server(ctx.user(item.body), item.body.server)
    return ""
