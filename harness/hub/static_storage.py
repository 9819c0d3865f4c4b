"""Objects an admin creates beside the hub: pre-provisioned PVs (z2jh ``storage.type: static``) and PVCs.

A static PV here is a hostPath directory on the node, ``<Cluster.host_path_dir()>/<namespace>/<pv>``,
made through a short-lived root pod that mounts the host directory, so every backend takes the same
path and only the directory differs. The directory is made mode 0777 because a real kubelet applies no
fsGroup to hostPath volumes (pkg/volume/hostpath: the mounter is not ``Managed``) and creates a
missing ``subPath`` with the mode of the volume's root (pkg/kubelet/kubelet_pods.go makeMounts,
pkg/volume/util/subpath/subpath_linux.go doSafeMakeDir), so only then can the single-user uid write
into ``subPath: '{username}'``. That is what an admin sharing a directory does too.

PVs are cluster-scoped: deleting the namespace does not delete them. Each one is named
``<namespace>-<name>`` (unique on a shared cluster), labelled with the run's namespace, and deleted at
teardown together with the run's directory; nothing else is ever deleted.
"""

from __future__ import annotations

import posixpath
import secrets
from dataclasses import dataclass, field
from typing import Any

from kubernetes.client.exceptions import ApiException

from harness.checks.errors import CheckFailed
from harness.clusters.base import MANAGED_BY_LABEL, MANAGED_BY_VALUE, Images
from harness.clusters.kube import Kube, is_not_found, status_message, wait_deleted
from harness.hub.oneshot import run_to_completion

#: Label naming the namespace (the run) a cluster-scoped object belongs to.
RUN_NAMESPACE_LABEL = "jupyterhub-storage-conformance/namespace"
#: Label naming the step that made an object, so it is told apart from the hub's own.
CREATED_BY_STEP_LABEL = "jupyterhub-storage-conformance/step"
#: Where the node-directory pod sees ``host_path_dir``.
HOST_MOUNT = "/host"
#: Default mode of a static volume's directory: any uid may write (see the module docstring).
VOLUME_DIR_MODE = "0777"


def _labels(step: str, namespace: str | None = None) -> dict[str, str]:
    labels = {MANAGED_BY_LABEL: MANAGED_BY_VALUE, CREATED_BY_STEP_LABEL: step}
    if namespace is not None:
        labels[RUN_NAMESPACE_LABEL] = namespace
    return labels


def pv_manifest(
    name: str, namespace: str, path: str, size: str, access_modes: list[str], storage_class: str
) -> dict[str, Any]:
    """A hostPath PV as an admin writes it for static provisioning (Retain: the data is theirs)."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name, "labels": _labels("create_pv", namespace)},
        "spec": {
            "capacity": {"storage": size},
            "accessModes": list(access_modes),
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": storage_class,
            "volumeMode": "Filesystem",
            # Directory, not DirectoryOrCreate: the harness made it with the right mode, and a missing
            # one should fail the mount, not come back root-owned 0755
            "hostPath": {"path": path, "type": "Directory"},
        },
    }


def pvc_manifest(
    name: str, size: str, access_modes: list[str], storage_class: str | None, volume_name: str | None
) -> dict[str, Any]:
    """A PVC as ``kubectl apply`` of an admin's manifest creates it; ``storage_class`` None leaves the
    field out (the DefaultStorageClass admission then picks the default class)."""
    spec: dict[str, Any] = {"accessModes": list(access_modes), "resources": {"requests": {"storage": size}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    if volume_name is not None:
        spec["volumeName"] = volume_name
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "labels": _labels("create_pvc")},
        "spec": spec,
    }


def node_dir_pod(name: str, host_dir: str, script: str, path: str, images: Images) -> dict[str, Any]:
    """A one-shot root pod running ``sh -c script sh path`` with the node's ``host_dir`` at /host."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": _labels("node-dir")},
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {
                    "name": "node-dir",
                    "image": images.reader,
                    "imagePullPolicy": images.pull_policy,
                    # the path is an argument, never part of the script text
                    "command": ["sh", "-c", script, "sh", path],
                    "securityContext": {"runAsUser": 0, "runAsGroup": 0},
                    "volumeMounts": [{"name": "host", "mountPath": HOST_MOUNT}],
                }
            ],
            "volumes": [{"name": "host", "hostPath": {"path": host_dir, "type": "DirectoryOrCreate"}}],
        },
    }


