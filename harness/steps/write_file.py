"""``write_file``: write a text file through the running server's contents API, as the user; or, with
``pvc:``, straight onto a claim through a writer pod running as the server's uid/gid. ``rejected:``
asserts that the server refuses the save (a volume the server's uid cannot write)."""

from __future__ import annotations

from typing import Any

from harness.checks import files
from harness.checks.errors import CheckFailed
from harness.hub.driver import HubApiError
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
    try:
        files.write_file(ctx.hub, user, body.server, body.path, body.content, ctx.token(user))
    except HubApiError as exc:
        if body.rejected is None:
            raise
        if body.rejected not in str(exc):
            raise CheckFailed(
                f"saving {body.path} was refused, but with {exc}, expected a refusal containing "
                f"{body.rejected!r}"
            ) from exc
        return f"refused as expected: {exc}"
    if body.rejected is not None:
        raise CheckFailed(f"saving {body.path} succeeded, expected a refusal containing {body.rejected!r}")
    return ""
