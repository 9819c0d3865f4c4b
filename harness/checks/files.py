"""File oracle: a file written through the user's server really is on the PVC, and reads back.

``write_file`` / ``expect_file`` go through the Jupyter contents API (proxy + the user's own token),
as a user would. ``expect_file`` then proves *where* the bytes live: from the pod spec it works out
which PVC (and which path inside it, subPath included) holds the server's root directory + path, and
a separate reader pod that mounts that PVC has to read the same content.

With ``pvc:`` instead of ``user:`` the steps go to the claim itself, through a one-shot pod that
mounts it (a reader, or a writer running as the server's uid/gid): what is on a claim no server
mounts any more, or what a server will find when it next starts.
"""

from __future__ import annotations

import base64
import posixpath
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.checks.errors import CheckFailed
from harness.checks.pods import get_server_pod, locate, notebook_container
from harness.clusters.base import MANAGED_BY_LABEL, MANAGED_BY_VALUE, Images
from harness.clusters.kube import Kube
from harness.hub.driver import HubClient
from harness.hub.oneshot import run_to_completion

READER_MOUNT = "/pvc"
READER_LABELS = {"app.kubernetes.io/component": "jhsc-reader"}
WRITER_LABELS = {"app.kubernetes.io/component": "jhsc-writer"}
#: The image user (jovyan: uid 1000, primary group 100) the harness's hub runs servers as; a writer
#: pod writes as it too, so the server can use what it wrote (``ServerIdentity`` follows the config).
SERVER_UID, SERVER_GID = 1000, 100
#: Access modes that let a pod on any node mount a claim another pod already uses.
_SHARED_MODES = frozenset({"ReadWriteMany", "ReadOnlyMany"})


@dataclass(frozen=True)
class ServerIdentity:
    """uid / gid / fsGroup a server runs with: what a pod writing in its place must use."""

    uid: int = SERVER_UID
    gid: int = SERVER_GID
    fs_gid: int | None = SERVER_GID

    @classmethod
    def from_config(cls, kubespawner: Mapping[str, Any]) -> ServerIdentity:
        """From the KubeSpawner traits in force (``uid``, ``gid``, ``fs_gid``); integers only.

        ``gid`` unset or None is the image user's primary group; ``fs_gid: null`` means no fsGroup.
        """

        def number(trait: str) -> int | None:
            value = kubespawner.get(trait)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        uid, gid, fs_gid = number("uid"), number("gid"), number("fs_gid")
        no_fs_group = "fs_gid" in kubespawner and kubespawner["fs_gid"] is None
        return cls(
            uid=SERVER_UID if uid is None else uid,
            gid=SERVER_GID if gid is None else gid,
            fs_gid=None if no_fs_group else SERVER_GID if fs_gid is None else fs_gid,
        )


def _literal(arg: str) -> str:
    """``arg`` as a container argument that reaches the process unchanged: the kubelet expands
    ``$(VAR)`` in command/args and reduces ``$$`` to ``$``, so every ``$`` is doubled."""
    return arg.replace("$", "$$")


