"""The claim a ``pvc:`` file step names, resolved for this target (shared by expect_file/write_file).

On an existing hub the name is mapped like every other object name, and only a claim of the run's own
users may be read or written: other people's data stays untouched and out of the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.checks.files import claim_path
from harness.clusters.base import Images
from harness.clusters.kube import Kube
from harness.hub.target import NameMapping
from harness.steps.context import StepContext, StepSkipped


@dataclass(frozen=True)
class ClaimFile:
    kube: Kube
    namespace: str
    images: Images
    claim: NameMapping
    path: str


def claim_file(item: Any, ctx: StepContext) -> ClaimFile:
    """Where a ``pvc:`` step's file is, or skip the step with the reason it cannot run here."""
    body = item.body
    kube, namespace = ctx.need_cluster(item.kind)
    if ctx.target.images is None:
        raise StepSkipped(f"{item.kind} pvc needs the reader image (the hub's namespace must be known)")
    claim = ctx.target.resolve_name(body.pvc)
    pvc = kube.get("pvc", namespace, claim.hub)
    if pvc is not None and not ctx.target.is_run_object(pvc):
        raise StepSkipped(
            f"PVC {claim.hub} is not a claim of this run's users; the harness leaves it alone"
            + claim.progress_note()
        )
    return ClaimFile(kube, namespace, ctx.target.images, claim, claim_path(body.sub_path, body.path))
