"""``restart_hub``: restart the hub process, optionally switching KubeSpawner/JupyterHub (an upgrade)
and changing its config on top of the config in force (``kubespawner_set``/``_unset``, ``hub_config_set``).

The note leads with the config diff that took effect, each trait with its value before and after.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from harness.clusters.base import HubVersions
from harness.hub.settings import ConfigChange, describe
from harness.scenario.fields import UNDER_TEST
from harness.steps.context import StepContext
from harness.versions import default_jupyterhub_for


def target_versions(body: Any, now: HubVersions, under_test: HubVersions) -> HubVersions | None:
    """The releases to restart with; None keeps the running ones.

    ``under-test`` names the matrix row's release (its JupyterHub too, unless given). A new
    KubeSpawner without a JupyterHub takes the JupyterHub recorded for that release, since
    KubeSpawner 6.2.0 predates JupyterHub 6 and the pair must be one the release supports.
    """
    if not (body.kubespawner or body.jupyterhub):
        return None
    if body.kubespawner == UNDER_TEST:
        picked = under_test  # a source build stays one: the restart installs the same tree
    elif body.kubespawner:
        picked = HubVersions(
            kubespawner=body.kubespawner, jupyterhub=default_jupyterhub_for(body.kubespawner)
        )
    else:
        picked = now
    if body.jupyterhub:
        jupyterhub = under_test.jupyterhub if body.jupyterhub == UNDER_TEST else body.jupyterhub
        picked = replace(picked, jupyterhub=jupyterhub)
    return picked


def run(item: Any, ctx: StepContext) -> str:
    change = ConfigChange.of(item.body)
    diffs = ctx.target.restart_hub(target_versions(item.body, ctx.versions, ctx.run.versions), change or None)
    return "; ".join(part for part in (describe(diffs), ctx.running_servers()) if part)
