"""The diagnostics bundle of a failed scenario: what the runner writes on the first failure.

Split from ``harness.runner`` (the order of steps) because choosing what goes into a bundle (the
failures, the rendered hub config, the hub's users and the cluster objects of the run's users only)
is a job of its own; ``harness.reports.write_bundle`` does the writing.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from harness.checks.pods import object_user
from harness.hub.deployed import DeployedHub
from harness.hub.target import HubTarget
from harness.reports import safe_dirname, write_bundle
from harness.steps import RunContext, StepContext


def scenario_id(scenario: Any, ctx: RunContext) -> str:
    """The matrix cell a run is: scenario, releases and backend (the bundle's directory name)."""
    return f"{scenario.name}[{ctx.versions.slug}-{ctx.cluster.backend}]"


def target_ready(target: HubTarget) -> bool:
    """Whether the target's hub client is up (``setup`` got that far), so the hub can be asked."""
    try:
        _ = target.hub
    except RuntimeError:
        return False
    return True


def collect_bundle(steps: StepContext, failures: list[str], subdir: str = "") -> Path | None:
    """Write the diagnostics bundle of a failed scenario (``subdir``: a later snapshot next to it).

    Only the run's own users' objects go in (``HubTarget.in_diagnostics``): on an existing hub other
    people's servers, logs and PVCs must stay out of CI artifacts. A bundle that cannot be written
    is reported, never raised: it must not hide the failure it documents.
    """
    scenario, ctx, target = steps.scenario, steps.run, steps.target
    directory = Path(ctx.options.reports_dir) / safe_dirname(scenario_id(scenario, ctx))
    if subdir:
        directory = directory / subdir
    elif directory.is_dir():
        shutil.rmtree(directory)  # a bundle of an earlier run of the same matrix cell would mislead
    extra = {"failures.txt": "\n\n".join(failures) + "\n"}
    if isinstance(target, DeployedHub) and target.deployment is not None:
        extra["jupyterhub_config.py"] = target.deployment.config_text
    try:
        return write_bundle(
            directory,
            summary=f"{scenario_id(scenario, ctx)}\n{target.description}\n" + failures[0],
            kube=target.kube,
            namespace=target.namespace,
            extra_files=extra,
            hub_state=(
                (lambda: [u for u in steps.hub.list_users() if target.in_diagnostics(u.get("name"))])
                if target_ready(target)
                else None
            ),
            include=lambda obj: target.in_diagnostics(object_user(obj)),
        )
    except Exception as exc:
        ctx.report(f"  (could not write diagnostics: {exc})")
        return None
