"""Which uid, gid and supplementary groups a container runs as (securityContext over image defaults)."""

from __future__ import annotations

import pwd
from typing import Any

from ..images import ImageEntry

Obj = dict[str, Any]
#: The uid/gid a ``passwd_user`` image user (jovyan in the Jupyter images) has.
IMAGE_USER_IDS = (1000, 100)


def container_identity(pod: Obj, container: Obj, entry: ImageEntry) -> tuple[int, int, list[int]]:
    pod_sc = pod["spec"].get("securityContext") or {}
    sc = container.get("securityContext") or {}
    default_uid = IMAGE_USER_IDS[0] if entry.passwd_user else 0
    default_gid: int | None = None
    if entry.user:
        uid_text, _, gid_text = entry.user.partition(":")
        default_uid = int(uid_text)
        default_gid = int(gid_text) if gid_text else None
    uid = sc.get("runAsUser", pod_sc.get("runAsUser"))
    gid = sc.get("runAsGroup", pod_sc.get("runAsGroup"))
    if uid is None:
        uid = default_uid
        if gid is None:
            gid = default_gid
    if gid is None:
        gid = _primary_gid(int(uid), entry)
    groups = [int(g) for g in pod_sc.get("supplementaryGroups") or []]
    if pod_sc.get("fsGroup") is not None:
        groups.append(int(pod_sc["fsGroup"]))
    groups = [int(gid), *[g for g in dict.fromkeys(groups) if g != int(gid)]]
    return int(uid), int(gid), groups


def _primary_gid(uid: int, entry: ImageEntry) -> int:
    """The gid the image's /etc/passwd gives ``uid`` (0 when the uid is unknown, as with runc)."""
    if entry.passwd_user and uid == IMAGE_USER_IDS[0]:
        return IMAGE_USER_IDS[1]
    try:
        return pwd.getpwuid(uid).pw_gid
    except KeyError:
        return 0


def home_for(uid: int, entry: ImageEntry) -> str:
    if entry.passwd_user and uid == IMAGE_USER_IDS[0]:
        return f"/home/{entry.passwd_user}"
    try:
        return pwd.getpwuid(uid).pw_dir
    except KeyError:
        return "/"
