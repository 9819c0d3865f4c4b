"""The hub the harness deploys into a fresh, labelled namespace of the session's cluster.

Split from ``harness.hub.target`` (the interface): deploying, restarting with a config change or a new
hub image, and deleting the namespace again are this target's alone.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from typing import Any

from harness.clusters.base import Cluster, HubVersions
from harness.clusters.kube import Kube
from harness.hub import deploy, manifests
from harness.hub.config import HubConfigInput, merged_config, render_hub_config
from harness.hub.driver import HubClient
from harness.hub.settings import ConfigChange, HubSettings, TraitDiff, diff
from harness.hub.static_storage import StaticVolumes
from harness.hub.target import HubTarget


@dataclass
class DeployedHub(HubTarget):
    """A hub the harness deploys into a fresh, labelled namespace and deletes afterwards."""

    cluster: Cluster
    versions: HubVersions
    kube_: Kube
    namespace_: str
    #: The scenario's config at deploy time; ``restart_hub`` replaces it with the config in force.
    config: HubSettings = field(default_factory=HubSettings)
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    _client: HubClient | None = None
    #: What the rendered config was made from (``config`` plus images and namespace).
    _config_input: HubConfigInput | None = None
    deployment: deploy.HubDeployment | None = None
    hub_version: str = ""
    spawner_version: str = ""

    def __post_init__(self) -> None:
        self.namespace = self.namespace_
        self.kube = self.kube_

    @property
    def hub(self) -> HubClient:
        if self._client is None:
            raise RuntimeError("hub is not set up")
        return self._client

    def setup(self) -> None:
        self.images = self.cluster.images(self.versions)
        host_dir = self.cluster.host_path_dir()
        if host_dir is not None:
            self.static_volumes = StaticVolumes(self.kube_, self.namespace_, host_dir, self.images)
        deploy.create_namespace(self.kube_, self.namespace_)
        self._config_input = HubConfigInput(
            namespace=self.namespace_,
            singleuser_image=self.images.singleuser,
            pull_policy=self.images.pull_policy,
            kubespawner=self.config.kubespawner,
            hub_config=self.config.hub_config,
        )
        self.deployment = deploy.deploy_hub(self.kube_, self.namespace_, self.images, self._config_input)
        deploy.wait_hub_ready(self.kube_, self.namespace_)
        self._connect()

    def _connect(self) -> None:
        if self._client is not None:
            self._client.close()
        self._stack.close()
        self._stack = contextlib.ExitStack()
        assert self.deployment is not None
        url = self._stack.enter_context(
            self.cluster.service_url(self.namespace_, "proxy-public", manifests.PROXY_PUBLIC_PORT)
        )
        self._client = HubClient(url, self.deployment.harness_token)
        self._check_versions()

    def _check_versions(self) -> None:
        """Ask the running hub which releases it runs; a mismatch would make the matrix cell a lie."""
        self.hub_version = str(self.hub.wait_up(timeout=180).get("version", ""))
        spawner = self.hub.info().get("spawner") or {}
        self.spawner_version = str(spawner.get("version", ""))
        self.description = (
            f"JupyterHub {self.hub_version}, KubeSpawner {self.spawner_version} in {self.namespace_}"
        )
        wrong = [
            f"{name} {have} (expected {want})"
            for name, have, want in (
                ("JupyterHub", self.hub_version, self.versions.jupyterhub),
                ("KubeSpawner", self.spawner_version, self.versions.kubespawner_reported),
            )
            if have != want
        ]
        if wrong:
            image = self.images.hub if self.images else "?"
            raise RuntimeError(f"hub image {image} runs {' and '.join(wrong)}")

    def restart_hub(
        self, versions: HubVersions | None, change: ConfigChange | None = None
    ) -> list[TraitDiff]:
        """One restart: new ConfigMap + image in one rollout of the hub Deployment.

        The single-user image stays what the hub was deployed with: an upgrade here is of the hub
        (KubeSpawner/JupyterHub), as when an admin rebuilds the hub image.
        """
        if self._config_input is None or self.deployment is None:
            raise RuntimeError("hub is not set up")
        images = self.cluster.images(versions) if versions is not None else None
        config_text: str | None = None
        diffs: list[TraitDiff] = []
        if change:
            before = self._config_input
            settings = self.config.changed(change)
            after = replace(before, kubespawner=settings.kubespawner, hub_config=settings.hub_config)
            diffs = diff(merged_config(before), merged_config(after), change)
            config_text = render_hub_config(after)
            # the config in force from here on, also for the diagnostics of a restart that fails
            self._config_input, self.config = after, settings
            self.deployment = replace(self.deployment, config_text=config_text)
        deploy.restart_hub(
            self.kube_, self.namespace_, images.hub if images else None, config_text=config_text
        )
        if images is not None and versions is not None:
            self.images, self.versions = images, versions
        self._check_versions()
        return diffs

    def effective_config(self) -> dict[str, dict[str, Any]] | None:
        return merged_config(self._config_input) if self._config_input is not None else None

    def reconnect(self) -> None:
        deploy.wait_hub_ready(self.kube_, self.namespace_, timeout=300)
        self._connect()

    def unsupported_reason(self, step_kind: str) -> str | None:
        if step_kind == "create_pv" and self.static_volumes is None:
            return (
                f"create_pv needs a node directory for hostPath volumes, and the {self.cluster.backend} "
                "cluster names none (--host-path-dir)"
            )
        return None

    def teardown(self, keep: bool) -> None:
        try:
            if self._client is not None:
                self._client.close()
            self._stack.close()
        finally:
            if not keep:
                self._delete_everything()

    def _delete_everything(self) -> None:
        """Pods first, then the node directories they used, the namespace, and the cluster-wide PVs
        (which the namespace does not take with it); each step also when an earlier one failed."""
        static = self.static_volumes
        try:
            if static is not None and static.created:
                deploy.delete_workloads(self.kube_, self.namespace_)
                static.remove_dirs()
        finally:
            try:
                deploy.delete_namespace(self.kube_, self.namespace_, wait=True)
            finally:
                if static is not None:
                    static.delete_volumes()
