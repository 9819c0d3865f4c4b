"""Read the admin's storage config: z2jh values, or ``c.KubeSpawner`` traits from a .py or .yaml file.

The .py file is read with ``ast``, never executed: only ``c.<Class>.<trait> = <literal>`` assignments are
taken, and anything else that assigns to ``c`` is reported, so the check never runs foreign code and
never silently drops a setting. Every problem is a ``CheckInputError`` whose message is one line that
names the file (and line) and what to change.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from packaging.version import InvalidVersion, Version

from harness.scenario.errors import did_you_mean
from harness.scenario.kubespawner_traits import KUBESPAWNER_TRAITS
from harness.z2jh import CHARTS, UnknownChartError, Z2jhConfig, Z2jhValuesError, map_values

#: The chart release ``--values`` is checked against when ``--chart`` is not given.
DEFAULT_CHART = "4.4.0"
#: The KubeSpawner release ``--kubespawner-config`` is checked against when ``--kubespawner`` is not given.
DEFAULT_KUBESPAWNER = "7.1.0"


class CheckInputError(ValueError):
    """The admin's input cannot be used; ``str()`` is the one line ``jhsc check`` prints."""


@dataclass(frozen=True)
class ValuesInput:
    """z2jh values and the chart releases: the one in use and, optionally, the planned upgrade."""

    path: Path
    values: dict[str, Any]
    chart: str
    upgrade_to_chart: str | None
    config: Z2jhConfig

    @property
    def kubespawner(self) -> str:
        return self.config.versions.kubespawner

    @property
    def jupyterhub(self) -> str | None:
        """The chart's JupyterHub: the matrix column then names what the hub really runs."""
        return self.config.versions.jupyterhub

    @property
    def hub_config(self) -> dict[str, Any]:
        return self.config.hub_config

    def describe(self) -> str:
        upgrade = f", upgrading to chart {self.upgrade_to_chart}" if self.upgrade_to_chart else ""
        return f"z2jh values {self.path} on chart {self.chart} (KubeSpawner {self.kubespawner}){upgrade}"


@dataclass(frozen=True)
class TraitsInput:
    """``c.KubeSpawner`` traits (and other ``Class.trait`` hub config) and the releases to check."""

    path: Path
    kubespawner_traits: dict[str, Any]
    hub_config: dict[str, Any] = field(default_factory=dict)
    kubespawner: str = DEFAULT_KUBESPAWNER
    upgrade_to: str | None = None
    #: The JupyterHub recorded for the KubeSpawner release (the harness's default).
    jupyterhub: str | None = None

    def describe(self) -> str:
        upgrade = f", upgrading to KubeSpawner {self.upgrade_to}" if self.upgrade_to else ""
        return f"KubeSpawner config {self.path} on KubeSpawner {self.kubespawner}{upgrade}"


CheckInput = ValuesInput | TraitsInput


def allows_named_servers(source: CheckInput) -> bool:
    return bool(source.hub_config.get("JupyterHub.allow_named_servers"))


# ------------------------------------------------------------------------------------------- files
def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CheckInputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckInputError(f"{path}: cannot be read: {exc}") from None


