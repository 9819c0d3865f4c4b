"""``resize_pvc``: change a PVC's storage request as ``kubectl edit`` / ``kubectl patch`` would.

kubectl sends a strategic merge patch; the API server answers with what the claim may do: a claim
that is not Bound cannot change its request and no claim can shrink (422, ValidatePersistentVolumeClaim
Update), and growing needs a StorageClass with ``allowVolumeExpansion: true`` (403 from the
PersistentVolumeClaimResize admission). ``rejected:`` asserts such a refusal by its message.
"""

from __future__ import annotations

from typing import Any

from kubernetes.client.exceptions import ApiException

from harness.checks.errors import CheckFailed
from harness.clusters.kube import status_message
from harness.steps.context import StepContext

STRATEGIC_MERGE = "application/strategic-merge-patch+json"


def run(item: Any, ctx: StepContext) -> str:
    body = item.body
    kube, ns = ctx.need_cluster(item.kind)
    name = ctx.target.resolve_name(body.name)
    patch = {"spec": {"resources": {"requests": {"storage": body.size}}}}
    try:
        result = kube.core.patch_namespaced_persistent_volume_claim(
            name.hub, ns, patch, _content_type=STRATEGIC_MERGE
        )
    except ApiException as exc:
        message = status_message(exc)
        if body.rejected is None:
            raise CheckFailed(
                f"resizing PVC {name.hub} to {body.size} was refused ({exc.status}): {message}"
                f"{name.failure_note()}"
            ) from exc
        if body.rejected not in message:
            raise CheckFailed(
                f"resizing PVC {name.hub} was refused, but with {message!r}, expected a message "
                f"containing {body.rejected!r}"
            ) from exc
        return f"refused as expected ({exc.status}): {message}{name.progress_note()}"
    obj = kube.to_dict(result)
    capacity = ((obj.get("status") or {}).get("capacity") or {}).get("storage")
    if body.rejected is not None:
        raise CheckFailed(
            f"resizing PVC {name.hub} to {body.size} was accepted, expected a refusal containing "
            f"{body.rejected!r}"
        )
    return f"accepted: requests {body.size}, status.capacity {capacity}{name.progress_note()}"
