"""A hub someone else runs (``--hub-url``/``--hub-token``), driven only with ``jhsc-`` users.

Split from ``harness.hub.target`` (the interface): mapping scenario user and object names onto the
run's ``jhsc-`` users, learning the hub's KubeSpawner slug scheme, and telling the run's objects from
other people's are this target's alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from harness.clusters.base import HubVersions, Images
from harness.clusters.kube import Kube
from harness.hub import slugs
from harness.hub.driver import HubClient
from harness.hub.settings import ConfigChange, HubSettings, TraitDiff
from harness.hub.target import OUT_OF_BAND_STEPS, HubTarget, NameMapping

#: Users an existing hub may be driven with all start with this; the harness touches no others.
EXISTING_HUB_USER_PREFIX = "jhsc-"

#: KubeSpawner's annotation (raw user name) and label (its slug) on the pods and PVCs it makes.
USERNAME_KEY = "hub.jupyter.org/username"

#: Name characters: a user name or slug only matches where it is not part of a longer word.
_BEFORE, _AFTER = r"(?<![A-Za-z0-9_])", r"(?![A-Za-z0-9_])"


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
