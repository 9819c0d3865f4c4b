"""Mount oracle: the pod spec mounts the expected claim at a path, and the running container really sees it.

The spec half follows volumeMount -> volume -> persistentVolumeClaim. The runtime half execs into the
notebook container and reads ``/proc/self/mountinfo``: the mount at the path must have, as its root,
the bound PV's directory plus the subPath, so a pod that *says* it mounts the claim but does not is
caught, and so is a subPath that the kubelet ignored.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any

from harness.checks.errors import CheckFailed
from harness.checks.pods import NOTEBOOK_CONTAINER, get_server_pod, notebook_container
from harness.clusters.kube import Kube
from harness.hub.driver import HubClient

_OCTAL = re.compile(r"\\([0-7]{3})")


@dataclass(frozen=True)
class MountInfo:
    """One line of /proc/<pid>/mountinfo."""

    root: str
    mount_point: str
    options: tuple[str, ...]
    fs_type: str
    source: str


def _unescape(field: str) -> str:
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text: str) -> list[MountInfo]:
    entries = []
    for line in text.splitlines():
        fields = line.split()
        if "-" not in fields or len(fields) < 7:
            continue
        sep = fields.index("-")
        after = fields[sep + 1 :]
        entries.append(
            MountInfo(
                root=_unescape(fields[3]),
                mount_point=_unescape(fields[4]),
                options=tuple(fields[5].split(",")),
                fs_type=after[0] if after else "",
                source=_unescape(after[1]) if len(after) > 1 else "",
            )
        )
    return entries


def spec_mismatches(pod: dict[str, Any], expected: Any) -> list[str]:
    """Compare the notebook container's volumeMount at ``expected.path`` with an ``expect_mount`` body."""
    path = posixpath.normpath(expected.path)
    container = notebook_container(pod)
    mounts = [m for m in container.get("volumeMounts") or [] if posixpath.normpath(m["mountPath"]) == path]
    pod_name = pod["metadata"]["name"]
    if not expected.exists:
        return (
            [f"pod {pod_name}: a volume ({mounts[0]['name']}) is mounted at {path}, expected none"]
            if mounts
            else []
        )
    if not mounts:
        have = ", ".join(m["mountPath"] for m in container.get("volumeMounts") or []) or "none"
        return [f"pod {pod_name}: no volumeMount at {path} (mounts: {have})"]
    mount = mounts[-1]
    volumes = {v["name"]: v for v in pod["spec"].get("volumes") or []}
    volume = volumes.get(mount["name"])
    out: list[str] = []
    if volume is None:
        return [f"pod {pod_name}: volumeMount {mount['name']} at {path} names no volume of the pod"]
    claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
    if expected.claim is not None and claim != expected.claim:
        out.append(
            f"pod {pod_name}: volume {mount['name']} at {path} uses claim {claim!r}, "
            f"expected {expected.claim!r}"
        )
    sub = mount.get("subPath") or ""
    if expected.sub_path is not None and sub != expected.sub_path:
        out.append(f"pod {pod_name}: mount at {path} has subPath {sub!r}, expected {expected.sub_path!r}")
    ro = bool(mount.get("readOnly"))
    if expected.read_only is not None and ro != expected.read_only:
        out.append(f"pod {pod_name}: mount at {path} readOnly={ro}, expected {expected.read_only}")
    return out


def pv_directory(pv: dict[str, Any] | None) -> str | None:
    """The host directory of a hostPath/local PV, which a bind mount's mountinfo root ends with."""
    spec = (pv or {}).get("spec") or {}
    for source in ("hostPath", "local"):
        if spec.get(source, {}).get("path"):
            return str(spec[source]["path"])
    return None


def runtime_mismatches(
    entries: list[MountInfo],
    path: str,
    exists: bool,
    pv_dir: str | None,
    sub_path: str,
    read_only: bool | None,
) -> list[str]:
    """Compare what the container sees at ``path`` with the PV directory + subPath it should be."""
    path = posixpath.normpath(path)
    at_path = [e for e in entries if posixpath.normpath(e.mount_point) == path]
    if not exists:
        return (
            [f"{path} is a mount point in the container (root {at_path[-1].root}), expected none"]
            if at_path
            else []
        )
    if not at_path:
        return [f"{path} is not a mount point in the running container (/proc/self/mountinfo has no entry)"]
    top = at_path[-1]  # the last mount at a point is the one processes see
    out: list[str] = []
    if pv_dir is not None:
        want = "/".join(p for p in (posixpath.basename(pv_dir.rstrip("/")), sub_path.strip("/")) if p)
        if not top.root.rstrip("/").endswith("/" + want):
            out.append(
                f"{path} is mounted from {top.source}:{top.root}, "
                f"expected the PV directory {pv_dir} + subPath {sub_path!r}"
            )
    elif sub_path and not top.root.rstrip("/").endswith("/" + sub_path.strip("/")):
        out.append(
            f"{path} is mounted from {top.source}:{top.root}, expected a root ending in subPath {sub_path!r}"
        )
    if read_only is not None and ("ro" in top.options) != read_only:
        out.append(f"{path} mount options {','.join(top.options)}: expected read_only={read_only}")
    return out


def exec_checked(kube: Kube, namespace: str, pod: str, command: list[str]) -> str:
    code, out = kube.exec(namespace, pod, command, container=NOTEBOOK_CONTAINER)
    if code != 0:
        raise CheckFailed(f"exec {command} in {pod} exited {code}: {out.strip()[:500]}")
    return out


def expect_mount(
    kube: Kube, namespace: str, hub: HubClient, expected: Any, working_dir: str | None = None
) -> None:
    """Run the spec and/or runtime half of the mount oracle for one ``expect_mount`` body."""
    pod = get_server_pod(kube, namespace, hub, expected.user, expected.server)
    problems: list[str] = []
    if expected.check in ("spec", "both"):
        problems += spec_mismatches(pod, expected)
        if working_dir is not None:
            have = notebook_container(pod).get("workingDir")
            if have != working_dir:
                problems.append(
                    f"pod {pod['metadata']['name']}: workingDir {have!r}, expected {working_dir!r}"
                )
    if expected.check in ("runtime", "both"):
        name = pod["metadata"]["name"]
        out = exec_checked(
            kube, namespace, name, ["sh", "-c", "pwd; echo '--- mountinfo'; cat /proc/self/mountinfo"]
        )
        cwd, _, mountinfo = out.partition("--- mountinfo\n")
        pv_dir = None
        sub = ""
        mount = [
            m
            for m in notebook_container(pod).get("volumeMounts") or []
            if posixpath.normpath(m["mountPath"]) == posixpath.normpath(expected.path)
        ]
        if mount:
            sub = mount[-1].get("subPath") or ""
            volumes = {v["name"]: v for v in pod["spec"].get("volumes") or []}
            claim = (volumes.get(mount[-1]["name"], {}).get("persistentVolumeClaim") or {}).get("claimName")
            if claim:
                pvc = kube.get("pvc", namespace, claim) or {}
                pv_name = (pvc.get("spec") or {}).get("volumeName")
                pv_dir = pv_directory(kube.get("pv", None, pv_name)) if pv_name else None
        problems += runtime_mismatches(
            parse_mountinfo(mountinfo), expected.path, expected.exists, pv_dir, sub, expected.read_only
        )
        if working_dir is not None and cwd.strip() != working_dir:
            problems.append(
                f"the running container's working directory is {cwd.strip()!r}, expected {working_dir!r}"
            )
    if problems:
        raise CheckFailed("; ".join(problems))
