"""``write_file``: write a text file through the running server's contents API, as the user; or, with
``pvc:``, straight onto a claim through a writer pod running as the server's uid/gid."""

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
        identity = files.ServerIdentity.from_config(ctx.config.kubespawner)
        try:
            files.write_to_pvc(
                where.kube, where.namespace, where.claim.hub, where.path, body.content, where.images, identity
            )
        except CheckFailed as exc:
            raise CheckFailed(f"{exc}{where.claim.failure_note()}") from exc
        return f"on PVC {where.claim.hub}:{where.path} as uid {identity.uid}" + where.claim.progress_note()
    user = ctx.user(body)
    files.write_file(ctx.hub, user, body.server, body.path, body.content, ctx.token(user))
    return ""
