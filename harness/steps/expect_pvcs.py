"""``expect_pvcs``: the exact set of user PVCs in the hub's namespace, so orphans and surprise claims fail.

The harness's own claims (the hub's DB) never count; on an existing hub only the run's users' claims
do, and the expected names are mapped to theirs.
"""

from __future__ import annotations

from typing import Any

from harness.checks import pvc
from harness.checks.errors import CheckFailed
from harness.hub.manifests import is_hub_infrastructure
from harness.steps.context import StepContext


def run(item: Any, ctx: StepContext) -> str:
    kube, ns = ctx.need_cluster(item.kind)
    names = [ctx.target.resolve_name(name) for name in item.body.only]
    expected = {name.hub for name in names}

    def counts(obj: dict[str, Any]) -> bool:
        return not is_hub_infrastructure(obj) and ctx.target.is_run_object(obj)

    try:
        found = pvc.expect_pvcs(kube, ns, expected, counts)
    except CheckFailed as exc:
        raise CheckFailed(str(exc) + "".join(name.failure_note() for name in names)) from exc
    mapped = "".join(name.progress_note() for name in names)
    return (", ".join(found) or "none") + mapped
