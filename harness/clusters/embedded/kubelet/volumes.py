"""Volume setup: turn a pod's ``spec.volumes`` into host directories that containers bind-mount.

PVCs resolve to their bound PV's hostPath directory; emptyDir, configMap, secret, projected (service
account token, CA, namespace) and downwardAPI volumes are materialised under the pod's runtime dir.
``fsGroup`` is applied the way the kubelet does (group ownership, g+rwX, setgid dirs) to every volume
type the kubelet manages ownership for: not hostPath, and so not a PV whose source an admin wrote as
hostPath (kubespawner#813: a static claim ignores fs_gid). Claims of the embedded provisioner stand for
a cloud storage class (a block device or CSI volume, whose plugin does apply fsGroup), so they do get
it. configMap, secret, downwardAPI and projected volumes are always mounted read-only, as their plugins
tell the real kubelet (``mustMountRO``).

A volume that cannot be set up raises ``VolumeError`` with the message the real kubelet puts in its
``FailedMount`` event; the pod worker retries later.
"""

from __future__ import annotations

import base64
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ..controllers.hostpath import ANN_PROVISIONED_BY, PROVISIONER
from . import atomic_writer
from .api import Obj, RegistryLike, get_or_none
from .envvars import EnvError, field_ref

DEFAULT_MODE = 0o644
#: Volume types whose plugins report ``ReadOnly: true``: the kubelet mounts them read-only in every
#: container, whatever the volumeMount's readOnly says (pkg/volume/{configmap,secret,downwardapi,projected}).
READ_ONLY_TYPES = ("configMap", "secret", "downwardAPI", "projected")


class VolumeError(Exception):
    """A volume of the pod cannot be mounted yet (message as in a FailedMount event)."""


class PodVolume(NamedTuple):
    """A set-up volume: where it is on the host, whether fsGroup applies, whether it must mount read-only."""

    path: Path
    managed: bool
    read_only: bool = False


@dataclass(frozen=True)
class Mount:
    """A bind mount for the container shim: host ``source`` at ``target`` inside the container."""

    source: str
    target: str
    readonly: bool = False

    def to_json(self) -> dict[str, object]:
        return {"source": self.source, "target": self.target, "readonly": self.readonly}


def _manages_ownership(pv: Obj) -> bool:
    """Whether the kubelet applies fsGroup to this PV: the local plugin does, the hostPath plugin does
    not (its mounter is not ``Managed``); the embedded provisioner's PVs play a cloud class's volumes."""
    annotations = pv.get("metadata", {}).get("annotations") or {}
    if annotations.get(ANN_PROVISIONED_BY) == PROVISIONER:
        return True
    return "local" in (pv.get("spec") or {})


def apply_fs_group(path: Path, gid: int) -> None:
    """chgrp -R gid, g+rw (g+x where u+x), setgid on dirs: what SetVolumeOwnership does."""
    for root, dirs, files in os.walk(path):
        for name in [root, *(os.path.join(root, d) for d in dirs), *(os.path.join(root, f) for f in files)]:
            st = os.lstat(name)
            if stat.S_ISLNK(st.st_mode):
                continue
            os.chown(name, -1, gid)
            mode = stat.S_IMODE(st.st_mode) | stat.S_IRGRP | stat.S_IWGRP
            if stat.S_ISDIR(st.st_mode):
                mode |= stat.S_IXGRP | stat.S_ISGID
            elif st.st_mode & stat.S_IXUSR:
                mode |= stat.S_IXGRP
            os.chmod(name, mode)


def _key_payload(
    data: dict[str, bytes], items: list[Obj] | None, default_mode: int, what: str
) -> atomic_writer.Payload:
    if not items:
        return {key: (value, default_mode) for key, value in data.items()}
    payload: atomic_writer.Payload = {}
    for item in items:
        if item["key"] not in data:
            raise VolumeError(f"configmap/secret references non-existent {what} key: {item['key']}")
        payload[item["path"]] = (data[item["key"]], item.get("mode", default_mode))
    return payload


def _project(target: Path, payload: atomic_writer.Payload) -> None:
    target.mkdir(parents=True, exist_ok=True)
    target.chmod(0o755)
    atomic_writer.write(target, payload)


