"""The hostPath provisioner's side on disk: one directory per volume under ``<data_dir>/volumes/``.

Why separate from the controllers: creating and, above all, deleting user data directories is the one
place where a bug destroys data, so it lives in one small module with its own safety checks and tests.
A directory is only ever deleted when the PV says this provisioner made it, points exactly at
``<data_dir>/volumes/<pv-name>``, and no mount lies at or below it.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from pathlib import Path
from typing import Any

from .objects import Obj, uid

PROVISIONER = "embedded.local/hostpath"
ANN_PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"


def volume_dir(volumes_dir: Path, pv_name: str) -> Path:
    return volumes_dir / pv_name


def make_volume_dir(path: Path) -> None:
    """Create the volume directory root-owned 0755; the kubelet applies fsGroup ownership when mounting."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=0o755)
    except FileExistsError:
        if path.is_symlink() or not path.is_dir():
            raise
    os.chmod(path, 0o755)


def pv_manifest(pvc: Obj, sc: Obj, path: Path) -> Obj:
    """The PV the provisioner creates for ``pvc`` (name ``pvc-<claim uid>`` as external provisioners do)."""
    spec = pvc.get("spec", {})
    storage = (spec.get("resources", {}).get("requests") or {}).get("storage", "0")
    pv_spec: dict[str, Any] = {
        "accessModes": list(spec.get("accessModes") or []),
        "capacity": {"storage": storage},
        "claimRef": {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "name": pvc["metadata"]["name"],
            "namespace": pvc["metadata"]["namespace"],
            "resourceVersion": pvc["metadata"].get("resourceVersion", ""),
            "uid": uid(pvc),
        },
        "hostPath": {"path": str(path), "type": "DirectoryOrCreate"},
        "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy") or "Delete",
        "storageClassName": sc["metadata"]["name"],
        "volumeMode": spec.get("volumeMode") or "Filesystem",
    }
    if sc.get("mountOptions"):
        pv_spec["mountOptions"] = list(sc["mountOptions"])
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": f"pvc-{uid(pvc)}", "annotations": {ANN_PROVISIONED_BY: PROVISIONER}},
        "spec": pv_spec,
    }


class UnsafeVolumeDir(Exception):
    """The directory a PV names is not one this provisioner may delete."""


def owned_volume_dir(pv: Obj, volumes_dir: Path) -> Path | None:
    """The directory to delete for ``pv``, or None when the PV is not one we provisioned."""
    ann = pv.get("metadata", {}).get("annotations") or {}
    if ann.get(ANN_PROVISIONED_BY) != PROVISIONER:
        return None
    name = pv["metadata"]["name"]
    expected = volume_dir(volumes_dir, name)
    path = (pv.get("spec", {}).get("hostPath") or {}).get("path")
    if path is None or Path(path) != expected or not name.startswith("pvc-") or "/" in name:
        return None
    return expected


def remove_volume_dir(path: Path, volumes_dir: Path) -> None:
    """Delete ``path`` (a direct child of ``volumes_dir``) without following symlinks or crossing mounts."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise UnsafeVolumeDir(f"{path} is not a directory")
    if path.parent.resolve() != volumes_dir.resolve():
        raise UnsafeVolumeDir(f"{path} is not under {volumes_dir}")
    real = os.path.realpath(path)
    for point in mount_points():
        if point == real or point.startswith(real + "/"):
            # e.g. a pod's bind mount that was not torn down: deleting through it would hit other data
            raise UnsafeVolumeDir(f"{point} is a mount point; refusing to delete {path}")
    shutil.rmtree(path)


def mount_points(mountinfo: str = "/proc/self/mountinfo") -> list[str]:
    """Every mount point of this mount namespace (bind mounts of the same filesystem included)."""
    points = []
    with open(mountinfo) as f:
        for line in f:
            fields = line.split()
            if len(fields) > 4:
                points.append(_unescape(fields[4]))
    return points


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as 3-digit octal."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)