@dataclass
class StaticVolumes:
    """The static PVs one scenario run creates (one per ``create_pv``), and their cleanup."""

    kube: Kube
    #: The run's namespace: part of every PV name and node directory of the run.
    namespace: str
    #: ``Cluster.host_path_dir()``: the node directory under which the run's directory lies.
    host_dir: str
    images: Images
    #: PV names this run created, in order.
    created: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.namespace or "/" in self.namespace or self.namespace.startswith("."):
            raise ValueError(f"unsafe namespace {self.namespace!r} for a node directory")

    def pv_name(self, name: str) -> str:
        """The cluster-wide name of the scenario's PV ``name``."""
        return f"{self.namespace}-{name}"

    def node_dir(self, name: str) -> str:
        """The PV's directory as the node sees it."""
        return posixpath.join(self.host_dir, self.namespace, self.pv_name(name))

    def _in_pod(self, name: str) -> str:
        return posixpath.join(HOST_MOUNT, self.namespace, self.pv_name(name))

    def _run(self, what: str, script: str, path: str) -> None:
        pod = f"jhsc-node-dir-{secrets.token_hex(4)}"
        manifest = node_dir_pod(pod, self.host_dir, script, path, self.images)
        phase, log = run_to_completion(self.kube, self.namespace, manifest, what)
        if phase != "Succeeded":
            raise CheckFailed(f"{what} failed on the node ({self.host_dir}): {log.strip()[:500]}")

    def create(
        self, name: str, size: str, access_modes: list[str], storage_class: str, mode: str = VOLUME_DIR_MODE
    ) -> str:
        """Make the node directory (root-owned, ``mode``), then the PV; return the PV's name."""
        pv = self.pv_name(name)
        if pv in self.created:
            raise CheckFailed(f"PV {pv} was created already by this run")
        self._run(
            f"making directory {self.node_dir(name)}",
            f'mkdir -p "$1" && chmod {mode} "$1"',
            self._in_pod(name),
        )
        path = self.node_dir(name)
        manifest: Any = pv_manifest(pv, self.namespace, path, size, access_modes, storage_class)
        # recorded first: teardown deletes what may exist (a create that timed out may still land)
        self.created.append(pv)
        try:
            self.kube.core.create_persistent_volume(manifest)
        except ApiException as exc:
            raise CheckFailed(f"creating PV {pv} was refused: {status_message(exc)}") from exc
        return pv

    def remove_dirs(self) -> None:
        """Delete the run's node directory (``<host dir>/<namespace>``); needs the namespace, so it comes
        before the namespace goes, and after the pods that used it are gone."""
        if self.created:
            self._run(
                f"removing directory {posixpath.join(self.host_dir, self.namespace)}",
                'rm -rf "$1"',
                posixpath.join(HOST_MOUNT, self.namespace),
            )

    def delete_volumes(self, timeout: float = 120) -> None:
        """Delete the run's PVs (only those carrying its labels) and wait until they are gone.

        A PV stays while the pv-protection finalizer sees it Bound, i.e. until its claim went with
        the namespace, so this comes after the namespace deletion.
        """
        for pv in self.created:
            obj = self.kube.get("pv", None, pv)
            if obj is None:
                continue
            labels = obj["metadata"].get("labels") or {}
            if labels.get(RUN_NAMESPACE_LABEL) != self.namespace or labels.get(MANAGED_BY_LABEL) != (
                MANAGED_BY_VALUE
            ):
                raise RuntimeError(f"refusing to delete PV {pv}: it does not carry this run's labels")
            try:
                self.kube.core.delete_persistent_volume(pv)
            except ApiException as exc:
                if not is_not_found(exc):
                    raise
        for pv in self.created:
            self._wait_gone(pv, timeout)
        self.created.clear()

    def _wait_gone(self, pv: str, timeout: float) -> None:
        wait_deleted(
            self.kube,
            f"PV {pv} to be deleted",
            "pv",
            None,
            pv,
            timeout,
            last=lambda: str((self.kube.get("pv", None, pv) or {}).get("status")),
        )
