"""``expect_file``: read a file back through the server and prove which PVC really holds it; or, with
``pvc:``, read it straight from a claim through a reader pod (no server needed)."""

from __future__ import annotations

from typing import Any

from harness.checks import files
from harness.checks.errors import CheckFailed
from harness.steps.claim import claim_file
from harness.steps.context import StepContext


def run(item: Any, ctx: StepContext) -> str:
    body = item.body
    if body.pvc is not None:
        where = claim_file(item, ctx)
        try:
            note = files.expect_file_on_pvc(
                where.kube, where.namespace, where.claim.hub, where.path, body, where.images
            )
        except CheckFailed as exc:
            raise CheckFailed(f"{exc}{where.claim.failure_note()}") from exc
        return note + where.claim.progress_note()
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
        notebook_dir=ctx.config.kubespawner.get("notebook_dir"),
    )
