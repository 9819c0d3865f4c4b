"""Zero to JupyterHub (z2jh) chart values -> the KubeSpawner / hub config that chart release produces.

Real deployments configure KubeSpawner through the z2jh Helm chart, and the chart (not KubeSpawner)
decides PVC names, mounts and labels; upgrading the chart changes them. This package lets a scenario
say "chart X with these values" and get exactly the traits that chart's ``jupyterhub_config.py``
would set, without Helm or the chart's code:

- ``charts``: the supported chart releases, their pinned KubeSpawner/JupyterHub and defaults;
- ``helm``: Helm's merge of user values over chart defaults;
- ``schema``: which keys each release accepts, and the precise problems (by key path) when not;
  it runs a ``walk`` (types, nulls, unknown keys) with the ``rules`` of the release (the mapped keys,
  ``ignored_keys`` the rest) and the ``checks`` of content and of the merged values;
- ``mapping``: ``map_values``, the replay of the chart's config file.
"""

from harness.z2jh.charts import CHARTS, ChartRelease, ChartVersions, UnknownChartError, chart_release
from harness.z2jh.mapping import DEFAULT_RELEASE, Z2jhConfig, map_values
from harness.z2jh.problems import ValuesPath, ValuesProblem, Z2jhValuesError
from harness.z2jh.schema import inspect_values, validate_values

__all__ = [
    "CHARTS",
    "DEFAULT_RELEASE",
    "ChartRelease",
    "ChartVersions",
    "UnknownChartError",
    "ValuesPath",
    "ValuesProblem",
    "Z2jhConfig",
    "Z2jhValuesError",
    "chart_release",
    "inspect_values",
    "map_values",
    "validate_values",
]
