"""Execute one scenario against one matrix row: deploy (or attach to) a hub, run the steps, clean up.

The plugin calls ``run_scenario``; this module owns the order of things: version gates per step
(evaluated against the versions the hub runs *now*, since ``restart_hub`` may upgrade it), one
progress line per step, ``finally`` steps after a failure too, diagnostics on the first failure,
and cleanup on every exit path including Ctrl-C.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.checks.errors import CheckFailed, CheckSkipped
from harness.clusters.base import HubVersions
from harness.clusters.kube import Kube
from harness.clusters.shared_use import cluster_turn
from harness.diagnostics import collect_bundle, target_ready
from harness.hub.deploy import namespace_name
from harness.hub.deployed import DeployedHub
from harness.hub.driver import HubApiError, SpawnFailed
from harness.hub.existing import ExistingHub
from harness.hub.settings import HubSettings
from harness.hub.target import HubTarget
from harness.reports import format_exception
from harness.results import ScenarioOutcome, StepRecord, StepStatus
from harness.steps import RUNNERS, RunContext, StepContext, StepSkipped
from harness.steps.chart import chart_settings, chart_versions, describe_chart
from harness.steps.context import server_label
from harness.versions import default_jupyterhub_for

__all__ = ["RunContext", "ScenarioFailure", "StepSkipped", "run_scenario"]


class ScenarioFailure(Exception):
    """A scenario failed; ``summary`` is short and human, ``bundle`` the diagnostics directory."""

    def __init__(self, summary: str, bundle: Path | None = None) -> None:
        super().__init__(summary + (f"\ndiagnostics: {bundle}" if bundle else ""))
        self.summary = summary
        self.bundle = bundle


#: What a failing step may raise: an oracle's verdict, the hub's answer, a wait that ran out.
_STEP_FAILURES = (CheckFailed, HubApiError, TimeoutError, SpawnFailed)


@dataclass
class _Run:
    """A scenario in progress: the steps' context plus the failures and the first-failure bundle."""

    steps: StepContext
    failures: list[str] = field(default_factory=list)
    bundle: Path | None = None

    @property
    def outcome(self) -> ScenarioOutcome:
        return self.steps.run.outcome


def describe_step(step: Any) -> str:
    """``start alice/`` / ``expect_pvc claim-alice``: the step in a few words."""
    body = step.body
    if step.kind == "observe" and body.user is None:
        return "observe pvcs"
    if getattr(body, "pvc", None) is not None:
        return f"{step.kind} pvc {body.pvc}:{'/'.join(p for p in (body.sub_path, body.path) if p)}"
    if hasattr(body, "user") and hasattr(body, "server"):
        extra = f" {body.path}" if hasattr(body, "path") else ""
        return f"{step.kind} {server_label(body.user, body.server)}{extra}"
    if hasattr(body, "user"):
        return f"{step.kind} {body.user}"
    if hasattr(body, "name"):
        return f"{step.kind} {body.name}"
    parts = [f"{k} {getattr(body, k)}" for k in ("kubespawner", "jupyterhub") if getattr(body, k, None)]
    if step.kind == "upgrade_chart":
        return f"upgrade_chart -> {body.chart}" + (f" ({', '.join(parts)})" if parts else "")
    if step.kind == "expect_pvcs":
        return f"{step.kind} only {', '.join(body.only) or 'none'}"
    if step.kind == "restart_hub":
        if body.changes_config:
            parts.append("config change")
        return "restart_hub -> " + ", ".join(parts) if parts else step.kind
    return step.kind


def initial_versions(scenario: Any, ctx: RunContext) -> HubVersions:
    """What the hub is deployed with: the matrix row's releases, the scenario's ``deploy_with``, or
    its z2jh chart's (``z2jh.kubespawner: under-test`` swaps in the matrix row's KubeSpawner)."""
    if scenario.z2jh is not None:
        return chart_versions(scenario.z2jh, ctx.versions)
    start = scenario.deploy_with
    if start is None:
        return ctx.versions
    return HubVersions(start.kubespawner, start.jupyterhub or default_jupyterhub_for(start.kubespawner))


