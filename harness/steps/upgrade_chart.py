"""``upgrade_chart``: restart the hub as ``helm upgrade`` to another chart release would.

The new chart's mapping of the given values becomes the hub's config (the scenario's own
``kubespawner:`` / ``hub_config:`` still on top: ``harness/steps/chart.py``), and the chart's releases
(or the ones the step names) the hub's, in one restart. The values are the whole new config, as with
``helm upgrade -f``: what an earlier ``restart_hub`` changed is not carried over. The step line says
what changed, releases and config, since that is what an admin has to check before upgrading.
"""

from __future__ import annotations

from typing import Any

from harness.hub.config_diff import diff_configs
from harness.hub.settings import ConfigChange, HubSettings
from harness.steps.chart import chart_settings, chart_versions, describe_chart
from harness.steps.context import StepContext


def run(item: Any, ctx: StepContext) -> str:
    body = item.body
    before_versions, before = ctx.versions, ctx.target.effective_config() or {}
    versions = chart_versions(body, ctx.run.versions)
    settings = chart_settings(body, ctx.scenario)
    ctx.target.restart_hub(
        versions if versions != before_versions else None,
        ConfigChange(replace=HubSettings(settings.kubespawner, settings.hub_config)),
    )
    changes = diff_configs(before, ctx.target.effective_config() or {})
    released = [
        f"{name} {old} -> {new}"
        for name, old, new in (
            ("kubespawner", before_versions.kubespawner, versions.kubespawner),
            ("jupyterhub", before_versions.jupyterhub, versions.jupyterhub),
        )
        if old != new
    ]
    return " | ".join(
        [
            describe_chart(body, versions, settings),
            "releases: " + (", ".join(released) or "unchanged"),
            "config: " + ("; ".join(changes) or "unchanged"),
            ctx.running_servers(),
        ]
    )
