"""Checks a key's type alone cannot express: content of free-form keys, and the merged values.

The content checks (``Rule.check``) look inside mappings and lists the chart passes on (volumes,
labels, ``hub.config``); ``storage_checks`` judges the values merged over the chart's defaults, where
Helm accepts what leaves KubeSpawner unable to spawn (static storage without a PVC name, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from harness.scenario.errors import describe_value, did_you_mean
from harness.scenario.kubespawner_traits import KUBESPAWNER_TRAITS
from harness.z2jh.charts import ChartRelease
from harness.z2jh.helm import coalesce
from harness.z2jh.ignored_keys import HUB_IGNORED
from harness.z2jh.problems import ValuesPath
from harness.z2jh.walk import MISSING, Checker, Walk, json_type


def string_values(walk: Walk, path: ValuesPath, value: dict[Any, Any]) -> None:
    """``storage.extraLabels``: the schema's ``patternProperties: {.*: {type: string}}``."""
    for key, item in value.items():
        if not isinstance(key, str):
            walk.problem((*path, key), f"keys must be strings, got {describe_value(key)}", key=True)
        elif not isinstance(item, str):
            suffix = (
                "; quote it to make it a string"
                if json_type(item) in ("integer", "number", "boolean")
                else ""
            )
            walk.problem((*path, key), f"expected a string, got {describe_value(item)}{suffix}")


def string_items(walk: Walk, path: ValuesPath, value: list[Any]) -> None:
    """``dynamic.storageAccessModes``: items are strings (the schema also admits null items)."""
    for index, item in enumerate(value):
        if item is not None and not isinstance(item, str):
            walk.problem((*path, index), f"expected a string, got {describe_value(item)}")


def entries(what: Literal["volume", "volume mount"], required: tuple[str, ...]) -> Checker:
    """``extraVolumes`` / ``extraVolumeMounts``: a list (or, from 4.3.0, a mapping) of k8s objects.

    The chart reads ``volume["name"]`` (4.3.0+) and KubeSpawner builds a k8s model from every entry,
    so an entry that is not a mapping or lacks its required fields breaks the hub or the spawn.
    """

    def check(walk: Walk, path: ValuesPath, value: Any) -> None:
        entries = list(enumerate(value)) if isinstance(value, list) else list(value.items())
        for key, entry in entries:
            where = (*path, key)
            if not isinstance(key, (str, int)):
                walk.problem(where, f"keys must be strings, got {describe_value(key)}", key=True)
            elif not isinstance(entry, dict):
                walk.problem(where, f"expected a mapping (a {what}), got {describe_value(entry)}")
            else:
                for name in required:
                    if not isinstance(entry.get(name), str):
                        got = "it is missing" if name not in entry else f"got {describe_value(entry[name])}"
                        walk.problem(where, f"a {what} needs {name!r} (a string); {got}")
                walk.plain(where, entry)

    return check


#: hub.config traits the chart takes out of the pass-through (jupyterhub_config.py, "load hub.config
#: values, except potentially seeded secrets already loaded") and what it does with them instead.
_HUB_CONFIG_WITHHELD: dict[tuple[str, str], str] = {
    ("JupyterHub", "proxy_auth_token"): "a secret the chart loads from its k8s Secret",
    ("JupyterHub", "cookie_secret"): "a secret the chart loads from its k8s Secret",
    ("JupyterHub", "services"): "dropped by the chart (it builds services from hub.services)",
    ("ConfigurableHTTPProxy", "auth_token"): "a secret the chart loads from its k8s Secret",
    ("CryptKeeper", "keys"): "a secret the chart loads from its k8s Secret",
}


def hub_config(walk: Walk, path: ValuesPath, value: dict[Any, Any]) -> None:
    """``hub.config``: ``{Class: {trait: value}}``, passed through as ``c[Class].update(...)``."""
    for section, traits in value.items():
        where = (*path, section)
        if not isinstance(section, str) or not section.isidentifier() or not section.isascii():
            walk.problem(where, "a config section must be a class name such as JupyterHub", key=True)
            continue
        if not section[:1].isupper():
            walk.problem(where, _lowercase_section(walk.release, section), key=True)
            continue
        if traits is None:
            if walk.default(where) in (None, MISSING):
                walk.problem(where, "expected a mapping of trait: value, got null")
            continue
        if not isinstance(traits, dict):
            walk.problem(where, f"expected a mapping of trait: value, got {describe_value(traits)}")
            continue
        for trait, item in traits.items():
            _hub_config_trait(walk, (*where, trait), section, trait, item)


def _lowercase_section(release: ChartRelease, section: str) -> str:
    message = f"{section!r} is not a config class name (they start with a capital letter)"
    if section in HUB_IGNORED or section in ("allowNamedServers", "namedServerLimitPerUser", "extraConfig"):
        message += f"; did you mean hub.{section}?"
    if release.config.lowercase_hub_config_section == "fatal":
        return message + f"; chart {release.version} exits on it"
    return message + f"; chart {release.version} silently ignores it"


def _hub_config_trait(walk: Walk, where: ValuesPath, section: str, trait: Any, item: Any) -> None:
    if not isinstance(trait, str) or not trait.isidentifier() or not trait.isascii():
        walk.problem(where, f"{trait!r} is not a trait name", key=True)
    elif (section, trait) in _HUB_CONFIG_WITHHELD:
        walk.problem(where, f"not passed through: {_HUB_CONFIG_WITHHELD[section, trait]}", key=True)
    elif section == "KubeSpawner" and trait not in KUBESPAWNER_TRAITS:
        walk.problem(
            where,
            f"unknown KubeSpawner trait{did_you_mean(trait, KUBESPAWNER_TRAITS)}; allowed: the configurable "
            "KubeSpawner traits (harness/scenario/kubespawner_traits.py)",
            key=True,
        )
    else:
        walk.plain(where, item)


# ------------------------------------------------------------------------- checks on merged values
def storage_checks(walk: Walk, values: Mapping[str, Any]) -> None:
    """Values Helm accepts but that leave KubeSpawner unable to spawn, judged on the merged values."""
    merged = coalesce(walk.release.defaults, values)
    storage = merged["singleuser"]["storage"]
    kind = storage["type"]
    prefix: ValuesPath = ("singleuser", "storage")

    def at(*parts: str) -> ValuesPath:
        """The user's key when they wrote it (a null), else storage.type, which chose this branch."""
        node: Any = values
        for part in (*prefix, *parts):
            if not isinstance(node, dict) or part not in node:
                return (*prefix, "type")
            node = node[part]
        return (*prefix, *parts)

    if kind == "static" and not storage.get("static", {}).get("pvcName"):
        walk.problem(
            at("static", "pvcName"),
            "type 'static' needs singleuser.storage.static.pvcName: without it the chart mounts "
            "claimName: null, which the API server rejects",
        )
    if kind != "dynamic":
        return
    dynamic = storage.get("dynamic", {})
    if not dynamic.get("volumeNameTemplate"):
        walk.problem(
            at("dynamic", "volumeNameTemplate"),
            "type 'dynamic' needs singleuser.storage.dynamic.volumeNameTemplate: the chart names the home "
            "volume with it",
        )
    if walk.release.config.pvc_name_template_always_set and not dynamic.get("pvcNameTemplate"):
        walk.problem(
            at("dynamic", "pvcNameTemplate"),
            f"chart {walk.release.version} always sets c.KubeSpawner.pvc_name_template to this value, and "
            f"KubeSpawner {walk.release.versions.kubespawner} cannot name a PVC from an empty or null one",
        )
