"""The hub a scenario runs against: one the harness deploys, or one that already exists.

The runner executes every step through this small interface, so "deployed hub on any backend" and
"someone's existing hub" are one code path. What an existing hub cannot do (restart it, know its
namespace) is answered by ``unsupported_reason`` and shown as the step's skip reason. The two
targets are ``harness.hub.deployed.DeployedHub`` and ``harness.hub.existing.ExistingHub``.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any

from harness.clusters.base import HubVersions, Images
from harness.clusters.kube import Kube
from harness.hub.driver import HubClient
from harness.hub.settings import ConfigChange, HubSettings, TraitDiff
from harness.hub.static_storage import StaticVolumes

#: Steps that change the cluster behind the hub's back, as an admin's kubectl would.
OUT_OF_BAND_STEPS: tuple[str, ...] = ("delete_pvc", "delete_pod", "resize_pvc", "create_pv", "create_pvc")


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
