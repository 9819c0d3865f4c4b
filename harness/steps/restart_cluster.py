"""``restart_cluster``: reboot the node(s); API objects and volume data survive, pods restart."""

from __future__ import annotations

from typing import Any

from harness.steps.context import StepContext, StepSkipped


def run(item: Any, ctx: StepContext) -> str:
    reason = ctx.run.cluster.restart_unsupported_reason()
    if reason:
        raise StepSkipped(reason)
    ctx.run.cluster.restart()
    ctx.target.reconnect()
    return ctx.running_servers()
