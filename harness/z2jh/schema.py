"""Which z2jh values keys a scenario may write, per chart release, and the checks that find mistakes.

Helm validates values against the chart's ``values.schema.json`` and rejects unknown keys; the harness
must be at least as strict, and say *where*: every problem is a ``ValuesProblem`` with the key path.
Each key is one of:

- mapped: the mapping turns it into KubeSpawner / hub config (storage, uid/fsGid, hub.config, ...);
- ignored: a real chart key that does not touch per-user storage (resources, images, networking);
  accepted so a real ``config.yaml`` can be pasted, type-checked at its own level, and reported;
- rejected: a real chart key the harness cannot imitate faithfully (it would need chart resources or
  arbitrary code), refused when set to anything but its empty default.

Types follow the chart's ``values.schema.yaml`` at each tag; the extra checks (static storage needs a
PVC name, a volume needs a name, ...) catch values Helm accepts but that leave the hub unable to spawn.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from harness.scenario.errors import describe_value
from harness.z2jh.charts import chart_release
from harness.z2jh.checks import storage_checks
from harness.z2jh.problems import ValuesPath, ValuesProblem
from harness.z2jh.rules import rules_for
from harness.z2jh.walk import Rule, Walk


def inspect_values(chart: str, values: Any) -> tuple[list[ValuesProblem], list[ValuesPath]]:
    """Problems in ``values`` for ``chart`` (empty when it maps) and the ignored keys it sets.

    Raises UnknownChartError for a chart version the table does not know.
    """
    release = chart_release(chart)
    walk = Walk(release, rules_for(release))
    if not isinstance(values, dict):
        walk.problem((), f"expected a mapping of chart values, got {describe_value(values)}")
        return walk.problems, walk.ignored
    walk.mapping((), values)
    if not walk.problems:
        storage_checks(walk, values)
    return walk.problems, walk.ignored


def validate_values(chart: str, values: Any) -> list[ValuesProblem]:
    """Every problem in ``values`` for ``chart``, in document order; empty when it maps cleanly."""
    return inspect_values(chart, values)[0]


def iter_rules(chart: str) -> Iterator[tuple[ValuesPath, Rule]]:
    """The keys ``chart`` accepts, for documentation and tests."""
    yield from rules_for(chart_release(chart)).items()
