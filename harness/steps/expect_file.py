"""``expect_file``: read a file back through the server and prove which PVC really holds it."""

from __future__ import annotations

from typing import Any

from harness.checks import files
from harness.steps.context import StepContext


def run(item: Any, ctx: StepContext) -> str:
    body = item.body
    user = ctx.user(body)
    target = ctx.target
    on_cluster = target.kube is not None and target.namespace is not None
    return files.expect_file(
        target.kube if on_cluster else None,
        target.namespace,
        ctx.hub,
        body.model_copy(update={"user": user}),
        ctx.token(user),
        target.images,
        notebook_dir=ctx.scenario.kubespawner.get("notebook_dir"),
    )
