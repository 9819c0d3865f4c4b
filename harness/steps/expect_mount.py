"""``expect_mount``: check the notebook container's mount in the pod spec and in the running container."""

from __future__ import annotations

from typing import Any

from harness.checks import mount
from harness.checks.errors import CheckFailed
from harness.steps.context import StepContext


def run(item: Any, ctx: StepContext) -> str:
    body = item.body
    kube, ns = ctx.need_cluster(item.kind)
    update: dict[str, Any] = {"user": ctx.user(body)}
    claim = ctx.target.resolve_name(body.claim) if body.claim is not None else None
    if claim is not None:
        update["claim"] = claim.hub
    try:
        mount.expect_mount(
            kube, ns, ctx.hub, body.model_copy(update=update), ctx.config.kubespawner.get("working_dir")
        )
    except CheckFailed as exc:
        raise CheckFailed(f"{exc}{claim.failure_note() if claim else ''}") from exc
    return claim.progress_note().lstrip("; ") if claim else ""
