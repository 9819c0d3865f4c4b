"""Find a user's server pod and read its spec: shared by the mount and file oracles."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from harness.checks.errors import CheckFailed
from harness.clusters.kube import Kube
from harness.hub.driver import HubClient

#: KubeSpawner names the single-user container "notebook" (every supported release).
NOTEBOOK_CONTAINER = "notebook"


def object_user(obj: dict[str, Any]) -> str | None:
    """The hub user a pod or PVC belongs to, per KubeSpawner's annotation (else its user label)."""
    meta = obj.get("metadata") or {}
    for kind in ("annotations", "labels"):
        user = (meta.get(kind) or {}).get("hub.jupyter.org/username")
        if user is not None:
            return str(user)
    return None


def server_pod_name(hub: HubClient, user: str, server: str) -> str:
    """The pod name KubeSpawner recorded in the server's state (visible with the admin role)."""
    model = hub.server(user, server)
    label = f"{user}/{server}" if server else user
    if model is None:
        raise CheckFailed(f"server {label} is not running (the hub lists no active server)")
    state = model.get("state") or {}
    pod = state.get("pod_name")
    if not pod:
        raise CheckFailed(f"server {label}: the hub's server state has no pod_name (state: {state})")
    return str(pod)


def get_server_pod(kube: Kube, namespace: str, hub: HubClient, user: str, server: str) -> dict[str, Any]:
    name = server_pod_name(hub, user, server)
    pod = kube.get("pod", namespace, name)
    if pod is None:
        raise CheckFailed(f"pod {namespace}/{name} of server {user}/{server} does not exist")
    return pod


def notebook_container(pod: dict[str, Any]) -> dict[str, Any]:
    containers = pod["spec"].get("containers") or []
    for c in containers:
        if c.get("name") == NOTEBOOK_CONTAINER:
            return dict(c)
    if containers:
        return dict(containers[0])
    raise CheckFailed(f"pod {pod['metadata']['name']} has no containers")


@dataclass(frozen=True)
class MountSource:
    """Where a path inside the container lives: the mount, its volume, and (if any) the PVC."""

    mount_path: str
    volume: dict[str, Any]
    mount: dict[str, Any]
    claim: str | None
    #: Path of the file relative to the volume's root (subPath included), "" for the root itself.
    path_in_volume: str


def _under(path: str, mount_path: str) -> bool:
    mount_path = mount_path.rstrip("/") or "/"
    return path == mount_path or path.startswith(mount_path.rstrip("/") + "/")


def locate(pod: dict[str, Any], path: str) -> MountSource | None:
    """Which volume mount of the notebook container holds absolute ``path`` (longest mountPath wins)."""
    path = posixpath.normpath(path)
    container = notebook_container(pod)
    mounts = [
        m for m in container.get("volumeMounts") or [] if _under(path, posixpath.normpath(m["mountPath"]))
    ]
    if not mounts:
        return None
    mount = max(mounts, key=lambda m: len(posixpath.normpath(m["mountPath"])))
    volumes = {v["name"]: v for v in pod["spec"].get("volumes") or []}
    volume = volumes.get(mount["name"], {"name": mount["name"]})
    claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
    rel = posixpath.relpath(path, posixpath.normpath(mount["mountPath"]))
    rel = "" if rel == "." else rel
    parts = [p for p in (mount.get("subPath") or "", rel) if p]
    return MountSource(
        mount_path=posixpath.normpath(mount["mountPath"]),
        volume=volume,
        mount=mount,
        claim=claim,
        path_in_volume=posixpath.join(*parts) if parts else "",
    )
