"""The hub a scenario runs against: one the harness deploys, or one that already exists.

The runner executes every step through this small interface, so "deployed hub on any backend" and
"someone's existing hub" are one code path. What an existing hub cannot do (restart it, know its
namespace) is answered by ``unsupported_reason`` and shown as the step's skip reason.
"""

from __future__ import annotations

import abc
import contextlib
import re
from dataclasses import dataclass, field, replace
from typing import Any

from harness.clusters.base import Cluster, HubVersions, Images
from harness.clusters.kube import Kube
from harness.hub import deploy, manifests, slugs
from harness.hub.config import HubConfigInput, merged_config, render_hub_config
from harness.hub.driver import HubClient
from harness.hub.settings import ConfigChange, HubSettings, TraitDiff, diff
from harness.hub.static_storage import StaticVolumes

#: Steps that change the cluster behind the hub's back, as an admin's kubectl would.
OUT_OF_BAND_STEPS: tuple[str, ...] = ("delete_pvc", "delete_pod", "resize_pvc", "create_pv", "create_pvc")

#: Users an existing hub may be driven with all start with this; the harness touches no others.
EXISTING_HUB_USER_PREFIX = "jhsc-"

#: KubeSpawner's annotation (raw user name) and label (its slug) on the pods and PVCs it makes.
USERNAME_KEY = "hub.jupyter.org/username"

#: Name characters: a user name or slug only matches where it is not part of a longer word.
_BEFORE, _AFTER = r"(?<![A-Za-z0-9_])", r"(?![A-Za-z0-9_])"


@dataclass(frozen=True)
class NameMapping:
    """A Kubernetes object name from a scenario and the name it has on the hub under test.

    Kept together so every message about the object can say both: a failure on an existing hub
    must show that ``claim-alice`` was looked for as ``claim-jhsc-alice``, and why.
    """

    scenario: str
    hub: str
    #: How the hub name was derived (slug scheme and the evidence for it); "" on a deployed hub.
    reason: str = ""
    #: PVC names the hub's spawner state records for the run's users ("user/server: name").
    hub_pvcs: tuple[str, ...] = ()

    def progress_note(self) -> str:
        return f"; as {self.hub} (mapped from {self.scenario})" if self.hub != self.scenario else ""

    def failure_note(self) -> str:
        if not self.reason:
            return ""
        if self.hub == self.scenario:
            note = f" [scenario name {self.scenario} was used unmapped: {self.reason}"
        else:
            note = f" [scenario name {self.scenario} was mapped to {self.hub}: {self.reason}"
        if self.hub_pvcs:
            note += "; the hub's spawner state records PVC(s) " + ", ".join(self.hub_pvcs)
        return note + "]"


class HubTarget(abc.ABC):
    """A hub plus what the oracles need to look at its cluster objects."""

    #: Shown in the report next to the versions.
    description: str = ""

    @property
    @abc.abstractmethod
    def hub(self) -> HubClient:
        """Client with an admin token, usable after ``setup``."""

    #: The releases in force: what the harness deployed (``restart_hub`` changes it) or what an
    #: existing hub reports it runs. Version gates of steps follow these, and nothing else keeps a copy.
    versions: HubVersions
    #: The scenario-level config in force (``restart_hub`` config changes update it), next to the
    #: versions for the same reason: checks that depend on config (``notebook_dir``, ``working_dir``,
    #: the server's uid) read it here, never the scenario's initial ``kubespawner:``.
    config: HubSettings = HubSettings()
    #: Namespace of the users' pods and PVCs (None: unknown, cluster checks are skipped).
    namespace: str | None = None
    kube: Kube | None = None
    images: Images | None = None
    #: The run's pre-provisioned PVs (``create_pv``); None where the target cannot make them.
    static_volumes: StaticVolumes | None = None

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

    def in_diagnostics(self, user: str | None) -> bool:
        """Whether diagnostics may show a hub user's model, pods and PVCs (None: not a user's object)."""
        return True

    def object_name(self, name: str) -> str:
        """A Kubernetes object name from the scenario, with user names mapped like ``user_name``."""
        return name

    def resolve_name(self, name: str) -> NameMapping:
        """``object_name`` plus how it was derived, using what the hub reports now."""
        return NameMapping(name, self.object_name(name))

    def is_run_object(self, obj: dict[str, Any]) -> bool:
        """Whether a user object (a PVC) belongs to this run, so state checks may count and touch it."""
        return True

    @abc.abstractmethod
    def restart_hub(
        self, versions: HubVersions | None, change: ConfigChange | None = None
    ) -> list[TraitDiff]:
        """Restart the hub once: with the hub image of ``versions`` and/or ``change`` applied to
        ``config`` when given. Returns the effective before/after of every trait ``change`` names."""

    def effective_config(self) -> dict[str, dict[str, Any]] | None:
        """The config the hub runs with, harness defaults included (None: not the harness's to know)."""
        return None

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
                ("KubeSpawner", self.spawner_version, self.versions.kubespawner),
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