def _read_yaml_mapping(path: Path, what: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(_read_text(path))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CheckInputError(f"{where}: not valid YAML ({problem}); expected {what}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CheckInputError(f"{path}: expected {what} (a YAML mapping), got a {type(data).__name__}")
    return data


def _exact_version(value: str, option: str) -> str:
    try:
        Version(value)
    except InvalidVersion:
        raise CheckInputError(f"{option} {value!r}: not a version; expected e.g. 7.1.0") from None
    return value


# ------------------------------------------------------------------------------------------ values
def _known_chart(chart: str, option: str) -> str:
    if chart not in CHARTS:
        raise CheckInputError(f"{option} {chart!r}: unknown z2jh chart release; known: {', '.join(CHARTS)}")
    return chart


def _map(path: Path, chart: str, values: dict[str, Any]) -> Z2jhConfig:
    try:
        return map_values(chart, values)
    except UnknownChartError as exc:
        raise CheckInputError(f"{path}: {exc}") from None
    except Z2jhValuesError as exc:
        more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
        raise CheckInputError(f"{path}: {exc.problems[0]} (z2jh chart {chart}){more}") from None


def read_values(path: Path, chart: str | None, upgrade_to_chart: str | None) -> ValuesInput:
    """z2jh values as ``helm install -f`` takes them, checked against the chart (and the upgrade's)."""
    chart = _known_chart(chart or DEFAULT_CHART, "--chart")
    if upgrade_to_chart is not None:
        _known_chart(upgrade_to_chart, "--upgrade-to-chart")
    values = _read_yaml_mapping(path, "z2jh chart values (your config.yaml)")
    config = _map(path, chart, values)
    if upgrade_to_chart is not None:
        _map(path, upgrade_to_chart, values)
    return ValuesInput(path, values, chart, upgrade_to_chart, config)


# ------------------------------------------------------------------------------------------ traits
def _split_key(key: str) -> tuple[str, str]:
    """``storage_capacity`` / ``KubeSpawner.storage_capacity`` / ``JupyterHub.allow_named_servers``."""
    cls, dot, trait = key.rpartition(".")
    if not dot:
        return "KubeSpawner", key
    return cls.removeprefix("c."), trait


def _sort(path: Path, where: str, key: str, value: Any, out: TraitsInput) -> None:
    cls, trait = _split_key(key)
    if cls == "KubeSpawner":
        if trait not in KUBESPAWNER_TRAITS:
            raise CheckInputError(
                f"{where}: unknown KubeSpawner trait {trait!r}{did_you_mean(trait, KUBESPAWNER_TRAITS)} "
                "(KubeSpawner would reject it)"
            )
        out.kubespawner_traits[trait] = value
    elif not cls.isidentifier() or not trait.isidentifier():
        raise CheckInputError(f"{where}: {key!r} is not a trait name; expected e.g. storage_capacity")
    else:
        out.hub_config[f"{cls}.{trait}"] = value


def _attribute_key(target: ast.expr) -> str | None:
    """``c.KubeSpawner.x`` -> ``KubeSpawner.x``; anything else -> None."""
    if (
        isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Attribute)
        and isinstance(target.value.value, ast.Name)
        and target.value.value.id == "c"
    ):
        return f"{target.value.attr}.{target.attr}"
    return None


def _py_assignments(path: Path, text: str) -> list[tuple[int, str, Any]]:
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        raise CheckInputError(f"{path}:{exc.lineno}: not valid Python ({exc.msg})") from None
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            key = _attribute_key(target)
            if key is None:
                continue
            where = f"{path}:{node.lineno}"
            if not isinstance(node, ast.Assign) or node.value is None:
                raise CheckInputError(f"{where}: write c.{key} = <value>; jhsc check reads plain assignments")
            try:
                value = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                raise CheckInputError(
                    f"{where}: c.{key} is not a literal value; jhsc check reads the file without running it, "
                    "so write the value itself (a string, number, list or dict)"
                ) from None
            found.append((node.lineno, key, value))
    return sorted(found, key=lambda item: item[0])


def read_traits(path: Path, kubespawner: str | None, upgrade_to: str | None) -> TraitsInput:
    """``c.KubeSpawner`` storage traits from a jupyterhub_config-style .py file or a trait -> value YAML."""
    out = TraitsInput(
        path,
        {},
        {},
        _exact_version(kubespawner or DEFAULT_KUBESPAWNER, "--kubespawner"),
        _exact_version(upgrade_to, "--upgrade-to") if upgrade_to else None,
    )
    if path.suffix == ".py":
        for line, key, value in _py_assignments(path, _read_text(path)):
            _sort(path, f"{path}:{line}", key, value, out)
    elif path.suffix in (".yaml", ".yml", ".json"):
        for key, value in _read_yaml_mapping(path, "KubeSpawner traits: trait name -> value").items():
            _sort(path, f"{path}: {key}", str(key), value, out)
    else:
        raise CheckInputError(f"{path}: expected a .py (jupyterhub_config style) or .yaml file of traits")
    if not out.kubespawner_traits:
        raise CheckInputError(f"{path}: no c.KubeSpawner traits found; nothing to check")
    reject_invalid_traits(path, out.kubespawner_traits)
    return out


def reject_invalid_traits(path: Path, traits: dict[str, Any]) -> None:
    """Validate each value with KubeSpawner's own trait type, as the hub would when it configures the
    spawner (a spawn would fail with a 500 otherwise). Skipped when KubeSpawner is not installed here."""
    try:
        from kubespawner import KubeSpawner
        from traitlets import HasTraits, TraitError
    except ImportError:
        return

    class Probe(HasTraits):
        """The object container traits validate against (they need one; KubeSpawner() needs a hub)."""

    declared = KubeSpawner.class_traits()
    for name, value in traits.items():
        trait = declared.get(name)
        if trait is None:
            continue
        try:
            trait.validate(Probe(), value)
        except TraitError as exc:
            message = str(exc).replace(" of a Probe instance", "").splitlines()[0]
            raise CheckInputError(f"{path}: {name}: KubeSpawner rejects it: {message}") from None
        except Exception:  # a validator that needs a real spawner: the run will tell
            continue
