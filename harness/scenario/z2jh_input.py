"""The loader's part for z2jh chart values: find them, check them against the chart, map them.

A scenario gives chart values at the top (``z2jh:``) and in ``upgrade_chart`` steps, inline
(``values:``) or as a path (``values_file:``, relative to the scenario file, so an admin can point at
the values they deploy with). Both kinds are checked with ``harness.z2jh.validate_values``, whose
problems carry key paths; this module places them: inline values at the scenario file's line and
column, a values file's at *that* file's. What maps cleanly is attached to the model (``config``),
so the runner never reads files or re-validates.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.scenario.errors import did_you_mean
from harness.scenario.marked import MarkedDocument, Path_, compose
from harness.scenario.models import Scenario
from harness.scenario.upgrade_bodies import ChartValues

_STEP_LISTS = ("steps", "finally")
#: The step kind whose body is chart values (besides the top-level ``z2jh:``).
UPGRADE_STEP = "upgrade_chart"


@dataclass(frozen=True)
class Resolved:
    """One chart-values spec that mapped: the mapping, and where its values came from."""

    config: Any
    source: str


def _specs(data: Any) -> Iterator[tuple[Path_, dict[Any, Any]]]:
    """``(path, raw spec)`` of the top-level ``z2jh:`` and every ``upgrade_chart`` body in the raw data."""
    if not isinstance(data, dict):
        return
    if isinstance(data.get("z2jh"), dict):
        yield ("z2jh",), data["z2jh"]
    for list_name in _STEP_LISTS:
        items = data.get(list_name)
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            if isinstance(item, dict) and isinstance(item.get(UPGRADE_STEP), dict):
                yield (list_name, index, UPGRADE_STEP), item[UPGRADE_STEP]


def check_z2jh(doc: MarkedDocument, base_dir: Path) -> dict[Path_, Resolved]:
    """Check every chart-values spec of ``doc``; problems go to ``doc.problems``.

    Returns the specs that mapped, by path. ``base_dir`` is where a relative ``values_file`` is read
    from (the scenario file's directory); messages name it relative to the scenario's shown name.
    """
    data = doc.data if isinstance(doc.data, dict) else {}
    if "z2jh" in data and data.get("deploy_with") is not None:
        doc.problem(
            ("deploy_with",),
            "z2jh decides the releases the hub is deployed with (the chart's pinned KubeSpawner and "
            "JupyterHub); drop deploy_with, or give z2jh.kubespawner / z2jh.jupyterhub",
            key=True,
        )
    resolved: dict[Path_, Resolved] = {}
    for path, spec in _specs(data):
        found = _resolve(doc, path, spec, base_dir)
        if found is not None:
            resolved[path] = found
    return resolved


def _resolve(doc: MarkedDocument, path: Path_, spec: dict[Any, Any], base_dir: Path) -> Resolved | None:
    # harness.z2jh imports harness.scenario.errors, whose package imports this module: import late
    from harness.z2jh import CHARTS, Z2jhValuesError, map_values, validate_values

    chart = spec.get("chart")
    known = isinstance(chart, str) and chart in CHARTS
    if isinstance(chart, str) and not known:
        doc.problem(
            (*path, "chart"),
            f"unknown z2jh chart version {chart!r}{did_you_mean(chart, CHARTS)}; known: {', '.join(CHARTS)}",
        )
    if "values" in spec and "values_file" in spec:
        return None  # the model says "not both"
    values_doc, prefix, source = doc, (*path, "values"), "inline values"
    values: Any = spec.get("values")
    if isinstance(spec.get("values_file"), str):
        loaded = _load_values_file(doc, (*path, "values_file"), spec["values_file"], base_dir)
        if loaded is None:
            return None
        values_doc, prefix = loaded, ()
        values = {} if loaded.data is None else loaded.data
        source = f"values_file {loaded.file}"
        if loaded.problems:
            doc.problems.extend(loaded.problems)
            return None
    elif "values" not in spec or values is None:
        values = {}
    elif not isinstance(values, dict):
        return None  # the model reports the type
    if not known:
        return None
    assert isinstance(chart, str)
    problems = validate_values(chart, values)
    if not problems:
        try:
            return Resolved(map_values(chart, values), source)
        except Z2jhValuesError as exc:
            problems = list(exc.problems)
    for problem in problems:
        values_doc.problem((*prefix, *problem.path), problem.message, key=problem.key)
    if values_doc is not doc:
        doc.problems.extend(values_doc.problems)
    return None


def _load_values_file(doc: MarkedDocument, at: Path_, name: str, base_dir: Path) -> MarkedDocument | None:
    """The values file ``name`` as a marked document, or None (and a problem at ``at``)."""
    file = Path(name) if os.path.isabs(name) else base_dir / name
    shown = name if os.path.isabs(name) else os.path.normpath(os.path.join(os.path.dirname(doc.file), name))
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        doc.problem(at, f"cannot read values file {shown}: {reason}")
        return None
    return compose(text, shown, empty=None)


def attach(scenario: Scenario, resolved: dict[Path_, Resolved]) -> None:
    """Give each chart-values model of ``scenario`` its mapping (the loader found no problems)."""
    specs: list[tuple[Path_, ChartValues]] = []
    if scenario.z2jh is not None:
        specs.append((("z2jh",), scenario.z2jh))
    for list_name, items in (("steps", scenario.steps), ("finally", scenario.finally_)):
        for index, item in enumerate(items):
            if item.kind == UPGRADE_STEP:
                assert isinstance(item.body, ChartValues)
                specs.append(((list_name, index, UPGRADE_STEP), item.body))
    for path, spec in specs:
        found = resolved[path]
        spec._config, spec._values_source = found.config, found.source


__all__ = ["Resolved", "attach", "check_z2jh"]
