"""``existing`` backend: any cluster a kubeconfig points at (a real cluster, realk8s, minikube, ...).

The harness only ever touches namespaces it creates (labelled managed-by), never builds or loads
images (the user names them, with ``{kubespawner}``/``{jupyterhub}`` placeholders for the matrix),
and restarts the cluster only when allowed and told how (``--allow-cluster-restart`` plus a command).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.clusters.base import Cluster, ClusterError, HubVersions, Images
from harness.clusters.images_common import format_image
from harness.clusters.kube import Kube, wait_for
from harness.clusters.nodes import nodes_problem, ready_heartbeats
from harness.clusters.portforward import service_port_forward

if TYPE_CHECKING:
    from harness.options import HarnessOptions

DEFAULT_READER_IMAGE = "busybox:1.36"
#: How long a restarted cluster has to answer again with every node Ready.
RESTART_TIMEOUT = 300.0


class ExistingBackend(Cluster):
    """A cluster that exists already (``--cluster existing``)."""

    backend = "existing"

    def __init__(self, options: HarnessOptions) -> None:
        self.options = options
        path = options.kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
        self._kubeconfig = Path(path or Path.home() / ".kube" / "config").expanduser()
        self._context: str | None = options.context
        self._kube: Kube | None = None

    @property
    def kubeconfig(self) -> Path:
        return self._kubeconfig

    @property
    def context(self) -> str | None:
        return self._context

    @property
    def kube(self) -> Kube:
        if self._kube is None:
            self._kube = Kube.from_kubeconfig(self._kubeconfig, self._context)
        return self._kube

    def start(self) -> None:
        if not self._kubeconfig.is_file():
            raise ClusterError(f"kubeconfig {self._kubeconfig} does not exist (--kubeconfig or KUBECONFIG)")
        try:
            self.kube.core.list_namespace(limit=1)
        except Exception as exc:
            raise ClusterError(f"cannot reach the cluster of {self._kubeconfig}: {exc}") from exc

    def stop(self) -> None:
        """Nothing to undo: the harness never created this cluster (its namespaces go with each scenario)."""
        self._kube = None

    def images(self, versions: HubVersions) -> Images:
        hub, singleuser = self.options.hub_image, self.options.singleuser_image
        if versions.kubespawner_source is not None and not hub:
            raise ClusterError(
                f"--kubespawner-source on the existing backend needs --hub-image: an image with KubeSpawner "
                f"installed from {versions.kubespawner_source.path} (the harness builds hub images only on "
                "embedded and kind)"
            )
        if not hub or not singleuser:
            raise ClusterError("the existing backend needs --hub-image and --singleuser-image")
        hub_ref = format_image(hub, versions)
        proxy = self.options.proxy_image
        return Images(
            hub=hub_ref,
            proxy=format_image(proxy, versions) if proxy else hub_ref,
            singleuser=format_image(singleuser, versions),
            reader=self.options.reader_image or DEFAULT_READER_IMAGE,
            pull_policy=self.options.image_pull_policy or "IfNotPresent",
        )

    @contextlib.contextmanager
    def service_url(self, namespace: str, service: str, port: int) -> Iterator[str]:
        mode = self.options.service_access or "clusterip"
        if mode == "port-forward":
            with service_port_forward(self.kube, namespace, service, port) as url:
                yield url
            return
        if mode != "clusterip":
            raise ClusterError(f"unknown service access {mode!r}; expected 'clusterip' or 'port-forward'")
        svc = self.kube.get("service", namespace, service)
        ip = (svc or {}).get("spec", {}).get("clusterIP")
        if not ip or ip == "None":
            raise ClusterError(f"Service {namespace}/{service} has no ClusterIP")
        yield f"http://{ip}:{port}"

    def host_path_dir(self) -> str | None:
        """Only where the user says (--host-path-dir): the harness cannot know which node dirs are free."""
        return self.options.host_path_dir

    def restart_unsupported_reason(self) -> str | None:
        if not self.options.allow_cluster_restart:
            return "restarting an existing cluster needs --allow-cluster-restart"
        if not self.options.cluster_restart_command:
            return "--allow-cluster-restart needs --cluster-restart-command (how to restart this cluster)"
        return None

    def shared_use_key(self) -> str:
        """Its API server (and context): what every worker and every run on this host pointed here share."""
        return f"{self.kube.api.configuration.host} {self._context or ''}".rstrip()

    def restart(self) -> None:
        reason = self.restart_unsupported_reason()
        if reason:
            raise ClusterError(reason)
        command = self.options.cluster_restart_command or ""
        before = ready_heartbeats(self.kube.list("node", None))
        result = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            raise ClusterError(
                f"cluster restart command failed ({result.returncode}): {result.stderr[-2000:]}"
            )
        self._kube = None
        what = "the API server and every node to report Ready again after the restart"
        deadline = time.monotonic() + RESTART_TIMEOUT
        # while the API server is down no watch can tell when it is back: only this part polls
        wait_for(what, self._api_answers, timeout=RESTART_TIMEOUT, interval=2)
        seen: list[str] = ["no node list yet"]

        def back(nodes: list[dict[str, Any]]) -> bool | None:
            seen[0] = nodes_problem(nodes, before) or "all back"
            return True if seen[0] == "all back" else None

        remaining = max(deadline - time.monotonic(), 1.0)
        self.kube.watch_until(what, "node", None, back, remaining, last=lambda: seen[0])

    def _api_answers(self) -> bool | None:
        try:
            self.kube.core.list_namespace(limit=1)
        except Exception:
            self._kube = None  # a new client: the restart may have left the old connections dead
            return None
        return True
