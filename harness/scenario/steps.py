"""Step items: a step body under its step name, plus version gates and verdict annotations.

A scenario's steps drive a hub and check what ended up in the cluster. Steps are data;
``harness/runner.py`` executes them. ``STEP_BODIES`` names every step and its body model.

Each step item is a mapping with exactly one step key and, optionally, version gates next to it::

    - expect_pvc: {name: claim-alice, size: 1Gi}
      kubespawner: ">=7"        # PEP 440 specifier; the step only applies to these releases

The gates sit *beside* the step (not inside its body) so they can never clash with a body field:
``restart_hub`` has its own ``kubespawner:`` field, the version to switch to. A version-dependent
expectation is written as two items with disjoint specifiers. Gates are evaluated against the
versions the hub runs at that point of the scenario (``restart_hub`` may change them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Union

from pydantic import Discriminator, Field, PrivateAttr, Tag, create_model, field_validator

from harness.scenario.bodies import (
    Body,
    DeleteServerStep,
    DeleteUserStep,
    ExpectFileStep,
    ExpectMountStep,
    ExpectPvcsStep,
    ExpectPvcStep,
    ExpectSpawnFailureStep,
    ObserveStep,
    RestartClusterStep,
    StartStep,
    StopStep,
    WriteFileStep,
)
from harness.scenario.cluster_bodies import (
    CreatePvcStep,
    CreatePvStep,
    DeletePodStep,
    DeletePvcStep,
    ResizePvcStep,
)
from harness.scenario.errors import SourceLocation
from harness.scenario.fields import GATE_KEYS, Strict, admits, check_specifier, check_upstream_ref
from harness.scenario.upgrade_bodies import RestartHubStep, UpgradeChartStep

#: Every key a step item may carry next to its step key: the gates plus its verdict annotations.
ITEM_KEYS: tuple[str, ...] = (*GATE_KEYS, "known_issue", "hazard")


#: Step name -> body model, in the order documentation lists them.
STEP_BODIES: dict[str, type[Body]] = {
    "start": StartStep,
    "stop": StopStep,
    "write_file": WriteFileStep,
    "expect_file": ExpectFileStep,
    "expect_pvc": ExpectPvcStep,
    "expect_pvcs": ExpectPvcsStep,
    "expect_mount": ExpectMountStep,
    "expect_spawn_failure": ExpectSpawnFailureStep,
    "restart_hub": RestartHubStep,
    "upgrade_chart": UpgradeChartStep,
    "restart_cluster": RestartClusterStep,
    "delete_server": DeleteServerStep,
    "delete_user": DeleteUserStep,
    "delete_pvc": DeletePvcStep,
    "delete_pod": DeletePodStep,
    "resize_pvc": ResizePvcStep,
    "create_pv": CreatePvStep,
    "create_pvc": CreatePvcStep,
    "observe": ObserveStep,
}


# ---------------------------------------------------------------------------------------------- items


class Step(Strict):
    """One step item: a step body under its name, plus optional version gates."""

    #: The step name (``start``, ``expect_pvc``, ...); set on each concrete item class.
    kind: ClassVar[str] = ""

    kubespawner: str | None = Field(
        None, description="PEP 440 specifier: the step applies only to these KubeSpawner versions."
    )
    jupyterhub: str | None = Field(
        None, description="PEP 440 specifier: the step applies only to these JupyterHub versions."
    )
    known_issue: str | None = Field(
        None,
        description=(
            "Upstream bug (e.g. kubespawner#937) that makes this correct expectation fail on the gated "
            "releases: a failure is reported KNOWN; a pass fails the cell (fixed upstream?)."
        ),
    )
    hazard: str | None = Field(
        None,
        description="One line: the behaviour this step confirms is as expected AND dangerous (HAZARD).",
    )
    _location: SourceLocation = PrivateAttr(default=SourceLocation("<unknown>", 0, 0))

    _gates = field_validator("kubespawner", "jupyterhub")(check_specifier)

    @field_validator("known_issue")
    @classmethod
    def _upstream_ref(cls, value: str | None) -> str | None:
        return check_upstream_ref(value)

    @property
    def body(self) -> Body:
        value: Body = getattr(self, self.kind)
        return value

    @property
    def location(self) -> SourceLocation:
        """``file:line:column`` of the step item, for progress lines and failures."""
        return self._location

    def applies_to(self, kubespawner: str, jupyterhub: str) -> bool:
        """Whether the gates admit these versions (no gate admits everything, pre-releases too)."""
        return admits(self.kubespawner, self.jupyterhub, kubespawner, jupyterhub)

    def gates_text(self) -> str:
        """``kubespawner <7``: the gates as the progress line shows them."""
        return ", ".join(f"{k} {getattr(self, k)}" for k in GATE_KEYS if getattr(self, k))


def _item_model(kind: str, body: type[Body]) -> type[Step]:
    model = create_model(  # type: ignore[call-overload]
        "".join(part.title() for part in kind.split("_")) + "Item",
        __base__=Step,
        __doc__=body.__doc__,
        **{kind: (body, ...)},
    )
    model.kind = kind
    return model


STEP_ITEMS: dict[str, type[Step]] = {kind: _item_model(kind, body) for kind, body in STEP_BODIES.items()}


def step_kind_of(item: Any) -> str | None:
    """The step name of a raw step item, or None when it has not exactly one known step key."""
    if isinstance(item, Step):
        return item.kind
    if not isinstance(item, dict):
        return None
    kinds = [key for key in item if key in STEP_BODIES]
    return kinds[0] if len(kinds) == 1 else None


if TYPE_CHECKING:
    StepItem = Step
else:
    #: A step item: validated as the item model its step key names.
    StepItem = Annotated[
        Union[tuple(Annotated[model, Tag(kind)] for kind, model in STEP_ITEMS.items())],  # noqa: UP007
        Discriminator(step_kind_of),
    ]
