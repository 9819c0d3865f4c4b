"""Step bodies that change the hub under test: ``restart_hub`` and ``upgrade_chart``, and the z2jh
chart values (``ChartValues``) that ``upgrade_chart`` and the scenario's ``z2jh:`` share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, PrivateAttr, field_validator, model_validator

from harness.scenario.bodies import Body
from harness.scenario.fields import UNDER_TEST, Strict, exact_version

if TYPE_CHECKING:
    from harness.z2jh import Z2jhConfig


class RestartHubStep(Body):
    """Restart the hub, optionally switching the KubeSpawner / JupyterHub release and changing config.

    The config changes apply on top of the config in force (the scenario's, plus earlier restarts'),
    and the hub restarts once with both the new config and the new release.
    """

    kubespawner: str | None = Field(
        None,
        description=(
            f"Exact KubeSpawner version to restart with, or {UNDER_TEST!r}: the matrix row's release "
            "(an upgrade scenario deployed with `deploy_with` upgrades to the release being tested)."
        ),
    )
    jupyterhub: str | None = Field(
        None, description=f"Exact JupyterHub version to restart with, or {UNDER_TEST!r}."
    )
    kubespawner_set: dict[str, Any] = Field(
        default_factory=dict, description="KubeSpawner traits to set from now on: trait name -> value."
    )
    kubespawner_unset: list[str] = Field(
        default_factory=list,
        description="KubeSpawner traits to drop (the harness's or KubeSpawner's default applies again).",
    )
    hub_config_set: dict[str, Any] = Field(
        default_factory=dict, description="Other config to set from now on: 'Class.trait' -> value."
    )

    _versions = field_validator("kubespawner", "jupyterhub")(exact_version)

    @property
    def changes_config(self) -> bool:
        return bool(self.kubespawner_set or self.kubespawner_unset or self.hub_config_set)


class ChartValues(Strict):
    """Zero to JupyterHub chart values: the hub is configured as that chart release configures it.

    The loader resolves the values (inline, or read from ``values_file``), checks them against the
    chart release and maps them (``harness/z2jh/``); ``config`` is that mapping.
    """

    chart: str = Field(description="z2jh chart release, e.g. '3.3.8' (harness/z2jh/charts.py lists them).")
    values: dict[str, Any] | None = Field(
        None, description="The chart values (your config.yaml, as `helm install -f` takes it); default: none."
    )
    values_file: str | None = Field(
        None, description="A values YAML file instead of `values`, relative to the scenario file."
    )
    kubespawner: str | None = Field(
        None,
        description=(
            f"KubeSpawner to run instead of the chart's pinned one: {UNDER_TEST!r} (the matrix row's "
            "release) or an exact version. The chart's JupyterHub stays."
        ),
    )
    jupyterhub: str | None = Field(
        None, description=f"JupyterHub to run instead of the chart's pinned one: {UNDER_TEST!r} or exact."
    )
    #: The mapping (a ``harness.z2jh.Z2jhConfig``) and where the values came from; set by the loader.
    _config: Any = PrivateAttr(default=None)
    _values_source: str = PrivateAttr(default="")

    _versions = field_validator("kubespawner", "jupyterhub")(exact_version)

    @model_validator(mode="after")
    def _one_source(self) -> ChartValues:
        if self.values is not None and self.values_file is not None:
            raise ValueError("give either 'values' (inline) or 'values_file' (a path), not both")
        return self

    @property
    def config(self) -> Z2jhConfig:
        """What the chart makes of the values; only a scenario read by the loader has it."""
        if self._config is None:
            raise RuntimeError(
                f"z2jh chart {self.chart}: values not mapped (load the scenario with the loader)"
            )
        config: Z2jhConfig = self._config
        return config

    @property
    def values_source(self) -> str:
        """``values_file prod.yaml`` / ``inline values``: for progress lines."""
        return self._values_source


class Z2jhInput(ChartValues):
    """Configure the hub from z2jh chart values instead of (or below) `kubespawner:` / `hub_config:`."""


class UpgradeChartStep(ChartValues, Body):
    """Restart the hub as `helm upgrade` to another chart release would: that chart's mapping of the
    given values becomes the config (the scenario's `kubespawner:`/`hub_config:` still on top), and
    the chart's releases (or `kubespawner: under-test`) the hub's."""
