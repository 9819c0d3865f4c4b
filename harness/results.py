"""What one scenario run produced, as data: the record behind the progress lines, the report and JUnit.

The runner fills a ``ScenarioOutcome`` while it runs; ``harness.report.cells`` turns it into one
cell record per matrix cell (scenario x KubeSpawner x JupyterHub x cluster). Verdicts are derived
here, in one place, so the terminal, the JSON results, the HTML/Markdown matrix and JUnit can never disagree.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


class StepStatus(str, enum.Enum):
    """How one step ended."""

    PASSED = "passed"
    FAILED = "failed"
    #: The step cannot run on this target (reason in ``note``).
    SKIPPED = "skipped"
    #: Its version gates exclude the releases in force at that step.
    GATED = "gated"
    #: A ``known_issue`` step failed as that upstream bug predicts.
    KNOWN = "known"
    #: A ``known_issue`` step passed: the bug looks fixed, which fails the cell (strict xfail).
    KNOWN_FIXED = "known-fixed"


class Verdict(str, enum.Enum):
    """One matrix cell's verdict, with the letter the report shows beside its colour."""

    PASS = "PASS"
    FAIL = "FAIL"
    KNOWN = "KNOWN"
    HAZARD = "HAZARD"
    SKIP = "SKIP"
    ERROR = "ERROR"

    @property
    def letter(self) -> str:
        return {"PASS": "P", "FAIL": "F", "KNOWN": "K", "HAZARD": "H", "SKIP": "S", "ERROR": "E"}[self.value]


@dataclass
class StepRecord:
    """One executed (or gated/skipped) step item."""

    #: "3" for steps[2], "finally 1" for finally[0]: what the progress line shows.
    index: str
    kind: str
    #: ``start alice/``: the step in a few words.
    label: str
    #: ``scenarios/x.yaml:12:5``.
    location: str
    status: StepStatus
    duration: float = 0.0
    #: The progress note (passed), the failure reason (failed/known/known-fixed), the skip or gate reason.
    note: str = ""
    known_issue: str | None = None
    hazard: str | None = None
    #: The progress line the runner printed for this step (what the results file and report show).
    line: str = ""


@dataclass
class ScenarioOutcome:
    """Everything a run of one scenario produced; filled by the runner as it goes."""

    steps: list[StepRecord] = field(default_factory=list)
    spawn_times: list[float] = field(default_factory=list)
    #: Diagnostics bundle directory, when one was written.
    bundle: str | None = None
    wall: float = 0.0
    #: Seconds the hub deploy (setup + users) and the final cleanup took: not steps, but where a
    #: scenario's time goes (the e2e benchmark reads them from the results file).
    deploy: float = 0.0
    cleanup: float = 0.0
    #: The hub could not be deployed/attached, or cleanup failed: not a verdict on storage behaviour.
    errors: list[str] = field(default_factory=list)
    #: Scenario-level hazard (``hazard:`` at the top of the file), shown when the cell passes.
    scenario_hazard: str | None = None

    def verdict(self) -> Verdict:
        """FAIL beats ERROR beats KNOWN beats HAZARD beats PASS; see README "Verdicts"."""
        statuses = {step.status for step in self.steps}
        if StepStatus.FAILED in statuses or StepStatus.KNOWN_FIXED in statuses:
            return Verdict.FAIL
        if self.errors:
            return Verdict.ERROR
        if StepStatus.KNOWN in statuses:
            return Verdict.KNOWN
        if self.hazards():
            return Verdict.HAZARD
        return Verdict.PASS

    def hazards(self) -> list[str]:
        """The hazards of steps that passed (a gated or failed hazard step proves nothing)."""
        found = [s.hazard for s in self.steps if s.hazard and s.status is StepStatus.PASSED]
        if self.scenario_hazard and not any(s.status is StepStatus.FAILED for s in self.steps):
            found.insert(0, self.scenario_hazard)
        return found

    def known_issues(self) -> list[str]:
        return sorted({s.known_issue for s in self.steps if s.known_issue and s.status is StepStatus.KNOWN})

    def first_failure(self) -> StepRecord | None:
        return next((s for s in self.steps if s.status in (StepStatus.FAILED, StepStatus.KNOWN_FIXED)), None)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict().value
        return data
