"""``create_pv``: a pre-provisioned hostPath PersistentVolume, as for z2jh ``storage.type: static``."""

from __future__ import annotations

from typing import Any

from harness.steps.context import StepContext, StepSkipped


def run(item: Any, ctx: StepContext) -> str:
    body = item.body
    ctx.need_cluster(item.kind)
    static = ctx.target.static_volumes
    if static is None:  # unsupported_reason says why; this keeps mypy and a direct call honest
        raise StepSkipped("create_pv needs a node directory for hostPath volumes")
    pv = static.create(body.name, body.size, list(body.access_modes), body.storage_class, body.mode)
    return f"as {pv}, hostPath {static.node_dir(body.name)}"
