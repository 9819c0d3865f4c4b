"""``create_pvc``: a PersistentVolumeClaim an admin makes in the hub's namespace (e.g. a static claim)."""

from __future__ import annotations

from typing import Any

from kubernetes.client.exceptions import ApiException

from harness.checks.errors import CheckFailed
from harness.clusters.kube import status_message
from harness.hub import static_storage
from harness.steps.context import StepContext, StepSkipped


def run(item: Any, ctx: StepContext) -> str:
    body = item.body
    kube, ns = ctx.need_cluster(item.kind)
    volume = None
    if body.volume_name is not None:
        static = ctx.target.static_volumes
        if static is None or static.pv_name(body.volume_name) not in static.created:
            raise StepSkipped(f"its PV {body.volume_name} was not created (create_pv did not run)")
        volume = static.pv_name(body.volume_name)
    manifest: Any = static_storage.pvc_manifest(
        body.name, body.size, list(body.access_modes), body.storage_class, volume
    )
    try:
        kube.core.create_namespaced_persistent_volume_claim(ns, manifest)
    except ApiException as exc:
        raise CheckFailed(f"creating PVC {body.name} was refused: {status_message(exc)}") from exc
    return f"volumeName {volume}" if volume else ""