class VolumeManager:
    """Sets up the volumes of one pod under ``pod_dir/volumes/``."""

    def __init__(self, registry: RegistryLike, pod_dir: Path, ca_file: Path) -> None:
        self.registry = registry
        self.pod_dir = pod_dir
        self.ca_file = ca_file

    async def setup(self, pod: Obj) -> dict[str, PodVolume]:
        """Return volume name -> ``PodVolume`` for every volume of the pod."""
        out: dict[str, PodVolume] = {}
        fs_group = (pod["spec"].get("securityContext") or {}).get("fsGroup")
        for volume in pod["spec"].get("volumes") or []:
            path, managed = await self._setup_one(pod, volume)
            if managed and fs_group is not None:
                apply_fs_group(path, int(fs_group))
            read_only = any(kind in volume for kind in READ_ONLY_TYPES)
            out[volume["name"]] = PodVolume(path, managed, read_only)
        return out

    async def refresh(self, pod: Obj) -> None:
        """Project configMap, secret, downwardAPI and projected volumes again from the current objects
        (their plugins' RequiresRemount: the kubelet re-runs SetUp at every pod sync). Whole-volume
        mounts see the new files; subPath binds keep the old ones."""
        fs_group = (pod["spec"].get("securityContext") or {}).get("fsGroup")
        for volume in pod["spec"].get("volumes") or []:
            if any(kind in volume for kind in READ_ONLY_TYPES):
                path, _ = await self._setup_one(pod, volume)
                if fs_group is not None:
                    apply_fs_group(path, int(fs_group))

    async def _setup_one(self, pod: Obj, volume: Obj) -> tuple[Path, bool]:
        name = volume["name"]
        namespace = pod["metadata"]["namespace"]
        local = self.pod_dir / "volumes" / name
        if "persistentVolumeClaim" in volume:
            return await self._pvc_dir(namespace, name, volume["persistentVolumeClaim"]["claimName"])
        if "hostPath" in volume:
            path = Path(volume["hostPath"]["path"])
            kind = volume["hostPath"].get("type", "")
            if kind == "DirectoryOrCreate":
                path.mkdir(parents=True, exist_ok=True, mode=0o755)
            elif kind == "FileOrCreate" and not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch(mode=0o644)
            if not path.exists():
                raise VolumeError(
                    f'MountVolume.SetUp failed for volume "{name}" : hostPath type check failed: '
                    f"{path} does not exist"
                )
            return path, False
        if "emptyDir" in volume:
            local.mkdir(parents=True, exist_ok=True)
            local.chmod(0o777)  # emptyDir is world-writable, as the kubelet makes it
            return local, True
        if "configMap" in volume or "secret" in volume:
            _project(local, await self._key_volume(pod, volume))
            return local, True
        if "projected" in volume:
            _project(local, await self._projected(pod, volume))
            return local, True
        if "downwardAPI" in volume:
            spec = volume["downwardAPI"]
            try:
                payload = self._downward(pod, spec.get("items") or [], spec.get("defaultMode", DEFAULT_MODE))
            except VolumeError as exc:
                raise VolumeError(f'MountVolume.SetUp failed for volume "{name}" : {exc}') from None
            _project(local, payload)
            return local, True
        raise VolumeError(f'MountVolume.SetUp failed for volume "{name}" : unsupported volume type')

    async def _pvc_dir(self, namespace: str, volume: str, claim: str) -> tuple[Path, bool]:
        """The bound PV's directory, and whether the PV's plugin manages ownership (fsGroup)."""
        pvc = await get_or_none(self.registry, "persistentvolumeclaims", namespace, claim)
        if pvc is None:
            raise VolumeError(f'persistentvolumeclaim "{claim}" not found')
        pv_name = pvc.get("spec", {}).get("volumeName")
        if not pv_name or pvc.get("status", {}).get("phase") != "Bound":
            raise VolumeError(f'persistentvolumeclaim "{claim}" is not bound')
        pv = await get_or_none(self.registry, "persistentvolumes", None, pv_name)
        source = (pv or {}).get("spec", {})
        path = (source.get("hostPath") or source.get("local") or {}).get("path")
        if not path:
            raise VolumeError(
                f'MountVolume.SetUp failed for volume "{pv_name}" : persistentvolume "{pv_name}" '
                "has no hostPath/local source on this node"
            )
        Path(path).mkdir(parents=True, exist_ok=True)
        return Path(path), _manages_ownership(pv or {})

    async def _key_data(
        self, namespace: str, kind: str, name: str, optional: bool
    ) -> dict[str, bytes] | None:
        resource = "secrets" if kind == "secret" else "configmaps"
        obj = await get_or_none(self.registry, resource, namespace, name)
        if obj is None:
            if name == "kube-root-ca.crt" and kind == "configmap" and self.ca_file.exists():
                return {"ca.crt": self.ca_file.read_bytes()}
            if optional:
                return None
            raise VolumeError(f'{kind} "{name}" not found')
        if kind == "secret":
            return {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
        data = {k: v.encode() for k, v in (obj.get("data") or {}).items()}
        data.update({k: base64.b64decode(v) for k, v in (obj.get("binaryData") or {}).items()})
        return data

    async def _key_volume(self, pod: Obj, volume: Obj) -> atomic_writer.Payload:
        kind = "secret" if "secret" in volume else "configmap"
        spec = volume["secret"] if kind == "secret" else volume["configMap"]
        obj_name = spec.get("secretName") if kind == "secret" else spec.get("name")
        try:
            data = await self._key_data(
                pod["metadata"]["namespace"], kind, obj_name, bool(spec.get("optional"))
            )
            return _key_payload(data or {}, spec.get("items"), spec.get("defaultMode", DEFAULT_MODE), kind)
        except VolumeError as exc:
            raise VolumeError(f'MountVolume.SetUp failed for volume "{volume["name"]}" : {exc}') from None

    async def _projected(self, pod: Obj, volume: Obj) -> atomic_writer.Payload:
        spec = volume["projected"]
        mode = spec.get("defaultMode", DEFAULT_MODE)
        namespace = pod["metadata"]["namespace"]
        payload: atomic_writer.Payload = {}
        for source in spec.get("sources") or []:
            try:
                if "serviceAccountToken" in source:
                    sa = pod["spec"].get("serviceAccountName") or "default"
                    token = await self.registry.service_account_token(namespace, sa)
                    payload[source["serviceAccountToken"]["path"]] = (token.encode(), mode)
                elif "configMap" in source or "secret" in source:
                    kind = "secret" if "secret" in source else "configmap"
                    ref = source["secret"] if kind == "secret" else source["configMap"]
                    data = await self._key_data(namespace, kind, ref["name"], bool(ref.get("optional")))
                    payload.update(_key_payload(data or {}, ref.get("items"), mode, kind))
                elif "downwardAPI" in source:
                    payload.update(self._downward(pod, source["downwardAPI"].get("items") or [], mode))
            except VolumeError as exc:
                raise VolumeError(f'MountVolume.SetUp failed for volume "{volume["name"]}" : {exc}') from None
            except Exception as exc:
                if getattr(exc, "code", None) == 404:
                    raise VolumeError(
                        f'MountVolume.SetUp failed for volume "{volume["name"]}" : failed to fetch token: '
                        f'serviceaccounts "{pod["spec"].get("serviceAccountName")}" not found'
                    ) from None
                raise
        return payload

    @staticmethod
    def _downward(pod: Obj, items: list[Obj], default_mode: int) -> atomic_writer.Payload:
        payload: atomic_writer.Payload = {}
        for item in items:
            if "fieldRef" not in item:
                continue  # resourceFieldRef files are not needed by anything this harness runs
            try:
                value = field_ref(pod, item["fieldRef"]["fieldPath"])
            except EnvError as exc:
                raise VolumeError(str(exc)) from None
            payload[item["path"]] = (value.encode(), item.get("mode", default_mode))
        return payload


def container_mounts(container: Obj, volumes: dict[str, PodVolume], fs_group: int | None) -> list[Mount]:
    """The container's ``volumeMounts`` as bind mounts; ``subPath`` is created when missing."""
    mounts = []
    for vm in container.get("volumeMounts") or []:
        if vm["name"] not in volumes:
            raise VolumeError(f"volume {vm['name']} not found in pod spec")
        volume = volumes[vm["name"]]
        source = volume.path
        sub = vm.get("subPath")
        if sub:
            parts = Path(sub).parts
            if Path(sub).is_absolute() or ".." in parts:
                raise VolumeError(f"subPath {sub!r} must be a relative path without '..'")
            source = source / sub
            if not source.exists():
                # like kubelet's subpath MkdirAll: new dirs take the volume root's permissions
                source.mkdir(parents=True)
                source.chmod(stat.S_IMODE(volume.path.stat().st_mode))
                if volume.managed and fs_group is not None:
                    apply_fs_group(source, fs_group)
        mounts.append(Mount(str(source), vm["mountPath"], bool(vm.get("readOnly")) or volume.read_only))
    return mounts
