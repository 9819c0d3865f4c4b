"""The hub a scenario runs against: one the harness deploys, or one that already exists.

The runner executes every step through this small interface, so "deployed hub on any backend" and
"someone's existing hub" are one code path. What an existing hub cannot do (restart it, know its
namespace) is answered by ``unsupported_reason`` and shown as the step's skip reason.
"""

from __future__ import annotations

import abc
import contextlib
import re
from dataclasses import dataclass, field
from typing import Any

from harness.clusters.base import Cluster, HubVersions, Images
from harness.hub import deploy, manifests
from harness.hub.config import HubConfigInput
from harness.hub.driver import HubClient
from harness.hub.k8s import Kube

#: Users an existing hub may be driven with all start with this; the harness touches no others.
EXISTING_HUB_USER_PREFIX = "jhsc-"


class HubTarget(abc.ABC):
    """A hub plus what the oracles need to look at its cluster objects."""

    #: Shown in the report next to the versions.
    description: str = ""

    @property
    @abc.abstractmethod
    def hub(self) -> HubClient:
        """Client with an admin token, usable after ``setup``."""

    #: Namespace of the users' pods and PVCs (None: unknown, cluster checks are skipped).
    namespace: str | None = None
    kube: Kube | None = None
    images: Images | None = None

    @abc.abstractmethod
    def setup(self) -> None: ...

    @abc.abstractmethod
    def teardown(self, keep: bool) -> None: ...

    def unsupported_reason(self, step_kind: str) -> str | None:
        """Why this target cannot run a kind of step, or None."""
        return None

    def user_name(self, name: str) -> str:
        """The hub user name for a scenario user name."""
        return name

    def object_name(self, name: str) -> str:
        """A Kubernetes object name from the scenario, with user names mapped like ``user_name``."""
        return name

    @abc.abstractmethod
    def restart_hub(self, versions: HubVersions | None) -> None:
        """Restart the hub process, switching to the hub image of ``versions`` when given."""

    @abc.abstractmethod
    def reconnect(self) -> None:
        """Re-establish access after the cluster restarted (port-forwards die with the node)."""


@dataclass
class DeployedHub(HubTarget):
    """A hub the harness deploys into a fresh, labelled namespace and deletes afterwards."""

    cluster: Cluster
    versions: HubVersions
    kube_: Kube
    namespace_: str
    kubespawner_config: dict[str, Any]
    hub_config: dict[str, Any]
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    _client: HubClient | None = None
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
        deploy.create_namespace(self.kube_, self.namespace_)
        config = HubConfigInput(
            namespace=self.namespace_,
            singleuser_image=self.images.singleuser,
            pull_policy=self.images.pull_policy,
            kubespawner=self.kubespawner_config,
            hub_config=self.hub_config,
        )
        self.deployment = deploy.deploy_hub(self.kube_, self.namespace_, self.images, config)
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
                ("KubeSpawner", self.spawner_version, self.versions.kubespawner),
            )
            if have != want
        ]
        if wrong:
            image = self.images.hub if self.images else "?"
            raise RuntimeError(f"hub image {image} runs {' and '.join(wrong)}")

    def restart_hub(self, versions: HubVersions | None) -> None:
        images = self.cluster.images(versions) if versions is not None else None
        deploy.restart_hub(self.kube_, self.namespace_, images.hub if images else None)
        if images is not None and versions is not None:
            self.images, self.versions = images, versions
        self._check_versions()

    def reconnect(self) -> None:
        deploy.wait_hub_ready(self.kube_, self.namespace_, timeout=300)
        self._connect()

    def teardown(self, keep: bool) -> None:
        try:
            if self._client is not None:
                self._client.close()
            self._stack.close()
        finally:
            if not keep:
                deploy.delete_namespace(self.kube_, self.namespace_, wait=True)


@dataclass
class ExistingHub(HubTarget):
    """A hub someone else runs (--hub-url/--hub-token); only ``jhsc-`` users are ever touched."""

    url: str
    token: str
    namespace_: str | None = None
    kube_: Kube | None = None
    images_: Images | None = None
    scenario_users: tuple[str, ...] = ()
    _client: HubClient | None = None

    def __post_init__(self) -> None:
        self.namespace = self.namespace_
        self.kube = self.kube_ if self.namespace_ else None
        self.images = self.images_
        self.description = f"existing hub at {self.url}"

    @property
    def hub(self) -> HubClient:
        if self._client is None:
            raise RuntimeError("hub is not set up")
        return self._client

    def setup(self) -> None:
        self._client = HubClient(self.url, self.token)
        version = self._client.wait_up(timeout=60).get("version", "")
        self.description = f"existing JupyterHub {version} at {self.url}"

    def teardown(self, keep: bool) -> None:
        """Delete the run's ``jhsc-`` users (their servers and, per the hub's delete_pvc, PVCs)."""
        if self._client is None:
            return
        try:
            if not keep:
                for user in self.scenario_users:
                    self._client.delete_user(self.user_name(user))
        finally:
            self._client.close()
            self._client = None

    def unsupported_reason(self, step_kind: str) -> str | None:
        if step_kind in ("restart_hub", "restart_cluster"):
            return f"{step_kind} needs a hub the harness deployed (running against an existing hub)"
        if step_kind in ("expect_pvc", "expect_mount") and self.namespace is None:
            return f"{step_kind} needs the existing hub's user namespace (--hub-namespace)"
        return None

    def user_name(self, name: str) -> str:
        return name if name.startswith(EXISTING_HUB_USER_PREFIX) else EXISTING_HUB_USER_PREFIX + name

    def object_name(self, name: str) -> str:
        """Rewrite whole-word scenario user names (``claim-alice`` -> ``claim-jhsc-alice``)."""
        for user in sorted(self.scenario_users, key=len, reverse=True):
            name = re.sub(rf"(?<![a-z0-9_]){re.escape(user)}(?![a-z0-9_])", self.user_name(user), name)
        return name

    def restart_hub(self, versions: HubVersions | None) -> None:
        raise RuntimeError(self.unsupported_reason("restart_hub"))

    def reconnect(self) -> None:
        self.teardown(keep=True)
        self.setup()