def not_applicable_reason(scenario: Any, versions: HubVersions, existing_hub: bool = False) -> str | None:
    """Why this matrix cell is not one the scenario is about (reported SKIP), or None."""
    if existing_hub and scenario.deploy_with is not None:
        return f"{scenario.name} starts from its own release (deploy_with): needs a hub the harness deploys"
    if existing_hub and scenario.z2jh is not None:
        return (
            f"{scenario.name} configures the hub from z2jh chart {scenario.z2jh.chart} values: needs a hub "
            "the harness deploys"
        )
    wanted = scenario.applies_to
    if wanted is None or wanted.admits(versions.kubespawner, versions.jupyterhub):
        return None
    return f"{scenario.name} is about {wanted.text()}, not kubespawner {versions.kubespawner}"


def _make_target(scenario: Any, ctx: RunContext) -> HubTarget:
    options = ctx.options
    kube = Kube.from_kubeconfig(ctx.cluster.kubeconfig, ctx.cluster.context)
    if options.hub_url:
        hub_ns = options.hub_namespace
        return ExistingHub(
            url=options.hub_url,
            token=options.hub_token or "",
            versions=ctx.versions,
            namespace_=hub_ns,
            kube_=kube,
            images_=ctx.cluster.images(ctx.versions) if hub_ns else None,
            # not applied to that hub: what the scenario says of it (e.g. its notebook_dir)
            config=HubSettings(dict(scenario.kubespawner), dict(scenario.hub_config)),
            scenario_users=tuple(u.name for u in scenario.users),
            scenario_servers=_server_names(scenario),
        )
    kubespawner, hub_config = dict(scenario.kubespawner), dict(scenario.hub_config)
    if scenario.z2jh is not None:
        settings = chart_settings(scenario.z2jh, scenario)
        kubespawner, hub_config = settings.kubespawner, settings.hub_config
    return DeployedHub(
        cluster=ctx.cluster,
        versions=initial_versions(scenario, ctx),
        kube_=kube,
        namespace_=namespace_name(scenario.name),
        config=HubSettings(kubespawner, hub_config),
    )


def _server_names(scenario: Any) -> tuple[str, ...]:
    """Every server name the scenario's steps use, the default server ("") first."""
    names = {getattr(step.body, "server", "") for step in [*scenario.steps, *scenario.finally_]}
    return ("", *sorted(names - {""}))


# ----------------------------------------------------------------------------------------- runner
def _execute(step: Any, ctx: StepContext) -> str:
    reason = ctx.target.unsupported_reason(step.kind)
    if reason:
        raise StepSkipped(reason)
    return RUNNERS[step.kind](step, ctx)


def _known_issue(step: Any, ctx: StepContext, in_finally: bool) -> str | None:
    """The upstream bug expected to break this step now: its own, or (main steps) the scenario's."""
    if step.known_issue:
        return str(step.known_issue)
    known = ctx.scenario.known_issue
    if in_finally or known is None:
        return None
    return str(known.issue) if known.applies_to(ctx.versions.kubespawner, ctx.versions.jupyterhub) else None


def _run_one(step: Any, index: str, run: _Run, in_finally: bool) -> StepRecord:
    """Execute one step item and say how it ended; a step's own failure is recorded, not raised."""
    ctx = run.steps
    label = f"{index} {describe_step(step)}"
    record = StepRecord(
        index=index,
        kind=step.kind,
        label=describe_step(step),
        location=str(step.location),
        status=StepStatus.PASSED,
        hazard=step.hazard,
    )
    if not step.applies_to(ctx.versions.kubespawner, ctx.versions.jupyterhub):
        record.status = StepStatus.GATED
        record.note = f"not for kubespawner {ctx.versions.kubespawner}: {step.gates_text()}"
        record.line = f"  - {label}  ({record.note})"
        ctx.run.report(record.line)
        return record
    record.known_issue = _known_issue(step, ctx, in_finally)
    trace = ""
    t0 = time.monotonic()
    try:
        record.note = _execute(step, ctx)
    except (StepSkipped, CheckSkipped) as exc:
        record.status, record.note = StepStatus.SKIPPED, str(exc)
    except _STEP_FAILURES as exc:
        record.status, record.note = StepStatus.FAILED, str(exc)
    except Exception as exc:  # an unexpected error is a failed step, with its traceback in the bundle
        record.status, record.note = StepStatus.FAILED, f"{type(exc).__name__}: {exc}"
        trace = "\n" + format_exception(exc)
    record.duration = time.monotonic() - t0
    _judge_known(record, own=bool(step.known_issue))
    if record.status in (StepStatus.FAILED, StepStatus.KNOWN_FIXED):
        run.failures.append(f"{step.location}: {label}: {record.note}{trace}")
    record.line = _progress_line(record, label)
    ctx.run.report(record.line)
    return record


