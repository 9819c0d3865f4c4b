"""``delete_pvc``: delete a PVC as ``kubectl delete pvc`` does and wait until it is gone.

A PVC that a scheduled, running pod uses is kept Terminating by the ``kubernetes.io/pvc-protection``
finalizer (StorageObjectInUseProtection admission adds it; the pvc-protection controller removes it
once no such pod is left). ``wait: true`` then fails saying so; ``wait: false`` is how a scenario
deletes a claim in use: the step returns at once and says who holds it.
"""

from __future__ import annotations

from typing import Any

from kubernetes.client.exceptions import ApiException

from harness.checks.errors import CheckFailed
from harness.clusters.kube import Kube, WaitTimeout, status_message, wait_deleted
from harness.steps.context import StepContext

PVC_PROTECTION = "kubernetes.io/pvc-protection"


def pods_using(kube: Kube, namespace: str, claim: str) -> list[str]:
    """Pods that keep ``claim`` from going: scheduled, not finished, with a volume naming it."""
    out = []
    for pod in kube.list("pod", namespace):
        finished = (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")
        if finished or not pod["spec"].get("nodeName"):
            continue
        claims = {
            (v.get("persistentVolumeClaim") or {}).get("claimName") for v in pod["spec"].get("volumes") or []
        }
        if claim in claims:
            out.append(pod["metadata"]["name"])
    return out


def terminating_note(kube: Kube, namespace: str, pvc: dict[str, Any]) -> str:
    """Why a deleted PVC is still there: the finalizers it has and the pods behind pvc-protection."""
    name = pvc["metadata"]["name"]
    finalizers = pvc["metadata"].get("finalizers") or []
    holders = pods_using(kube, namespace, name)
    if PVC_PROTECTION in finalizers and holders:
        return f"the {PVC_PROTECTION} finalizer keeps it while pod(s) {', '.join(holders)} use it"
    return f"finalizers {finalizers or 'none'}"


def run(item: Any, ctx: StepContext) -> str:
    body = item.body
    kube, ns = ctx.need_cluster(item.kind)
    name = ctx.target.resolve_name(body.name)
    pvc = kube.get("pvc", ns, name.hub)
    if pvc is None:
        raise CheckFailed(f'persistentvolumeclaims "{name.hub}" not found{name.failure_note()}')
    uid = pvc["metadata"]["uid"]
    volume = pvc["spec"].get("volumeName")
    try:
        kube.core.delete_namespaced_persistent_volume_claim(name.hub, ns)
    except ApiException as exc:
        raise CheckFailed(f"deleting PVC {name.hub} was refused: {status_message(exc)}") from exc

    def current() -> dict[str, Any] | None:
        found = kube.get("pvc", ns, name.hub)
        return found if found is not None and found["metadata"]["uid"] == uid else None

    gone_note = f"gone (was bound to {volume})" if volume else "gone"
    if not body.wait:
        left = current()
        if left is None:
            return gone_note + name.progress_note()
        return f"Terminating: {terminating_note(kube, ns, left)}{name.progress_note()}"
    try:
        wait_deleted(kube, f"PVC {name.hub} to be deleted", "pvc", ns, name.hub, body.timeout, uid=uid)
    except WaitTimeout:
        left = current()
        if left is None:
            return gone_note + name.progress_note()
        why = terminating_note(kube, ns, left)
        raise CheckFailed(
            f"PVC {name.hub} is still Terminating after {body.timeout:.0f}s: {why} "
            "(write `wait: false` to delete a claim in use)"
        ) from None
    return gone_note + name.progress_note()
