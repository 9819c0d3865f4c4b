"""One matrix cell as the results file stores it, and the rules that turn a run into one.

A cell is one scenario on one column (KubeSpawner x JupyterHub x cluster backend x Kubernetes
version). Its verdict comes from ``ScenarioOutcome.verdict()`` whenever the runner produced an
outcome; ``judge`` only adds what the outcome cannot know: a cell pytest skipped, a cluster that never
started, a harness crash outside any step. Keeping these rules here (pure, no pytest objects) is what
lets the xdist workers, the controller and the unit tests agree on every verdict.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from packaging.version import InvalidVersion, Version

from harness.results import ScenarioOutcome, StepRecord, StepStatus, Verdict

#: The words the report shows beside a verdict letter (the letter comes from ``Verdict.letter``).
VERDICT_WORDS: dict[Verdict, str] = {
    Verdict.PASS: "pass",
    Verdict.FAIL: "fail",
    Verdict.KNOWN: "known issue",
    Verdict.HAZARD: "hazard",
    Verdict.SKIP: "skipped",
    Verdict.ERROR: "error",
}
#: Display order: the worst news first.
VERDICT_ORDER: tuple[Verdict, ...] = (
    Verdict.FAIL,
    Verdict.ERROR,
    Verdict.KNOWN,
    Verdict.HAZARD,
    Verdict.SKIP,
    Verdict.PASS,
)
#: What a matrix shows where a scenario did not run on a column.
NOT_RUN = "-"

_UPSTREAM_REPOS = {
    "kubespawner": "jupyterhub/kubespawner",
    "z2jh": "jupyterhub/zero-to-jupyterhub-k8s",
    "jupyterhub": "jupyterhub/jupyterhub",
}


def upstream_url(ref: str) -> str | None:
    """``kubespawner#937`` -> its GitHub issue URL (GitHub redirects /issues/N to a PR when it is one)."""
    repo, _, number = ref.partition("#")
    if repo not in _UPSTREAM_REPOS or not number.isdigit():
        return None
    return f"https://github.com/{_UPSTREAM_REPOS[repo]}/issues/{number}"


def slug(text: str) -> str:
    """A string safe in HTML ids, URL fragments and file names."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def _version_key(text: str) -> tuple[int, Any]:
    try:
        return (0, Version(text))
    except InvalidVersion:
        return (1, text)


@dataclass(frozen=True)
class Column:
    """A matrix column: the releases under test and the cluster they ran on."""

    kubespawner: str
    jupyterhub: str
    cluster: str
    #: ``gitVersion`` from the cluster's ``/version``; None when no cluster answered.
    kubernetes: str | None = None

    def sort_key(self) -> tuple[Any, ...]:
        return (
            _version_key(self.kubespawner),
            _version_key(self.jupyterhub),
            self.cluster,
            _version_key((self.kubernetes or "").lstrip("v")),
        )

    @property
    def release(self) -> str:
        return f"KubeSpawner {self.kubespawner} · JupyterHub {self.jupyterhub}"

    @property
    def where(self) -> str:
        return f"{self.cluster} · Kubernetes {self.kubernetes or 'unknown'}"

    @property
    def label(self) -> str:
        return f"{self.release} · {self.where}"

    @property
    def id(self) -> str:
        kubernetes = self.kubernetes or "k8s-unknown"
        return slug(f"ks{self.kubespawner}-jh{self.jupyterhub}-{self.cluster}-{kubernetes}")


@dataclass
class Failure:
    """The first failing step of a FAIL cell: where to look in the scenario file, and why."""

    step: str
    label: str
    location: str
    reason: str


@dataclass
class Cell:
    """One scenario on one column: what the results file stores per matrix cell."""

    scenario: str
    #: The scenario file as messages show it (``scenarios/x.yaml``).
    source: str
    description: str
    upstream: list[str]
    nodeid: str
    column: Column
    verdict: Verdict
    #: One line: why the cell is not a plain PASS (None when it is).
    reason: str | None = None
    failure: Failure | None = None
    known_issues: list[str] = field(default_factory=list)
    hazards: list[str] = field(default_factory=list)
    #: Errors that are not a verdict on storage behaviour (deploy, cleanup, harness crash), in full.
    errors: list[str] = field(default_factory=list)
    steps: list[StepRecord] = field(default_factory=list)
    #: Diagnostics bundle: relative to the reports directory when inside it, else absolute.
    bundle: str | None = None
    spawn_times: list[float] = field(default_factory=list)
    wall: float = 0.0
    #: Seconds of the hub deploy and of the final cleanup (ScenarioOutcome's).
    deploy: float = 0.0
    cleanup: float = 0.0
    #: When the cell finished, ISO 8601 UTC.
    finished: str = ""
    #: Every progress line of the run (deploy and cleanup included), as ``-v`` prints them.
    log: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        """The cell's HTML id and URL fragment (``index.html#cell=<id>``)."""
        return f"{slug(self.scenario)}--{self.column.id}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        column = data.pop("column")
        data.update(column)
        data["verdict"] = self.verdict.value
        data["letter"] = self.verdict.letter
        for step in data["steps"]:
            step["status"] = StepStatus(step["status"]).value
            step["duration"] = round(step["duration"], 3)
        data["spawn_times"] = [round(t, 3) for t in data["spawn_times"]]
        for key in ("wall", "deploy", "cleanup"):
            data[key] = round(data[key], 3)
        return _ordered(data)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cell:
        failure = data.get("failure")
        return cls(
            scenario=data["scenario"],
            source=data["source"],
            description=data.get("description", ""),
            upstream=list(data.get("upstream", [])),
            nodeid=data.get("nodeid", ""),
            column=Column(data["kubespawner"], data["jupyterhub"], data["cluster"], data.get("kubernetes")),
            verdict=Verdict(data["verdict"]),
            reason=data.get("reason"),
            failure=Failure(**failure) if failure else None,
            known_issues=list(data.get("known_issues", [])),
            hazards=list(data.get("hazards", [])),
            errors=list(data.get("errors", [])),
            steps=[StepRecord(**{**s, "status": StepStatus(s["status"])}) for s in data.get("steps", [])],
            bundle=data.get("bundle"),
            spawn_times=list(data.get("spawn_times", [])),
            wall=float(data.get("wall", 0.0)),
            deploy=float(data.get("deploy", 0.0)),
            cleanup=float(data.get("cleanup", 0.0)),
            finished=data.get("finished", ""),
            log=list(data.get("log", [])),
        )