def _claim_pod(
    name: str,
    claim: str,
    images: Images,
    labels: dict[str, str],
    container: dict[str, Any],
    *,
    read_only: bool,
    security_context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A one-shot pod with ``claim`` mounted at ``READER_MOUNT``."""
    spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "terminationGracePeriodSeconds": 0,
        "containers": [
            {
                "image": images.reader,
                "imagePullPolicy": images.pull_policy,
                "volumeMounts": [{"name": "data", "mountPath": READER_MOUNT, "readOnly": read_only}],
                **container,
            }
        ],
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim, "readOnly": read_only}}],
    }
    if security_context:
        spec["securityContext"] = security_context
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {**labels, MANAGED_BY_LABEL: MANAGED_BY_VALUE}},
        "spec": spec,
    }


def reader_pod_manifest(name: str, claim: str, path_in_volume: str, images: Images) -> dict[str, Any]:
    """A one-shot pod that prints one file of a PVC to its log (exit 1 when the file is missing)."""
    # argv, not a shell string: the path can hold any character.
    command = ["cat", _literal(posixpath.join(READER_MOUNT, path_in_volume))]
    return _claim_pod(
        name, claim, images, READER_LABELS, {"name": "reader", "command": command}, read_only=True
    )


#: Writes base64 ``$JHSC_CONTENT`` to ``$1``, making its directories: exactly the bytes, no newline added.
_WRITE_SCRIPT = 'set -e; mkdir -p "$(dirname "$1")"; printf %s "$JHSC_CONTENT" | base64 -d > "$1"'


def writer_pod_manifest(
    name: str, claim: str, path_in_volume: str, content: str, images: Images, identity: ServerIdentity
) -> dict[str, Any]:
    """A one-shot pod that writes ``content`` to one file of a PVC as the server's user would.

    The content travels base64-encoded in the environment: no shell quoting, and nothing for the
    kubelet's ``$(VAR)`` expansion to touch.
    """
    container = {
        "name": "writer",
        "command": [
            "sh",
            "-c",
            _literal(_WRITE_SCRIPT),
            "sh",
            _literal(posixpath.join(READER_MOUNT, path_in_volume)),
        ],
        "env": [{"name": "JHSC_CONTENT", "value": base64.b64encode(content.encode()).decode()}],
    }
    security: dict[str, Any] = {"runAsUser": identity.uid, "runAsGroup": identity.gid}
    if identity.fs_gid is not None:
        security["fsGroup"] = identity.fs_gid
    return _claim_pod(
        name, claim, images, WRITER_LABELS, container, read_only=False, security_context=security
    )


def _claim_in_use(kube: Kube, namespace: str, claim: str) -> dict[str, str]:
    """Claim ``claim`` must exist and be usable; returns pod -> node of the pods that use it.

    A ReadWriteOnce claim in use can only be mounted by another pod on the same node, so the
    caller watches where its pod lands; ReadWriteOncePod cannot be shared at all.
    """
    pvc = kube.get("pvc", namespace, claim)
    if pvc is None:
        others = sorted(p["metadata"]["name"] for p in kube.list("pvc", namespace))
        raise CheckFailed(f"PVC {claim} does not exist (PVCs in {namespace}: {', '.join(others) or 'none'})")
    if pvc["metadata"].get("deletionTimestamp"):
        raise CheckFailed(f"PVC {claim} is being deleted; no new pod can mount it")
    modes = set((pvc.get("spec") or {}).get("accessModes") or [])
    if modes & _SHARED_MODES:
        return {}
    users = {
        pod["metadata"]["name"]: str((pod.get("spec") or {}).get("nodeName") or "")
        for pod in kube.list("pod", namespace)
        if (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
        and any(
            (v.get("persistentVolumeClaim") or {}).get("claimName") == claim
            for v in (pod.get("spec") or {}).get("volumes") or []
        )
    }
    if users and "ReadWriteOncePod" in modes:
        raise CheckFailed(
            f"PVC {claim} (ReadWriteOncePod) is in use by pod {', '.join(users)}; stop the server first"
        )
    return users


def _run_claim_pod(
    kube: Kube, namespace: str, manifest: dict[str, Any], claim: str, timeout: float
) -> tuple[str, str]:
    """Run a one-shot claim pod to its end and delete it; returns (phase, log)."""
    users = _claim_in_use(kube, namespace, claim)
    user_nodes = {node for node in users.values() if node}
    name = manifest["metadata"]["name"]

    def attachable(pod: dict[str, Any]) -> None:
        node = (pod.get("spec") or {}).get("nodeName")
        if node and user_nodes and node not in user_nodes:
            raise CheckFailed(
                f"PVC {claim} (ReadWriteOnce) is in use by pod {', '.join(users)} on node "
                f"{', '.join(sorted(user_nodes))}, and pod {name} was scheduled to node {node}, "
                "where it cannot be attached; stop the server first"
            )

    return run_to_completion(kube, namespace, manifest, f"claim {claim}", timeout, check=attachable)


def read_from_pvc(
    kube: Kube, namespace: str, claim: str, path_in_volume: str, images: Images, timeout: float = 120
) -> str | None:
    """Content of ``path_in_volume`` on PVC ``claim`` as a reader pod sees it; None when it is missing."""
    name = f"jhsc-reader-{secrets.token_hex(4)}"
    manifest = reader_pod_manifest(name, claim, path_in_volume, images)
    phase, log = _run_claim_pod(kube, namespace, manifest, claim, timeout)
    if phase == "Succeeded":
        return log
    if "No such file" in log:
        return None
    raise CheckFailed(f"reader pod {name} failed reading {claim}:{path_in_volume}: {log.strip()[:500]}")


def write_to_pvc(
    kube: Kube,
    namespace: str,
    claim: str,
    path_in_volume: str,
    content: str,
    images: Images,
    identity: ServerIdentity,
    timeout: float = 120,
) -> None:
    """Write ``content`` (exactly) to ``path_in_volume`` on PVC ``claim`` through a writer pod."""
    if "\0" in content:
        raise CheckFailed("content holds a NUL character, which a file written through a pod cannot carry")
    name = f"jhsc-writer-{secrets.token_hex(4)}"
    manifest = writer_pod_manifest(name, claim, path_in_volume, content, images, identity)
    phase, log = _run_claim_pod(kube, namespace, manifest, claim, timeout)
    if phase != "Succeeded":
        raise CheckFailed(
            f"writer pod {name} (uid {identity.uid}, gid {identity.gid}) failed writing "
            f"{claim}:{path_in_volume}: {log.strip()[:500] or 'no output'}"
        )


def claim_path(sub_path: str | None, path: str) -> str:
    """The path inside a claim of ``path`` under ``sub_path`` (both relative, as the model checks)."""
    return posixpath.normpath(posixpath.join(sub_path or "", path))


def expect_file_on_pvc(
    kube: Kube, namespace: str, claim: str, path_in_volume: str, expected: Any, images: Images
) -> str:
    """Check a file on a claim itself (no server involved); returns the progress note."""
    got = read_from_pvc(kube, namespace, claim, path_in_volume, images)
    where = f"PVC {claim}:{path_in_volume}"
    if not expected.exists:
        if got is not None:
            raise CheckFailed(f"{where} exists, expected it to be absent")
        return f"absent from {where}"
    if got is None:
        raise CheckFailed(f"{where} does not exist")
    if expected.content is not None and got != expected.content:
        raise CheckFailed(f"{where}: expected {expected.content!r}, got {got!r}")
    return f"on {where}"


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
