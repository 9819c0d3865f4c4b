"""Put a JupyterHub into a fresh namespace, restart it, and take the namespace away again.

One code path for every backend: the only backend-specific inputs are the ``Images`` the cluster
returned and the URL ``Cluster.service_url`` yields for the proxy.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from kubernetes.client.exceptions import ApiException

from harness.clusters.base import MANAGED_BY_LABEL, MANAGED_BY_VALUE, Images
from harness.clusters.kube import Kube, is_not_found
from harness.hub import manifests
from harness.hub.config import CONFIG_FILE, HubConfigInput, render_hub_config

NAMESPACE_PREFIX = "jhsc-"


def namespace_name(slug: str) -> str:
    """``jhsc-<slug>-<random>``: a fresh DNS label per scenario run (at most 63 characters)."""
    clean = re.sub(r"[^a-z0-9-]+", "-", slug.lower()).strip("-")[:45].strip("-") or "scenario"
    return f"{NAMESPACE_PREFIX}{clean}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class HubDeployment:
    """What the runner needs to know about a hub it deployed."""

    namespace: str
    harness_token: str
    config_text: str


def create_namespace(kube: Kube, namespace: str) -> None:
    kube.create(manifests.namespace(namespace))
    # The default ServiceAccount appears asynchronously; pods cannot be created before it.
    kube.watch_until(
        f"ServiceAccount default in {namespace}",
        "serviceaccount",
        namespace,
        lambda found: True if found else None,
        timeout=60,
        name="default",
    )


def deploy_hub(kube: Kube, namespace: str, images: Images, config: HubConfigInput) -> HubDeployment:
    """Create every hub object in ``namespace`` (which must exist). Does not wait for readiness."""
    text = render_hub_config(config)
    harness_token = secrets.token_hex(32)
    for obj in manifests.hub_objects(images, text, secrets.token_hex(32), harness_token):
        kube.create(obj, namespace=namespace)
    return HubDeployment(namespace=namespace, harness_token=harness_token, config_text=text)


def selector_of(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in labels.items())


def pod_summary(kube: Kube, namespace: str, selector: str | None = None) -> str:
    """One line per pod: phase and container states (what a human needs when a wait times out)."""
    parts = []
    for pod in kube.list("pod", namespace, selector):
        states = []
        for cs in (pod.get("status") or {}).get("containerStatuses") or []:
            state = cs.get("state") or {}
            if "waiting" in state:
                w = state["waiting"]
                states.append(f"waiting {w.get('reason')}: {w.get('message') or ''}".strip())
            elif "terminated" in state:
                t = state["terminated"]
                states.append(f"terminated {t.get('reason')} exit {t.get('exitCode')}")
            else:
                states.append(f"running ready={cs.get('ready')}")
        phase = (pod.get("status") or {}).get("phase")
        parts.append(f"{pod['metadata']['name']} {phase} [{'; '.join(states)}]")
    return ", ".join(parts) or "no pods"


def wait_deployment_ready(
    kube: Kube, namespace: str, name: str, labels: dict[str, str], timeout: float = 180
) -> None:
    """Wait until the Deployment's current generation has one ready, updated replica."""

    def ready(found: list[dict[str, Any]]) -> bool | None:
        dep = found[0] if found else {}
        st = dep.get("status") or {}
        done = (
            (st.get("observedGeneration") or 0) >= (dep.get("metadata", {}).get("generation") or 0)
            and (st.get("updatedReplicas") or 0) >= 1
            and (st.get("readyReplicas") or 0) >= 1
            and (st.get("replicas") or 0) == (st.get("updatedReplicas") or 0)
        )
        return True if done else None

    kube.watch_until(
        f"Deployment {namespace}/{name} to be ready",
        "deployment",
        namespace,
        ready,
        timeout=timeout,
        name=name,
        last=lambda: pod_summary(kube, namespace, selector_of(labels)),
    )


def wait_hub_ready(kube: Kube, namespace: str, timeout: float = 180) -> None:
    wait_deployment_ready(kube, namespace, "proxy", manifests.PROXY_LABELS, timeout)
    wait_deployment_ready(kube, namespace, "hub", manifests.HUB_LABELS, timeout)


def hub_pod_uids(kube: Kube, namespace: str) -> set[str]:
    return _uids(kube.list("pod", namespace, selector_of(manifests.HUB_LABELS)))