#: Key order in the JSON: identity and verdict first, so a person reading the file sees them first.
_KEY_ORDER = (
    "scenario",
    "kubespawner",
    "jupyterhub",
    "cluster",
    "kubernetes",
    "verdict",
    "letter",
    "reason",
    "failure",
    "known_issues",
    "hazards",
    "errors",
    "source",
    "description",
    "upstream",
    "nodeid",
    "bundle",
    "spawn_times",
    "wall",
    "deploy",
    "cleanup",
    "finished",
    "steps",
    "log",
)


def _ordered(data: dict[str, Any]) -> dict[str, Any]:
    return {key: data[key] for key in _KEY_ORDER}


@dataclass(frozen=True)
class PytestEnd:
    """How pytest saw one phase of a cell's item, reduced to what ``judge`` needs."""

    #: "setup", "call" or "teardown".
    when: str
    #: "passed", "failed" or "skipped" (an xfail is "skipped" with ``xfail`` true).
    outcome: str
    xfail: bool = False
    #: One line: the skip reason or the error's message.
    message: str = ""
    #: The full text pytest would show (kept in ``errors`` for ERROR cells).
    text: str = ""


def judge(end: PytestEnd, outcome: ScenarioOutcome | None) -> tuple[Verdict, str | None] | None:
    """The cell's verdict and reason for this phase, or None when the phase says nothing new.

    The runner's outcome decides whenever it exists; pytest's view decides only what the runner
    never saw: SKIP (pytest skipped the item) and ERROR (no outcome at all, a failed setup or
    teardown, or a run that raised while its outcome says it passed: a harness crash outside steps).
    """
    if end.when != "call":
        if end.outcome == "passed":
            return None
        if end.outcome == "skipped":
            return Verdict.SKIP, end.message
        return Verdict.ERROR, f"{end.when}: {end.message}"
    if end.outcome == "skipped" and not end.xfail:
        return Verdict.SKIP, end.message
    if outcome is None:
        return Verdict.ERROR, end.message or "the scenario produced no outcome"
    verdict = outcome.verdict()
    if end.outcome == "failed" and verdict not in (Verdict.FAIL, Verdict.ERROR):
        return Verdict.ERROR, end.message
    return verdict, _reason(verdict, outcome)


def _reason(verdict: Verdict, outcome: ScenarioOutcome) -> str | None:
    if verdict is Verdict.FAIL:
        step = outcome.first_failure()
        return _failure_line(step) if step else None
    if verdict is Verdict.ERROR:
        return outcome.errors[0].splitlines()[0] if outcome.errors else None
    if verdict is Verdict.KNOWN:
        step = next(s for s in outcome.steps if s.status is StepStatus.KNOWN)
        return f"known issue {', '.join(outcome.known_issues())}: {_failure_line(step)}"
    if verdict is Verdict.HAZARD:
        return "; ".join(outcome.hazards())
    return None


def _failure_line(step: StepRecord) -> str:
    label = f"{step.index} {step.label}" if step.index != "-" else step.label
    note = step.note.splitlines()[0] if step.note else "failed"
    return f"{step.location}: {label}: {note}"


def first_failure(outcome: ScenarioOutcome | None) -> Failure | None:
    step = outcome.first_failure() if outcome else None
    if step is None:
        return None
    return Failure(step=step.index, label=step.label, location=step.location, reason=step.note)