def _judge_known(record: StepRecord, own: bool) -> None:
    """Apply ``known_issue``: a failure it predicts is KNOWN; a step of its own that passes means
    the bug looks fixed, which fails the cell (strict xfail) so that nobody misses the fix."""
    if not record.known_issue:
        return
    if record.status is StepStatus.FAILED:
        record.status = StepStatus.KNOWN
    elif record.status is StepStatus.PASSED and own:
        record.status = StepStatus.KNOWN_FIXED
        record.note = f"fixed upstream? drop known_issue {record.known_issue}: the step now passes" + (
            f" ({record.note})" if record.note else ""
        )
    else:
        record.known_issue = None  # passed under a scenario-level known_issue: nothing to say


def _progress_line(record: StepRecord, label: str) -> str:
    took = f"({record.duration:.1f}s)"
    if record.status is StepStatus.PASSED:
        hazard = f"  HAZARD: {record.hazard}" if record.hazard else ""
        return f"  ✓ {label}  {took}{'  ' + record.note if record.note else ''}{hazard}"
    if record.status is StepStatus.SKIPPED:
        return f"  ↷ {label}  skipped: {record.note}"
    if record.status is StepStatus.KNOWN:
        return f"  ◌ {label}  {took}: KNOWN {record.known_issue}: {record.note}"
    return f"  ✗ {label}  {took}: {record.note}"


def _run_list(steps: list[Any], prefix: str, run: _Run, stop_on_fail: bool) -> None:
    for number, step in enumerate(steps, start=1):
        record = _run_one(step, f"{prefix}{number}", run, in_finally=not stop_on_fail)
        run.outcome.steps.append(record)
        # a scenario-level known issue that bit ends the steps: the rest builds on what just broke
        bit = record.status is StepStatus.KNOWN and not step.known_issue
        if bit and stop_on_fail:
            return
        if record.status in (StepStatus.FAILED, StepStatus.KNOWN_FIXED):
            if run.bundle is None:
                run.bundle = collect_bundle(run.steps, run.failures)
            if stop_on_fail:
                return


def _close_scenario_known_issue(run: _Run) -> None:
    """A scenario-level ``known_issue`` whose scenario passed everywhere looks fixed upstream."""
    ctx = run.steps
    known = ctx.scenario.known_issue
    if known is None or not known.applies_to(ctx.versions.kubespawner, ctx.versions.jupyterhub):
        return
    if any(s.status is StepStatus.KNOWN for s in run.outcome.steps) or run.failures:
        return
    note = f"fixed upstream? drop known_issue {known.issue}: every step passed"
    run.outcome.steps.append(
        StepRecord(
            index="-",
            kind="known_issue",
            label="known_issue",
            location=ctx.scenario.source,
            status=StepStatus.KNOWN_FIXED,
            note=note,
            known_issue=str(known.issue),
            line=f"  ✗ {note}",
        )
    )
    run.failures.append(f"{ctx.scenario.source}: {note}")
    ctx.run.report(f"  ✗ {note}")


def _deploy(run: _Run) -> bool:
    ctx, target = run.steps, run.steps.target
    t0 = time.monotonic()
    try:
        target.setup()
        for user in ctx.scenario.users:
            ctx.hub.create_user(target.user_name(user.name))
    except Exception as exc:
        ctx.run.report(f"  ✗ deploy hub  ({time.monotonic() - t0:.1f}s): {type(exc).__name__}: {exc}")
        run.failures.append(f"deploy hub: {type(exc).__name__}: {exc}\n{format_exception(exc)}")
        run.outcome.errors.append(f"deploy hub: {type(exc).__name__}: {exc}")
        return False
    run.outcome.deploy = time.monotonic() - t0
    ctx.run.report(f"  ✓ deploy {target.description}  ({run.outcome.deploy:.1f}s)")
    if ctx.scenario.z2jh is not None:
        spec = ctx.scenario.z2jh
        ctx.run.report(
            f"  ({describe_chart(spec, target.versions, chart_settings(spec, ctx.scenario))}; "
            f"the release under test is {ctx.run.versions.kubespawner}/{ctx.run.versions.jupyterhub})"
        )
    elif ctx.scenario.deploy_with is not None:
        ctx.run.report(
            f"  (deployed with kubespawner {target.versions.kubespawner}, jupyterhub "
            f"{target.versions.jupyterhub} (deploy_with); the release under test is "
            f"{ctx.run.versions.kubespawner}/{ctx.run.versions.jupyterhub})"
        )
    elif target.versions != ctx.run.versions:
        ctx.run.report(
            f"  (version gates follow the hub's kubespawner {target.versions.kubespawner}, "
            f"jupyterhub {target.versions.jupyterhub}, not the options' "
            f"{ctx.run.versions.kubespawner}/{ctx.run.versions.jupyterhub})"
        )
    if isinstance(target, ExistingHub) and (ctx.scenario.kubespawner or ctx.scenario.hub_config):
        ctx.run.report(
            "  (the scenario's kubespawner/hub_config settings are not applied: the existing hub's "
            "own configuration is what the steps test)"
        )
    return True


