"""The embedded cluster as a harness backend: what differs from kind/existing, and nothing more.

Cluster creation is ``EmbeddedCluster``; "images" are cached environments registered in the
cluster's image map; Services are reached on their ClusterIP, which the embedded kube-proxy
serves on the host; a restart is the cluster process going down and up on the same data dir.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.version import Version

from harness.clusters.base import Cluster, ClusterError, HubVersions, Images
from harness.clusters.embedded import envs
from harness.clusters.embedded.images import ImageEntry, ImageMap
from harness.clusters.images_common import CHP_NPM_PACKAGE, CHP_VERSION
from harness.clusters.source_tree import SourceTree

if TYPE_CHECKING:
    from harness.clusters.embedded.cluster import EmbeddedCluster
    from harness.options import HarnessOptions

REGISTRY = "harness.local"


def hub_requirements(versions: HubVersions) -> list[str]:
    """The hub's releases; a source build's KubeSpawner comes from its tree (``hub_recipe``) instead."""
    if versions.kubespawner_source is not None:
        return [f"jupyterhub=={versions.jupyterhub}"]
    return [f"jupyterhub=={versions.jupyterhub}", f"jupyterhub-kubespawner=={versions.kubespawner}"]


def hub_recipe(versions: HubVersions) -> envs.EnvRecipe:
    tree = versions.kubespawner_source
    if tree is None:
        return envs.python_env(
            f"hub-ks-{versions.kubespawner}-jh-{versions.jupyterhub}", hub_requirements(versions)
        )
    return envs.source_env(
        f"hub-ks-{tree.version}-source-jh-{versions.jupyterhub}", hub_requirements(versions), tree
    )


def singleuser_requirements(versions: HubVersions) -> list[str]:
    return [f"jupyterhub=={versions.jupyterhub}", "jupyter-server>=2"]


class EmbeddedBackend(Cluster):
    backend = "embedded"

    def __init__(self, options: HarnessOptions) -> None:
        self._options = options
        self._made_data_dir = False
        self._data_dir: Path | None = None
        self._cluster: EmbeddedCluster | None = None

    @property
    def data_dir(self) -> Path:
        if self._data_dir is None:
            raise ClusterError("the embedded cluster has not been started")
        return self._data_dir

    @property
    def kubeconfig(self) -> Path:
        return self._running().kubeconfig

    def start(self) -> None:
        from harness.clusters.embedded.cluster import EPHEMERAL_MARKER, EmbeddedCluster

        wanted = getattr(self._options, "data_dir", None)
        if wanted:
            self._data_dir = Path(wanted)
            self._data_dir.mkdir(parents=True, exist_ok=True)
        else:
            self._data_dir = Path(tempfile.mkdtemp(prefix="jhsc-embedded-", dir="/var/tmp"))
            self._made_data_dir = True
            if not self._options.keep_cluster:
                (self._data_dir / EPHEMERAL_MARKER).touch()
        # A cluster the user did not ask to keep goes when this process goes, however it ends.
        self._cluster = EmbeddedCluster(self._data_dir, die_with_parent=not self._options.keep_cluster)
        self._cluster.start()

    def stop(self) -> None:
        if self._cluster is not None:
            self._cluster.stop()
            self._cluster = None
        if self._made_data_dir and self._data_dir is not None and not self._options.keep_cluster:
            shutil.rmtree(self._data_dir, ignore_errors=True)

    def images(self, versions: HubVersions) -> Images:
        image_map = ImageMap(self.data_dir)
        refs = []
        for ref, entry in (hub_image(versions), proxy_image(), singleuser_image(versions), reader_image()):
            image_map.put(ref, entry)
            refs.append(ref)
        hub, proxy, singleuser, reader = refs
        return Images(hub=hub, proxy=proxy, singleuser=singleuser, reader=reader, pull_policy="IfNotPresent")

    @contextlib.contextmanager
    def service_url(self, namespace: str, service: str, port: int) -> Iterator[str]:
        """The embedded kube-proxy serves every ClusterIP on the host itself: no port-forward needed."""
        from kubernetes import client, config

        api = client.CoreV1Api(config.new_client_from_config(str(self.kubeconfig)))
        svc = api.read_namespaced_service(service, namespace)
        ip = svc.spec.cluster_ip if svc.spec is not None else None
        if not ip or ip == "None":
            raise ClusterError(f"service {namespace}/{service} has no ClusterIP")
        yield f"http://{ip}:{port}"

    def host_path_dir(self) -> str | None:
        """Under the data dir: the node is this host, and the directory goes with the cluster."""
        return str(self.data_dir / "static-volumes")

    def restart(self) -> None:
        cluster = self._running()
        cluster.stop()
        cluster.start()

    def _running(self) -> EmbeddedCluster:
        if self._cluster is None:
            raise ClusterError("the embedded cluster has not been started")
        return self._cluster


def _strs(paths: list[Path]) -> list[str]:
    return [str(p) for p in paths]


# The harness's images, each an environment plus the config its kind twin's Dockerfile
# (fixtures/images/*/Dockerfile) gives it: USER, WORKDIR, ENV, CMD/ENTRYPOINT, its user in /etc/passwd.
def hub_image(versions: HubVersions) -> tuple[str, ImageEntry]:
    """JupyterHub + KubeSpawner: USER 1000:100 (jovyan), WORKDIR /srv/jupyterhub.

    A source build's reference carries its content key, as an image built from it would its digest.
    """
    recipe = hub_recipe(versions)
    path = envs.ensure_env(recipe)
    tag = f"ks-{versions.kubespawner}-jh-{versions.jupyterhub}"
    if versions.kubespawner_source is not None:
        _check_installed(versions.kubespawner_source, path)
        tag = f"ks-{versions.kubespawner_source.version}-source-{recipe.source_key}-jh-{versions.jupyterhub}"
    return f"{REGISTRY}/hub:{tag}", ImageEntry(
        path=_strs(path),
        passwd_user="jovyan",
        user="1000:100",
        workdir="/srv/jupyterhub",
    )


def _check_installed(tree: SourceTree, path: list[Path]) -> None:
    """The environment's KubeSpawner metadata must say the version the tree was read as: the version
    gates and the column are that version, so a tree that installs another would make them lie."""
    installed = envs.installed_version(path[0].parent, "jupyterhub-kubespawner")
    if installed is None or Version(installed) != Version(tree.version):
        raise ClusterError(
            f"KubeSpawner from {tree.path} installed as version {installed or 'nothing'}, but the tree says "
            f"{tree.version}: its version file and PKG-INFO (of an sdist) must agree"
        )


def proxy_image() -> tuple[str, ImageEntry]:
    """configurable-http-proxy from npm: USER 65534:65534, ENTRYPOINT configurable-http-proxy."""
    return f"{REGISTRY}/configurable-http-proxy:{CHP_VERSION}", ImageEntry(
        path=_strs(envs.ensure_env(envs.npm_env("chp", [CHP_NPM_PACKAGE]))),
        command=["configurable-http-proxy"],
        user="65534:65534",
    )


def singleuser_image(versions: HubVersions) -> tuple[str, ImageEntry]:
    """The single-user server: docker-stacks conventions (jovyan 1000:100, HOME and WORKDIR
    /home/jovyan, CMD jupyterhub-singleuser)."""
    recipe = envs.python_env(f"singleuser-jh-{versions.jupyterhub}", singleuser_requirements(versions))
    return f"{REGISTRY}/singleuser:jh-{versions.jupyterhub}", docker_stacks_entry(envs.ensure_env(recipe))


def docker_stacks_entry(path: list[Path], env: dict[str, str] | None = None) -> ImageEntry:
    """An image of the docker-stacks conventions (jovyan 1000:100, HOME and WORKDIR /home/jovyan,
    CMD jupyterhub-singleuser) whose environment is ``path``; ``env`` adds to its ENV."""
    return ImageEntry(
        path=_strs(path),
        env={
            "HOME": "/home/jovyan",
            "USER": "jovyan",
            "NB_USER": "jovyan",
            "NB_UID": "1000",
            "NB_GID": "100",
            **(env or {}),
        },
        command=["jupyterhub-singleuser"],
        passwd_user="jovyan",
        user="1000:100",
        workdir="/home/jovyan",
    )


def reader_image() -> tuple[str, ImageEntry]:
    """The PVC reader only needs coreutils, which every host has on the default PATH (root, WORKDIR /,
    as busybox)."""
    return f"{REGISTRY}/reader:host", ImageEntry(path=[])
