"""A hub configured by z2jh chart values: which releases it runs and which config it gets, in which order.

One place for the rules, used by the deploy (``z2jh:``) and by ``upgrade_chart``:

- releases: the chart's pinned KubeSpawner and JupyterHub; ``kubespawner: under-test`` swaps in the
  matrix row's KubeSpawner (the chart's hub image rebuilt with the release under test), and
  ``jupyterhub:`` the JupyterHub, each independently;
- config, lowest first: the harness defaults, the chart's mapping of the values, the scenario's own
  ``kubespawner:`` / ``hub_config:`` (an admin's extra config on top of the chart). The chart's
  mapping never replaces the harness's essentials (``HARNESS_ESSENTIALS``); the scenario's own
  config is the author's explicit choice and is applied as written.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from harness.clusters.base import HubVersions
from harness.hub.config import is_essential
from harness.scenario.fields import UNDER_TEST
from harness.scenario.upgrade_bodies import ChartValues


def chart_versions(spec: ChartValues, under_test: HubVersions) -> HubVersions:
    """The releases a hub configured by ``spec`` runs (``under_test``: the matrix row's)."""
    pinned = spec.config.versions
    if spec.kubespawner == UNDER_TEST:
        picked = under_test  # with its source tree, when the row is a source build
    else:
        picked = HubVersions(kubespawner=spec.kubespawner or pinned.kubespawner, jupyterhub="")
    jupyterhub = (
        under_test.jupyterhub if spec.jupyterhub == UNDER_TEST else (spec.jupyterhub or pinned.jupyterhub)
    )
    return replace(picked, jupyterhub=jupyterhub)


@dataclass(frozen=True)
class ChartSettings:
    """The scenario-level config of a hub configured by chart values."""

    kubespawner: dict[str, Any]
    hub_config: dict[str, Any]
    #: ``Class.trait = value`` the chart set but the harness kept its own (an essential).
    kept: tuple[str, ...] = ()


def chart_settings(spec: ChartValues, scenario: Any) -> ChartSettings:
    """The chart's mapping of ``spec`` (the harness's essentials taken out), then the scenario's config."""
    mapped = spec.config
    kept: list[str] = []
    kubespawner: dict[str, Any] = {}
    for trait, value in mapped.kubespawner.items():
        if is_essential("KubeSpawner", trait):
            kept.append(f"KubeSpawner.{trait} = {value!r}")
        else:
            kubespawner[trait] = value
    hub_config: dict[str, Any] = {}
    for dotted, value in mapped.hub_config.items():
        section, _, trait = dotted.partition(".")
        if is_essential(section, trait):
            kept.append(f"{dotted} = {value!r}")
        else:
            hub_config[dotted] = value
    kubespawner.update(scenario.kubespawner)
    hub_config.update(scenario.hub_config)
    return ChartSettings(kubespawner, hub_config, tuple(kept))


def describe_chart(spec: ChartValues, versions: HubVersions, settings: ChartSettings) -> str:
    """``z2jh chart 3.3.8 (inline values): KubeSpawner 6.2.0, JupyterHub 4.1.6 (the chart's); ...``."""
    pinned = spec.config.versions
    whose = []
    for name, have, pin in (
        ("KubeSpawner", versions.kubespawner, pinned.kubespawner),
        ("JupyterHub", versions.jupyterhub, pinned.jupyterhub),
    ):
        whose.append(f"{name} {have}" + (" (the chart's)" if have == pin else f" (the chart pins {pin})"))
    text = f"z2jh chart {spec.config.chart} ({spec.values_source}): " + ", ".join(whose)
    if settings.kept:
        text += "; harness essentials kept over the chart's " + ", ".join(settings.kept)
    if spec.config.ignored:
        text += "; not storage, ignored: " + ", ".join(spec.config.ignored)
    return text