def needs_cluster_alone(scenario: Any, ctx: RunContext) -> bool:
    """A scenario that will really restart the cluster: no other scenario may use it meanwhile."""
    steps = [*scenario.steps, *scenario.finally_]
    restarts = any(step.kind == "restart_cluster" for step in steps)
    return restarts and ctx.cluster.restart_unsupported_reason() is None


def run_scenario(scenario: Any, ctx: RunContext) -> ScenarioOutcome:
    """Run ``scenario`` in its turn on ``ctx.cluster`` (alone when it restarts a shared cluster)."""
    alone = needs_cluster_alone(scenario, ctx)
    with cluster_turn(ctx.cluster.shared_use_key(), exclusive=alone) as waited:
        if waited >= 1.0:
            why = "it restarts the cluster, so it runs alone" if alone else "a cluster restart runs alone"
            ctx.report(f"  (waited {waited:.1f}s for a turn on the shared cluster: {why})")
        return _run_scenario(scenario, ctx)


def _run_scenario(scenario: Any, ctx: RunContext) -> ScenarioOutcome:
    """Run ``scenario`` for ``ctx.versions`` on ``ctx.cluster``; raise ScenarioFailure on any failed step.

    The outcome (``ctx.outcome``) is filled either way; a KNOWN verdict returns normally.
    """
    started = time.monotonic()
    keep = ctx.options.keep_cluster
    run = _Run(StepContext(scenario=scenario, run=ctx, target=_make_target(scenario, ctx)))
    run.outcome.scenario_hazard = scenario.hazard
    target, failures = run.steps.target, run.failures
    try:
        if _deploy(run):
            _run_list(list(scenario.steps), "", run, stop_on_fail=True)
            _close_scenario_known_issue(run)
        if failures and run.bundle is None:
            run.bundle = collect_bundle(run.steps, run.failures)
        collected = len(failures)
        if target_ready(target):
            _run_list(list(scenario.finally_), "finally ", run, stop_on_fail=False)
        if run.bundle is not None and len(failures) > collected:
            # logs and failures as they are after `finally`, next to the first-failure snapshot
            collect_bundle(run.steps, failures, subdir="after-finally")
            (run.bundle / "failures.txt").write_text("\n\n".join(failures) + "\n")
    finally:
        t0 = time.monotonic()
        try:
            target.teardown(keep)
            ctx.report(
                f"  ✓ cleanup{' (kept: --keep-cluster)' if keep else ''}  ({time.monotonic() - t0:.1f}s)"
            )
        except Exception as exc:
            ctx.report(f"  ✗ cleanup: {type(exc).__name__}: {exc}")
            failures.append(f"cleanup: {type(exc).__name__}: {exc}")
            run.outcome.errors.append(f"cleanup: {type(exc).__name__}: {exc}")
        run.outcome.cleanup = time.monotonic() - t0
        run.outcome.wall = time.monotonic() - started
        run.outcome.bundle = str(run.bundle) if run.bundle else None
    spawns = ", ".join(f"{t:.1f}s" for t in run.outcome.spawn_times)
    ctx.report(f"  {scenario.name}: {run.outcome.wall:.1f}s wall; spawns: {spawns or 'none'}")
    if failures:
        summary = failures[0].splitlines()[0]
        if len(failures) > 1:
            summary += f" (+{len(failures) - 1} more failure(s))"
        raise ScenarioFailure(summary, run.bundle)
    return run.outcome
