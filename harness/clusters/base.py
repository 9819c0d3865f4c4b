"""The one seam between "where the cluster is" and everything the harness does on it.

Deploy, drive and check code (harness/hub, harness/checks, harness/runner.py) only ever talks to a
``Cluster``.  Backends differ in exactly five things, and nothing else may leak out of them:
how the cluster comes up and goes away, how images get there, how the runner reaches a Service,
how a node restarts, and which node directory may hold hostPath volumes (``create_pv``).
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.clusters.source_tree import SourceTree

#: Label put on every namespace and object the harness creates; teardown deletes only by it.
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "jupyterhub-storage-conformance"


@dataclass(frozen=True)
class HubVersions:
    """One matrix row: the KubeSpawner release under test and the JupyterHub it runs with.

    With ``kubespawner_source`` the hub installs KubeSpawner from that tree instead of a release;
    ``kubespawner`` is then the tree's version marked as a source build (``7.1.0+source``): what
    version gates judge (specifiers ignore the ``+source``) and what the matrix column shows.
    """

    kubespawner: str
    jupyterhub: str
    kubespawner_source: SourceTree | None = None

    @classmethod
    def of_source(cls, tree: SourceTree, jupyterhub: str) -> HubVersions:
        return cls(kubespawner=tree.label, jupyterhub=jupyterhub, kubespawner_source=tree)

    @property
    def kubespawner_reported(self) -> str:
        """What the running KubeSpawner says it is (``kubespawner.__version__``): no source mark."""
        return self.kubespawner_source.version if self.kubespawner_source else self.kubespawner

    @property
    def slug(self) -> str:
        # "+" is not a file-name or test-id character the results files accept
        kubespawner = self.kubespawner.replace("+", "-")
        return f"kubespawner-{kubespawner}-jupyterhub-{self.jupyterhub}"


@dataclass(frozen=True)
class Images:
    """Image references as pods will name them, plus the pull policy they need on this backend."""

    hub: str
    proxy: str
    singleuser: str
    reader: str
    pull_policy: str = "IfNotPresent"


class ClusterError(RuntimeError):
    """A backend could not do what was asked; the message says what, and what to do about it."""


class Cluster(abc.ABC):
    """A Kubernetes cluster the harness may create namespaces in."""

    #: "embedded", "kind" or "existing": appears in test ids and reports.
    backend: str

    @property
    @abc.abstractmethod
    def kubeconfig(self) -> Path:
        """Path of a kubeconfig whose current (or ``context``) context is the cluster."""

    @property
    def context(self) -> str | None:
        return None

    @abc.abstractmethod
    def start(self) -> None:
        """Create or attach to the cluster and wait until it can run pods with PVCs."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Undo what ``start`` created (unless the user asked to keep it)."""

    @abc.abstractmethod
    def images(self, versions: HubVersions) -> Images:
        """Make the images for this matrix row available to pods and return their references.

        Must be idempotent and cheap the second time (cached by tag / by environment).
        """

    @abc.abstractmethod
    @contextlib.contextmanager
    def service_url(self, namespace: str, service: str, port: int) -> Iterator[str]:
        """Yield a base URL (``http://host:port``) on which the runner reaches a Service port."""

    def restart_unsupported_reason(self) -> str | None:
        """Why ``restart`` cannot run here (shown as the skip reason), or None when it can."""
        return None

    def shared_use_key(self) -> str | None:
        """The identity of this cluster when other processes may be using it at the same time, else None.

        With a key, scenarios take turns (``clusters/shared_use.py``): one that restarts the cluster
        runs alone. The embedded and kind backends start a cluster per xdist worker, so they need none.
        """
        return None

    @abc.abstractmethod
    def restart(self) -> None:
        """Restart the node(s) the way a reboot would, keeping API objects and volume data."""

    def host_path_dir(self) -> str | None:
        """An absolute directory on the node(s) where ``create_pv`` may make hostPath volumes, or None.

        Only the place differs per backend: the harness makes and removes ``<dir>/<namespace>/<pv>``
        through a pod that mounts ``<dir>``, the same way on every backend (hub/static_storage.py).
        None makes ``create_pv`` steps skip with the reason.
        """
        return None

    def __enter__(self) -> Cluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
