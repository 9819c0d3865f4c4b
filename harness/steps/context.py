"""What every step module gets: the scenario, the run's options and cluster, and the hub target.

One object, so a step module's interface stays one function (``run(item, ctx) -> note``) and the
versions and config in force live in one place: the target's ``versions`` and ``config``
(``restart_hub`` changes them there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.clusters.base import Cluster, HubVersions
from harness.clusters.kube import Kube
from harness.hub.driver import HubClient
from harness.hub.settings import HubSettings
from harness.hub.target import HubTarget
from harness.options import HarnessOptions
from harness.results import ScenarioOutcome


@dataclass
class RunContext:
    """One matrix row: where the scenario runs, which releases, which options, where progress goes."""

    cluster: Cluster
    versions: HubVersions
    options: HarnessOptions
    report: Callable[[str], None]
    #: Filled while the scenario runs; the plugin reads it also when the run raised.
    outcome: ScenarioOutcome = field(default_factory=ScenarioOutcome)


class StepSkipped(Exception):
    """A step cannot run here; the message is the reason shown on its progress line."""


@dataclass
class StepContext:
    """What the steps of one scenario run share."""

    scenario: Any
    run: RunContext
    target: HubTarget
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def hub(self) -> HubClient:
        return self.target.hub

    @property
    def versions(self) -> HubVersions:
        """The releases the hub runs now: version gates are evaluated against these."""
        return self.target.versions

    @property
    def config(self) -> HubSettings:
        """The scenario-level config in force now (``restart_hub`` may have changed it)."""
        return self.target.config

    def user(self, body: Any) -> str:
        """The hub's name for the step's user (an existing hub maps it to the ``jhsc-`` prefix)."""
        return self.target.user_name(body.user)

    def token(self, user: str) -> str:
        """An API token of ``user`` (hub name), made once per run."""
        if user not in self.tokens:
            self.tokens[user] = self.hub.create_token(user)
        return self.tokens[user]

    def forget_user(self, user: str) -> None:
        self.tokens.pop(user, None)

    def need_cluster(self, kind: str) -> tuple[Kube, str]:
        """The client and namespace for a step that reads the cluster, or skip it with the reason."""
        reason = self.target.unsupported_reason(kind)
        if reason or self.target.kube is None or self.target.namespace is None:
            raise StepSkipped(reason or f"{kind} needs the hub's namespace")
        return self.target.kube, self.target.namespace

    def record_spawn(self, seconds: float) -> None:
        self.run.outcome.spawn_times.append(seconds)

    def running_servers(self) -> str:
        """``<hub>; running after restart: alice/, bob/work``: what a restart step reports."""
        running = []
        for u in self.scenario.users:
            model = self.hub.get_user(self.target.user_name(u.name)) or {}
            running += [
                server_label(u.name, s) for s, m in (model.get("servers") or {}).items() if m.get("ready")
            ]
        return f"{self.target.description}; running after restart: " + (", ".join(running) or "none")


def server_label(user: str, server: str) -> str:
    return f"{user}/{server}"
