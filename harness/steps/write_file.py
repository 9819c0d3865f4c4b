"""``write_file``: write a text file through the running server's contents API, as the user."""

from __future__ import annotations

from typing import Any

from harness.checks import files
from harness.steps.context import StepContext


def run(item: Any, ctx: StepContext) -> str:
    body = item.body
    user = ctx.user(body)
    files.write_file(ctx.hub, user, body.server, body.path, body.content, ctx.token(user))
    return ""
