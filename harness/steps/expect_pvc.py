"""``expect_pvc``: check one PersistentVolumeClaim (name mapped to the hub's users on an existing hub)."""

from __future__ import annotations

from typing import Any

from harness.checks import pvc
from harness.checks.errors import CheckFailed
from harness.steps.context import StepContext


def run(item: Any, ctx: StepContext) -> str:
    body = item.body
    kube, ns = ctx.need_cluster(item.kind)
    name = ctx.target.resolve_name(body.name)
    try:
        found = pvc.expect_pvc(kube, ns, body.model_copy(update={"name": name.hub}))
    except CheckFailed as exc:
        raise CheckFailed(f"{exc}{name.failure_note()}") from exc
    if found is None:
        return "absent" + name.progress_note()
    phase = (found.get("status") or {}).get("phase")
    return f"{phase}, {found['spec'].get('volumeName')}{name.progress_note()}"