def _uids(pods: list[dict[str, Any]]) -> set[str]:
    return {p["metadata"]["uid"] for p in pods}


def restart_hub(
    kube: Kube,
    namespace: str,
    hub_image: str | None = None,
    timeout: float = 180,
    *,
    config_text: str | None = None,
) -> None:
    """Replace the hub pod, in one rollout whatever changes.

    With ``config_text`` the ConfigMap gets the new ``jupyterhub_config.py`` first and the pod
    template's config checksum changes with it (as z2jh's does), so the Deployment rolls even when
    the image stays; with ``hub_image`` the template's image changes. With neither, the pod is
    deleted. Either way the Deployment (Recreate) makes a new pod that reopens the same sqlite DB on
    ``hub-db``, and a new pod always mounts the ConfigMap as it is now.
    """
    old = hub_pod_uids(kube, namespace)
    template: dict[str, Any] = {}
    if config_text is not None:
        kube.core.patch_namespaced_config_map(
            manifests.CONFIGMAP_NAME, namespace, {"data": {CONFIG_FILE: config_text}}
        )
        template["metadata"] = {
            "annotations": {manifests.CONFIG_SHA_ANNOTATION: manifests.config_sha(config_text)}
        }
    if hub_image is not None:
        template["spec"] = {"containers": [{"name": "hub", "image": hub_image}]}
    if template:
        kube.apps.patch_namespaced_deployment("hub", namespace, {"spec": {"template": template}})
    else:
        for pod in kube.list("pod", namespace, selector_of(manifests.HUB_LABELS)):
            kube.core.delete_namespaced_pod(pod["metadata"]["name"], namespace)
    wait_hub_pods_gone(kube, namespace, old, timeout)
    wait_deployment_ready(kube, namespace, "hub", manifests.HUB_LABELS, timeout)


def wait_hub_pods_gone(kube: Kube, namespace: str, uids: set[str], timeout: float) -> None:
    """Until no hub pod with one of ``uids`` is left (a watch on the hub's pods)."""
    kube.watch_until(
        "the old hub pod to go away",
        "pod",
        namespace,
        lambda pods: True if not uids & _uids(pods) else None,
        timeout=timeout,
        selector=selector_of(manifests.HUB_LABELS),
    )


def _owned_namespace(kube: Kube, namespace: str) -> bool:
    """Whether ``namespace`` exists; raise when it is not one the harness made."""
    ns = kube.get("namespace", None, namespace)
    if ns is None:
        return False
    if (ns["metadata"].get("labels") or {}).get(MANAGED_BY_LABEL) != MANAGED_BY_VALUE:
        raise RuntimeError(f"refusing to delete namespace {namespace}: not labelled {MANAGED_BY_LABEL}")
    return True


def delete_workloads(kube: Kube, namespace: str, *, wait: bool = True, timeout: float = 180) -> None:
    """Delete the Deployments, ReplicaSets and pods (no grace) of a harness namespace; wait for the pods.

    Doing this before the namespace matters: the namespace controller otherwise waits out every pod's
    grace period (on Kubernetes < 1.21 the first pod's for all) and backs off exponentially while pods
    remain, which made deletion take over a minute.
    """
    if not _owned_namespace(kube, namespace):
        return
    try:
        kube.apps.delete_collection_namespaced_deployment(namespace)
        kube.apps.delete_collection_namespaced_replica_set(namespace)
        kube.core.delete_collection_namespaced_pod(namespace, grace_period_seconds=0)
        if wait:
            kube.watch_until(
                f"pods in {namespace} to be gone",
                "pod",
                namespace,
                lambda pods: True if not pods else None,
                timeout=timeout,
                last=lambda: pod_summary(kube, namespace),
            )
    except ApiException as exc:
        if not is_not_found(exc):
            raise


def delete_namespace(kube: Kube, namespace: str, *, wait: bool = True, timeout: float = 180) -> None:
    """Delete a namespace the harness made (refuses others), workloads first, and wait until it is gone."""
    if not _owned_namespace(kube, namespace):
        return
    delete_workloads(kube, namespace, wait=wait, timeout=timeout)
    try:
        kube.core.delete_namespace(namespace)
    except ApiException as exc:
        if not is_not_found(exc):
            raise
    if wait:
        kube.watch_until(
            f"namespace {namespace} to be deleted",
            "namespace",
            None,
            lambda found: True if not found else None,
            timeout=timeout,
            name=namespace,
        )