@dataclass
class ExistingHub(HubTarget):
    """A hub someone else runs (--hub-url/--hub-token); only ``jhsc-`` users are ever touched."""

    url: str
    token: str
    #: The options' releases until the hub reports its own (``setup``).
    versions: HubVersions
    namespace_: str | None = None
    kube_: Kube | None = None
    images_: Images | None = None
    scenario_users: tuple[str, ...] = ()
    #: Server names the scenario uses ("" is the default server): they are part of some object names.
    scenario_servers: tuple[str, ...] = ("",)
    #: What the scenario says of the hub's config (not applied to it: the hub has its own).
    config: HubSettings = field(default_factory=HubSettings)
    #: KubeSpawner slug scheme of the hub, and why the harness believes so (set by ``setup``).
    slug_scheme: str = "safe"
    slug_evidence: str = "assumed: KubeSpawner 7's default"
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
        self._connect()
        # A run that was killed (or kept with --keep-cluster) leaves its jhsc- users, maybe with
        # servers running; starting them again would fail or test stale state, so start clean.
        leftovers = [
            name for name in map(self.user_name, self.scenario_users) if self.hub.get_user(name) is not None
        ]
        for name in leftovers:
            self.hub.delete_user(name)
        if leftovers:
            self.description += f"; removed leftover user(s) of an earlier run: {', '.join(leftovers)}"

    def _connect(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = HubClient(self.url, self.token)
        version = self._client.wait_up(timeout=60).get("version", "")
        spawner = self._client.info().get("spawner") or {}
        spawner_version = str(spawner.get("version") or "")
        spawner_name = str(spawner.get("class") or "spawner")
        self.description = f"existing JupyterHub {version} ({spawner_name} {spawner_version}) at {self.url}"
        if spawner_version and "kubespawner" in spawner_name.lower():
            self.slug_scheme = slugs.default_scheme(spawner_version)
            self.slug_evidence = f"the default of KubeSpawner {spawner_version}, which the hub runs"
            if version:
                # gates such as `kubespawner: "<7"` are about the hub under test, not the local install
                self.versions = HubVersions(kubespawner=spawner_version, jupyterhub=str(version))

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
        if step_kind in ("restart_hub", "upgrade_chart", "restart_cluster"):
            return f"{step_kind} needs a hub the harness deployed (running against an existing hub)"
        if step_kind in OUT_OF_BAND_STEPS:
            return (
                f"{step_kind} changes the cluster behind the hub's back: it needs a hub the harness "
                "deployed (running against an existing hub)"
            )
        if step_kind in ("expect_pvc", "expect_pvcs", "expect_mount") and self.namespace is None:
            return f"{step_kind} needs the existing hub's user namespace (--namespace)"
        return None

    def user_name(self, name: str) -> str:
        return name if name.startswith(EXISTING_HUB_USER_PREFIX) else EXISTING_HUB_USER_PREFIX + name

    def in_diagnostics(self, user: str | None) -> bool:
        """Only the run's own users: other people's servers, logs and PVCs stay out of CI artifacts."""
        return user is None or user.startswith(EXISTING_HUB_USER_PREFIX)

    def is_run_object(self, obj: dict[str, Any]) -> bool:
        """Only the run's users' objects, by KubeSpawner's username annotation (raw name, every
        release) or, failing that, its username label (the name's slug under either scheme)."""
        meta = obj.get("metadata") or {}
        hub_users = [self.user_name(u) for u in self.scenario_users]
        annotated = (meta.get("annotations") or {}).get(USERNAME_KEY)
        if annotated is not None:
            return annotated in hub_users
        label = (meta.get("labels") or {}).get(USERNAME_KEY)
        return label is not None and any(
            label == slugs.template_values(user, "", scheme)["username"]
            for user in hub_users
            for scheme in slugs.SCHEMES
        )

    def _replacements(self, scheme: str) -> dict[str, str]:
        """Scenario name piece -> hub name piece, for every user/server pair of the scenario.

        The raw user name comes first so the slug forms (what templates use) win where they clash.
        """
        out: dict[str, str] = {}
        for user in self.scenario_users:
            mapped = self.user_name(user)
            if mapped != user:
                out[user] = mapped
            for server in self.scenario_servers:
                ours, theirs = (slugs.template_values(u, server, scheme) for u in (user, mapped))
                out.update({ours[key]: theirs[key] for key in ours if ours[key] != theirs[key]})
        return out

    def _mapped(self, name: str, scheme: str) -> str:
        table = self._replacements(scheme)
        if not table:
            return name
        words = "|".join(re.escape(w) for w in sorted(table, key=len, reverse=True))
        return re.sub(f"{_BEFORE}({words}){_AFTER}", lambda m: table[m.group(1)], name)

    def object_name(self, name: str) -> str:
        """The hub's name for a scenario object name: user names and their KubeSpawner slugs mapped.

        ``claim-alice`` -> ``claim-jhsc-alice`` (``claim-jhsc-2dalice`` under the escape scheme);
        ``claim-carol-x---<hash of carol_x>`` -> ``claim-jhsc-carol-x---<hash of jhsc-carol_x>``.
        """
        return self._mapped(name, self.slug_scheme)

    def _recorded_pvcs(self) -> dict[str, str]:
        """``user/server`` -> the PVC name KubeSpawner saved in the server's state (what it really used)."""
        if self._client is None:
            return {}
        found: dict[str, str] = {}
        for user in self.scenario_users:
            try:
                model = self._client.get_user(self.user_name(user), include_stopped=True) or {}
            except Exception:  # a hint for messages only; the check itself never depends on it
                continue
            for server, spec in (model.get("servers") or {}).items():
                pvc_name = ((spec or {}).get("state") or {}).get("pvc_name")
                if pvc_name:
                    found[f"{self.user_name(user)}/{server}"] = str(pvc_name)
        return found

    def _observed_scheme(self, recorded: dict[str, str]) -> tuple[str, str] | None:
        """The slug scheme the hub's recorded PVC names show, when exactly one scheme explains them."""
        for label, pvc_name in recorded.items():
            user, server = label.split("/", 1)
            fits = [
                scheme
                for scheme in slugs.SCHEMES
                if any(
                    re.search(f"{_BEFORE}{re.escape(value)}{_AFTER}", pvc_name)
                    for key, value in slugs.template_values(user, server, scheme).items()
                    if key != "servername" and value
                )
            ]
            if len(fits) == 1:
                return fits[0], f"the hub's spawner state names PVC {pvc_name} for {label}"
        return None

    def resolve_name(self, name: str) -> NameMapping:
        """Map ``name`` with the slug scheme the hub really uses, learnt from its PVCs once it has some."""
        recorded = self._recorded_pvcs()
        observed = self._observed_scheme(recorded)
        if observed is not None:
            self.slug_scheme, self.slug_evidence = observed
        hub_name = self.object_name(name)
        reason = "it contains none of the scenario's user names or their KubeSpawner slugs"
        if hub_name != name:
            reason = (
                f"the run's users are {', '.join(self.user_name(u) for u in self.scenario_users)}; "
                f"KubeSpawner slug scheme {self.slug_scheme!r} ({self.slug_evidence})"
            )
        pvcs = tuple(f"{label}: {pvc_name}" for label, pvc_name in sorted(recorded.items()))
        return NameMapping(name, hub_name, reason, pvcs)

    def restart_hub(
        self, versions: HubVersions | None, change: ConfigChange | None = None
    ) -> list[TraitDiff]:
        raise RuntimeError(self.unsupported_reason("restart_hub"))

    def reconnect(self) -> None:
        """A new connection only: the run's users and servers are what is being tested."""
        self._connect()
