"""Everything needed to launch one container run: identity, environment, argv, mounts.

Built afresh for every (re)start, because the image map and the referenced Secrets/ConfigMaps may
have changed, just as a real kubelet re-resolves them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..images import ImageEntry
from .api import Obj
from .container_init import FRESH_DIRS
from .context import NodeContext
from .envvars import container_env, expand
from .identity import IMAGE_USER_IDS, container_identity, home_for
from .podnet import PodNetwork
from .runtime import SYSTEM_PATH, ShimSpec, command_argv, find_executable
from .service_env import services_env
from .volumes import Mount, PodVolume, container_mounts

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


@dataclass
class ContainerLaunch:
    netns: str
    hostname: str
    uid: int
    gid: int
    groups: list[int]
    env: dict[str, str]
    argv: list[str]
    exec_path: str
    cwd: str
    mounts: list[Mount] = field(default_factory=list)
    image_dirs: list[dict[str, object]] = field(default_factory=list)
    image_layers: list[str] = field(default_factory=list)
    image_files: list[dict[str, object]] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)

    def shim_spec(self, scratch: Path) -> ShimSpec:
        scratch.mkdir(parents=True, exist_ok=True)
        return ShimSpec(
            netns=self.netns,
            hostname=self.hostname,
            scratch=str(scratch),
            argv=self.argv,
            exec_path=self.exec_path,
            env=self.env,
            cwd=self.cwd,
            uid=self.uid,
            gid=self.gid,
            groups=self.groups,
            mounts=[m.to_json() for m in self.mounts],
            image_dirs=self.image_dirs,
            image_layers=self.image_layers,
            image_files=self.image_files,
            hidden=self.hidden,
        )


def _pod_file_mounts(pod_dir: Path, container: Obj) -> list[Mount]:
    """/etc files the runtime provides (hosts, resolv.conf, hostname).

    As with containerd's CRI, a container's own volumeMount at the same path wins: the runtime's file
    is then left out (the kubelet skips /etc/hosts the same way).
    """
    etc = pod_dir / "etc"
    targets = {os.path.normpath(m["mountPath"]) for m in container.get("volumeMounts") or []}
    return [
        Mount(str(etc / name), f"/etc/{name}")
        for name in ("hosts", "resolv.conf", "hostname")
        if f"/etc/{name}" not in targets and (etc / name).exists()
    ]


def _image_files(pod_dir: Path) -> list[dict[str, object]]:
    """/etc/passwd and /etc/group as the image has them (with its user): files of the container's
    writable layer, not mounts, so root may change them as in any container."""
    etc = pod_dir / "etc"
    return [
        {"source": str(etc / name), "path": f"/etc/{name}", "mode": 0o644}
        for name in ("passwd", "group")
        if (etc / name).exists()
    ]


def mount_order(mounts: list[Mount]) -> list[Mount]:
    """Shallow mount points first, ties kept in the given order: containerd's ``sort.Stable`` by path
    depth, "so that high level mounts don't shadow other mounts" (a volume at /etc/x/y can never hide
    /etc/hosts, and a volume at /etc comes before the /etc/hosts bind on top of it)."""
    return sorted(mounts, key=lambda m: len(Path(os.path.normpath(m.target)).parts))


def _image_layers(entry: ImageEntry, hidden: list[str]) -> list[str]:
    """An image brings its own filesystem; here that is its environments, which must stay visible.

    The container's root shows the host's tree, except that /tmp, /home and /run start empty and the
    node's data dir is hidden; an environment living there (a nox or tox venv in a checkout under /tmp,
    say), or on another file system than /, would not be seen and its command not found. Such
    environments, and the interpreter a venv points at, get a copy-on-write layer of their own at
    their path, as their files would be in a real image.
    """
    roots: set[Path] = set()
    for entry_dir in entry.path:
        bin_dir = Path(entry_dir)
        roots.add(bin_dir.parent)
        interpreter = bin_dir / "python3"
        if interpreter.exists():
            roots.add(interpreter.resolve().parent.parent)
    root_dev = os.stat("/").st_dev

    def unseen(root: Path) -> bool:
        under_fresh = len(root.parts) > 2 and root.parts[1] in FRESH_DIRS
        under_hidden = any(root.is_relative_to(h) for h in hidden)
        return under_fresh or under_hidden or root.stat().st_dev != root_dev

    return [
        str(r) for r in sorted(roots) if r.is_absolute() and len(r.parts) > 1 and r.is_dir() and unseen(r)
    ]


async def build_launch(
    ctx: NodeContext,
    pod: Obj,
    container: Obj,
    entry: ImageEntry,
    sandbox: PodNetwork,
    volumes: dict[str, PodVolume],
    pod_dir: Path,
) -> ContainerLaunch:
    uid, gid, groups = container_identity(pod, container, entry)
    image_env = dict(entry.env)
    path = ":".join([*entry.path, image_env.pop("PATH", SYSTEM_PATH)])
    meta = pod["metadata"]
    base = {"PATH": path, **image_env, "HOSTNAME": str(pod["spec"].get("hostname") or meta["name"])[:63]}
    base.update(services_env(pod, ctx.services.in_namespace(meta["namespace"]), ctx.services.kubernetes()))
    env = await container_env(ctx.registry, pod, container, base)
    env.setdefault("HOME", home_for(uid, entry))
    argv = [expand(arg, env) for arg in command_argv(container, entry)]
    exec_path = find_executable(argv[0], env.get("PATH", SYSTEM_PATH), uid, set(groups))
    fs_group = (pod["spec"].get("securityContext") or {}).get("fsGroup")
    mounts = mount_order(
        container_mounts(container, volumes, int(fs_group) if fs_group is not None else None)
        + _pod_file_mounts(pod_dir, container)
    )
    hidden = [str(d) for d in ctx.hidden_dirs]
    image_dirs: list[dict[str, object]] = []
    if entry.passwd_user:  # a Jupyter image has its user's home, owned by it (docker-stacks: 2775 1000:100)
        home_uid, home_gid = IMAGE_USER_IDS
        image_dirs.append(
            {"path": f"/home/{entry.passwd_user}", "uid": home_uid, "gid": home_gid, "mode": 0o2775}
        )
    return ContainerLaunch(
        netns=sandbox.netns_path,
        hostname=base["HOSTNAME"],
        uid=uid,
        gid=gid,
        groups=groups,
        env=env,
        argv=argv,
        exec_path=exec_path,
        cwd=container.get("workingDir") or entry.workdir or "/",  # containerd: the image's WORKDIR
        mounts=mounts,
        image_dirs=image_dirs,
        image_layers=_image_layers(entry, hidden),
        image_files=_image_files(pod_dir),
        hidden=hidden,
    )
