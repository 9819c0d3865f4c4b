"""``delete_user``: delete a hub user with all their servers (``delete_pvc`` acts on each)."""

from __future__ import annotations

from typing import Any

from harness.steps.context import StepContext


def run(item: Any, ctx: StepContext) -> str:
    user = ctx.user(item.body)
    ctx.hub.delete_user(user)
    ctx.forget_user(user)
    return ""
