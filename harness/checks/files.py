"""File oracle: a file written through the user's server really is on the PVC, and reads back.

``write_file`` / ``expect_file`` go through the Jupyter contents API (proxy + the user's own token),
as a user would. ``expect_file`` then proves *where* the bytes live: from the pod spec it works out
which PVC (and which path inside it, subPath included) holds the server's root directory + path, and
a separate reader pod that mounts that PVC has to read the same content.
"""

from __future__ import annotations

import posixpath
import secrets
import time
from typing import Any

from harness.checks.errors import CheckFailed
from harness.checks.pods import get_server_pod, locate, notebook_container
from harness.clusters.base import MANAGED_BY_LABEL, MANAGED_BY_VALUE, Images
from harness.clusters.kube import Kube, wait_for
from harness.hub.driver import HubClient

READER_MOUNT = "/pvc"
READER_LABELS = {"app.kubernetes.io/component": "jhsc-reader"}


def reader_pod_manifest(name: str, claim: str, path_in_volume: str, images: Images) -> dict[str, Any]:
    """A one-shot pod that prints one file of a PVC to its log (exit 1 when the file is missing)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {**READER_LABELS, MANAGED_BY_LABEL: MANAGED_BY_VALUE}},
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {
                    "name": "reader",
                    "image": images.reader,
                    "imagePullPolicy": images.pull_policy,
                    # argv, not a shell string: the path can hold any character.
                    "command": ["cat", posixpath.join(READER_MOUNT, path_in_volume)],
                    "volumeMounts": [{"name": "data", "mountPath": READER_MOUNT, "readOnly": True}],
                }
            ],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim, "readOnly": True}}],
        },
    }


def read_from_pvc(
    kube: Kube, namespace: str, claim: str, path_in_volume: str, images: Images, timeout: float = 120
) -> str | None:
    """Content of ``path_in_volume`` on PVC ``claim`` as a reader pod sees it; None when it is missing."""
    name = f"jhsc-reader-{secrets.token_hex(4)}"
    kube.create(reader_pod_manifest(name, claim, path_in_volume, images), namespace=namespace)
    try:

        def finished() -> str | None:
            pod = kube.get("pod", namespace, name) or {}
            phase = (pod.get("status") or {}).get("phase")
            return phase if phase in ("Succeeded", "Failed") else None

        phase = wait_for(
            f"reader pod {name} (claim {claim}) to finish",
            finished,
            timeout=timeout,
            last=lambda: str(
                ((kube.get("pod", namespace, name) or {}).get("status") or {}).get("containerStatuses")
            ),
        )
        log = kube.logs(namespace, name)
        if phase == "Succeeded":
            return log
        if "No such file" in log:
            return None
        raise CheckFailed(f"reader pod {name} failed reading {claim}:{path_in_volume}: {log.strip()[:500]}")
    finally:
        kube.core.delete_namespaced_pod(name, namespace, grace_period_seconds=0)


def server_root(kube: Kube, namespace: str, pod: dict[str, Any], notebook_dir: str | None = None) -> str:
    """The directory the contents API serves: notebook_dir if configured, else the container's cwd."""
    if notebook_dir:
        return notebook_dir
    working_dir = notebook_container(pod).get("workingDir")
    if working_dir:
        return str(working_dir)
    code, out = kube.exec(namespace, pod["metadata"]["name"], ["pwd"], container="notebook")
    if code != 0:
        raise CheckFailed(f"cannot find the server's root directory (pwd exited {code}: {out.strip()})")
    return out.strip()


def write_file(hub: HubClient, user: str, server: str, path: str, content: str, user_token: str) -> None:
    hub.put_file(user, server, path, content, user_token)


def expect_file(
    kube: Kube | None,
    namespace: str | None,
    hub: HubClient,
    expected: Any,
    user_token: str,
    images: Images | None,
    notebook_dir: str | None = None,
) -> str:
    """Check a file through the contents API and, when the cluster is reachable, on the PVC itself.

    Returns a short note of what was proven (for the progress line).
    """
    label = f"{expected.user}/{expected.server}" if expected.server else expected.user
    got = hub.get_file(expected.user, expected.server, expected.path, user_token)
    if not expected.exists:
        if got is not None:
            raise CheckFailed(f"{expected.path} exists on server {label}, expected it to be absent")
        return "absent"
    if got is None:
        raise CheckFailed(f"{expected.path} does not exist on server {label} (contents API 404)")
    if expected.content is not None and got != expected.content:
        raise CheckFailed(f"{expected.path} on server {label}: expected {expected.content!r}, got {got!r}")
    if kube is None or namespace is None or images is None:
        return "contents API only"
    pod = get_server_pod(kube, namespace, hub, expected.user, expected.server)
    root = server_root(kube, namespace, pod, notebook_dir)
    where = locate(pod, posixpath.join(root, expected.path))
    pvc_mounts = [v for v in pod["spec"].get("volumes") or [] if v.get("persistentVolumeClaim")]
    if where is None or where.claim is None:
        if not pvc_mounts:
            return "contents API only (the pod mounts no PVC)"
        on = f"volume {where.volume.get('name')}" if where else "the container's own filesystem"
        raise CheckFailed(f"{root}/{expected.path} of server {label} is on {on}, not on a PVC")
    deadline = time.monotonic() + 10
    while True:  # the write went through the server's filesystem; the reader sees the same inode
        on_pvc = read_from_pvc(kube, namespace, where.claim, where.path_in_volume, images)
        if on_pvc == got or time.monotonic() > deadline:
            break
        time.sleep(1)
    if on_pvc != got:
        shown = "missing" if on_pvc is None else repr(on_pvc)
        raise CheckFailed(
            f"{expected.path} of server {label}: contents API has {got!r} but PVC {where.claim} at "
            f"{where.path_in_volume} has {shown}"
        )
    return f"on PVC {where.claim}:{where.path_in_volume}"
