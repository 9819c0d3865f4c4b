"""Run a pod to completion and read its log: how the harness does things on a node or in a claim.

A pod is the one thing every backend can run where the data is (the embedded kubelet, a kind node, a
real node), so reading a PVC, preparing a hostPath directory and removing it again all go this way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubernetes.client.exceptions import ApiException

from harness.clusters.kube import Kube, is_not_found

#: Pod phases after which nothing runs any more.
FINISHED = ("Succeeded", "Failed")


def run_to_completion(
    kube: Kube,
    namespace: str,
    manifest: dict[str, Any],
    what: str,
    timeout: float = 120,
    check: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[str, str]:
    """Create ``manifest``, wait until it finished, delete it; return (phase, log).

    Watched, not polled (``Kube.watch_until``). ``check`` sees the pod at every change and may raise
    to give up early (e.g. scheduled where its claim cannot be attached); the pod is deleted all the
    same."""
    name = manifest["metadata"]["name"]
    kube.create(manifest, namespace=namespace)
    try:

        def finished(found: list[dict[str, Any]]) -> str | None:
            pod = found[0] if found else {}
            if check is not None:
                check(pod)
            phase = (pod.get("status") or {}).get("phase")
            return phase if phase in FINISHED else None

        phase = kube.watch_until(
            f"{what} (pod {name}) to finish",
            "pod",
            namespace,
            finished,
            timeout=timeout,
            name=name,
            last=lambda: str(
                ((kube.get("pod", namespace, name) or {}).get("status") or {}).get("containerStatuses")
            ),
        )
        return phase, kube.logs(namespace, name)
    finally:
        try:
            kube.core.delete_namespaced_pod(name, namespace, grace_period_seconds=0)
        except ApiException as exc:
            if not is_not_found(exc):
                raise
