"""The scenario language: what a scenario file may say, as pydantic models.

A scenario is an admin's KubeSpawner configuration (``kubespawner:``, trait name -> value, exactly as
``c.KubeSpawner.<trait>`` is written), the users it drives and an ordered list of step items
(``harness.scenario.steps``). This module holds the scenario-level models; the step bodies are in
``bodies`` (and ``upgrade_bodies``, ``cluster_bodies``), the shared checks in ``fields``.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ConfigDict, Field, PrivateAttr, field_validator

from harness.scenario.fields import (
    GATE_KEYS,
    UNDER_TEST,
    Strict,
    admits,
    check_specifier,
    check_upstream_ref,
    exact_version,
)
from harness.scenario.steps import STEP_BODIES, StepItem
from harness.scenario.upgrade_bodies import Z2jhInput

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
#: Scenario names end up in test ids and namespace names (with a suffix), so keep room for one.
MAX_NAME_LENGTH = 40


class User(Strict):
    """A hub user the scenario drives; steps may only name declared users and servers."""

    name: str
    admin: bool = False
    named_servers: list[str] = Field(
        default_factory=list, description="Named servers the steps use (the default server is implied)."
    )


class KnownIssue(Strict):
    """A scenario-level ``known_issue``: which bug, and on which releases it is expected to bite."""

    issue: str = Field(description="kubespawner#N, z2jh#N or jupyterhub#N.")
    kubespawner: str | None = Field(None, description="PEP 440 specifier of the affected releases.")
    jupyterhub: str | None = Field(None, description="PEP 440 specifier of the affected releases.")

    _ref = field_validator("issue")(check_upstream_ref)
    _gates = field_validator("kubespawner", "jupyterhub")(check_specifier)

    def applies_to(self, kubespawner: str, jupyterhub: str) -> bool:
        return admits(self.kubespawner, self.jupyterhub, kubespawner, jupyterhub)


class Releases(Strict):
    """Exact releases to deploy the hub with before the steps (an upgrade scenario's starting point)."""

    kubespawner: str = Field(description="Exact KubeSpawner version, e.g. 6.2.0.")
    jupyterhub: str | None = Field(
        None, description="Exact JupyterHub version; default: the one recorded for that KubeSpawner."
    )

    _versions = field_validator("kubespawner", "jupyterhub")(exact_version)

    @field_validator("kubespawner", "jupyterhub")
    @classmethod
    def _not_under_test(cls, value: str | None) -> str | None:
        if value == UNDER_TEST:
            raise ValueError(f"{UNDER_TEST!r} is for restart_hub; deploy_with names an exact release")
        return value


class Applicability(Strict):
    """The matrix releases a scenario is about; other cells are reported SKIP with this reason."""

    kubespawner: str | None = Field(None, description="PEP 440 specifier of the matrix KubeSpawner.")
    jupyterhub: str | None = Field(None, description="PEP 440 specifier of the matrix JupyterHub.")

    _gates = field_validator("kubespawner", "jupyterhub")(check_specifier)

    def admits(self, kubespawner: str, jupyterhub: str) -> bool:
        return admits(self.kubespawner, self.jupyterhub, kubespawner, jupyterhub)

    def text(self) -> str:
        return ", ".join(f"{k} {getattr(self, k)}" for k in GATE_KEYS if getattr(self, k))


class CheckTemplate(Strict):
    """How ``jhsc check`` may run this scenario over an admin's own storage config (``check:``)."""

    parameterised: bool = Field(
        False,
        description="The admin's storage config (KubeSpawner traits or z2jh values) replaces this "
        "scenario's `kubespawner:` / `z2jh:`; only the steps in `keep` run then.",
    )
    keep: list[str] = Field(
        default_factory=lambda: ["start", "stop", "write_file", "expect_file", "restart_hub", "delete_user"],
        description="Step kinds that hold for any storage config (no claim names in them).",
    )

    @field_validator("keep")
    @classmethod
    def _known_kinds(cls, value: list[str]) -> list[str]:
        unknown = [kind for kind in value if kind not in STEP_BODIES]
        if unknown:
            raise ValueError(f"unknown step kind(s) {', '.join(unknown)}; expected: {', '.join(STEP_BODIES)}")
        return value


class Scenario(Strict):
    """One storage conformance scenario (one YAML file)."""

    model_config = ConfigDict(populate_by_name=True)

    name: str = Field(description="Lowercase DNS label; used in test ids and namespace names.")
    description: str
    kubespawner: dict[str, Any] = Field(
        default_factory=dict,
        description="c.KubeSpawner.<trait> = value, as an admin writes it: trait name -> value.",
    )
    hub_config: dict[str, Any] = Field(
        default_factory=dict,
        description="Other hub configuration: 'Class.trait' -> value, e.g. JupyterHub.allow_named_servers.",
    )
    upstream: list[str] = Field(
        default_factory=list,
        description="Upstream issues/PRs this scenario pins (kubespawner#N, z2jh#N, jupyterhub#N).",
    )
    hazard: str | None = Field(
        None, description="One line: what this scenario shows to be as expected AND dangerous (HAZARD)."
    )
    known_issue: KnownIssue | None = Field(
        None,
        description="The whole scenario is correct behaviour that an upstream bug breaks on some releases.",
    )
    applies_to: Applicability | None = Field(
        None,
        description="Matrix releases this scenario is about, e.g. {kubespawner: '>=7'}; other cells SKIP.",
    )
    z2jh: Z2jhInput | None = Field(
        None,
        description=(
            "Zero to JupyterHub chart values: the hub gets that chart's config and releases; "
            "`kubespawner:` / `hub_config:` then apply on top of the chart's."
        ),
    )
    deploy_with: Releases | None = Field(
        None,
        description=(
            "Deploy the hub with these releases instead of the matrix row's; with "
            "`restart_hub: {kubespawner: under-test}` the scenario upgrades to the release under test."
        ),
    )
    check: CheckTemplate | None = Field(
        None, description="`jhsc check` may run this scenario over an admin's storage config."
    )
    users: list[User] = Field(min_length=1)
    steps: list[StepItem] = Field(min_length=1)
    finally_: list[StepItem] = Field(
        default_factory=list,
        alias="finally",
        description="Steps run after `steps`, also when a step failed (cleanup, final checks).",
    )
    _source: str = PrivateAttr(default="<string>")

    @field_validator("upstream")
    @classmethod
    def _upstream_refs(cls, value: list[str]) -> list[str]:
        for ref in value:
            check_upstream_ref(ref)
        return value

    @field_validator("name")
    @classmethod
    def _dns_label(cls, value: str) -> str:
        if not _DNS_LABEL.match(value) or len(value) > MAX_NAME_LENGTH:
            raise ValueError(
                f"invalid name {value!r}; expected lowercase letters, digits and '-', starting and "
                f"ending with a letter or digit, at most {MAX_NAME_LENGTH} characters"
            )
        return value

    @property
    def source(self) -> str:
        """The file the scenario was loaded from, as shown in messages."""
        return self._source

    def user(self, name: str) -> User:
        return next(user for user in self.users if user.name == name)
