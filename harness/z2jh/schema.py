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

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from harness.scenario.errors import describe_value, did_you_mean
from harness.scenario.kubespawner_traits import KUBESPAWNER_TRAITS
from harness.z2jh.charts import ChartRelease, chart_release
from harness.z2jh.helm import coalesce
from harness.z2jh.problems import ValuesPath, ValuesProblem

JsonType = Literal["string", "integer", "number", "boolean", "object", "array", "null"]
_ANY: tuple[JsonType, ...] = ("string", "integer", "number", "boolean", "object", "array", "null")
_NAMES: dict[str, str] = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}
_MISSING = object()


class Use(Enum):
    MAPPED = "mapped"
    IGNORED = "ignored"
    REJECTED = "rejected"


Checker = Callable[["_Walk", ValuesPath, Any], None]


@dataclass(frozen=True)
class Rule:
    """What one key may hold."""

    types: tuple[JsonType, ...]
    use: Use = Use.MAPPED
    enum: tuple[str, ...] = ()
    #: The chart's schema requires the key, so a null that deletes its default is an error.
    required: bool = False
    #: Further checks of the value's content (free-form mappings and lists).
    check: Checker | None = None
    #: Appended to a type error.
    hint: str = ""
    #: For REJECTED keys: why; ``allow_empty`` admits the empty default ({}, [], null).
    reason: str = ""
    allow_empty: bool = True

    def expected(self) -> str:
        """What the key may hold, for messages (null aside: a message never suggests writing null)."""
        if self.enum:
            return "one of " + ", ".join(repr(choice) for choice in self.enum)
        return " or ".join(_NAMES[t] for t in self.types if t != "null") or "null"


def json_type(value: Any) -> JsonType | None:
    """The JSON type of a YAML value; None for what JSON has no type for (dates, sets, bytes)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return None


# ------------------------------------------------------------------------------------------ walking
class _Walk:
    """One validation pass: the rules of one chart release, the problems and ignored keys found."""

    def __init__(self, release: ChartRelease) -> None:
        self.release = release
        self.rules = rules_for(release)
        self.children: dict[ValuesPath, dict[str, Rule]] = {}
        for path, rule in self.rules.items():
            self.children.setdefault(path[:-1], {})[str(path[-1])] = rule
        self.problems: list[ValuesProblem] = []
        self.ignored: list[ValuesPath] = []

    def problem(self, path: ValuesPath, message: str, *, key: bool = False) -> None:
        self.problems.append(ValuesProblem(path, message, key))

    def default(self, path: ValuesPath) -> Any:
        node: Any = self.release.defaults
        for part in path:
            if not isinstance(node, Mapping) or part not in node:
                return _MISSING
            node = node[part]
        return node

    def mapping(self, path: ValuesPath, value: dict[Any, Any]) -> None:
        allowed = self.children.get(path, {})
        for key, item in value.items():
            child = (*path, key)
            if not isinstance(key, str):
                self.problem(child, f"keys must be strings, got {describe_value(key)}", key=True)
            elif key not in allowed:
                self.problem(child, _unknown(key, allowed), key=True)
            else:
                self.value(child, item, allowed[key])

    def value(self, path: ValuesPath, value: Any, rule: Rule) -> None:
        if rule.use is Use.IGNORED:
            self.ignored.append(path)
        if value is None:
            self.null(path, rule)
            return
        kind = json_type(value)
        if kind is None:
            self.problem(path, _not_plain(value))
            return
        if kind not in rule.types and not (kind == "integer" and "number" in rule.types):
            message = f"expected {rule.expected()}, got {describe_value(value)}"
            if "string" in rule.types and kind in ("integer", "number", "boolean"):
                message += "; quote it to make it a string"
            self.problem(path, message + rule.hint)
            return
        if rule.enum and value not in rule.enum:
            choices = ", ".join(repr(choice) for choice in rule.enum)
            self.problem(
                path,
                f"expected one of {choices}, got {describe_value(value)}{did_you_mean(value, rule.enum)}",
            )
            return
        if rule.use is Use.REJECTED and (value or not rule.allow_empty):
            self.problem(path, rule.reason)
            return
        if kind == "object" and path in self.children:
            self.mapping(path, value)
        if rule.check is not None:
            rule.check(self, path, value)

    def null(self, path: ValuesPath, rule: Rule) -> None:
        default = self.default(path)
        deletes = default is not _MISSING and default is not None
        if rule.use is Use.IGNORED:
            return
        if rule.use is Use.REJECTED and not rule.allow_empty:
            self.problem(path, rule.reason)
        elif deletes and (rule.required or path in self.children):
            what = "all the chart's defaults beneath it" if path in self.children else "the required key"
            self.problem(path, f"expected {rule.expected()}, got null (a null here deletes {what})")
        elif not deletes and "null" not in rule.types:
            self.problem(path, f"expected {rule.expected()}, got null{rule.hint}")

    def plain(self, path: ValuesPath, value: Any) -> None:
        """Free-form content must still be JSON-like data: string keys, no dates or sets."""
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    self.problem((*path, key), f"keys must be strings, got {describe_value(key)}", key=True)
                else:
                    self.plain((*path, key), item)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.plain((*path, index), item)
        elif json_type(value) is None:
            self.problem(path, _not_plain(value))


def _unknown(key: str, allowed: Mapping[str, Rule]) -> str:
    hint = did_you_mean(key, allowed)
    if hint:
        return f"unknown key{hint}"
    return "unknown key; allowed: " + ", ".join(sorted(allowed))


def _not_plain(value: Any) -> str:
    return f"YAML read this as a {type(value).__name__} ({value}); quote it to make it a string"


# ---------------------------------------------------------------------------------- content checks
def _string_values(walk: _Walk, path: ValuesPath, value: dict[Any, Any]) -> None:
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


def _string_items(walk: _Walk, path: ValuesPath, value: list[Any]) -> None:
    """``dynamic.storageAccessModes``: items are strings (the schema also admits null items)."""
    for index, item in enumerate(value):
        if item is not None and not isinstance(item, str):
            walk.problem((*path, index), f"expected a string, got {describe_value(item)}")


def _entries(what: Literal["volume", "volume mount"], required: tuple[str, ...]) -> Checker:
    """``extraVolumes`` / ``extraVolumeMounts``: a list (or, from 4.3.0, a mapping) of k8s objects.

    The chart reads ``volume["name"]`` (4.3.0+) and KubeSpawner builds a k8s model from every entry,
    so an entry that is not a mapping or lacks its required fields breaks the hub or the spawn.
    """

    def check(walk: _Walk, path: ValuesPath, value: Any) -> None:
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


def _hub_config(walk: _Walk, path: ValuesPath, value: dict[Any, Any]) -> None:
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
            if walk.default(where) in (None, _MISSING):
                walk.problem(where, "expected a mapping of trait: value, got null")
            continue
        if not isinstance(traits, dict):
            walk.problem(where, f"expected a mapping of trait: value, got {describe_value(traits)}")
            continue
        for trait, item in traits.items():
            _hub_config_trait(walk, (*where, trait), section, trait, item)


def _lowercase_section(release: ChartRelease, section: str) -> str:
    message = f"{section!r} is not a config class name (they start with a capital letter)"
    if section in _HUB_IGNORED or section in ("allowNamedServers", "namedServerLimitPerUser", "extraConfig"):
        message += f"; did you mean hub.{section}?"
    if release.config.lowercase_hub_config_section == "fatal":
        return message + f"; chart {release.version} exits on it"
    return message + f"; chart {release.version} silently ignores it"


def _hub_config_trait(walk: _Walk, where: ValuesPath, section: str, trait: Any, item: Any) -> None:
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


# ------------------------------------------------------------------------------------------- rules
#: singleuser keys that do not touch per-user storage: JSON types from values.schema.yaml (3.3.8 …
#: 4.4.0 agree), content not inspected. ``extraLabels`` here is the *pod* labels (PVCs get
#: ``storage.extraLabels``); ``extraPodConfig``/containers could name volumes but do not create them.
_SINGLEUSER_IGNORED: dict[str, tuple[JsonType, ...]] = {
    "podNameTemplate": ("string", "null"),
    "extraTolerations": ("array",),
    "nodeSelector": ("object",),
    "extraNodeAffinity": ("object",),
    "extraPodAffinity": ("object",),
    "extraPodAntiAffinity": ("object",),
    "networkTools": ("object",),
    "cloudMetadata": ("object",),
    "networkPolicy": ("object",),
    "events": ("boolean", "null"),
    "extraAnnotations": ("object",),
    "extraLabels": ("object",),
    "extraEnv": ("object", "array"),
    "lifecycleHooks": ("object",),
    "initContainers": ("array",),
    "extraContainers": ("array",),
    "allowPrivilegeEscalation": ("boolean", "null"),
    "serviceAccountName": ("string", "null"),
    "image": ("object",),
    "startTimeout": ("integer", "null"),
    "cpu": ("object",),
    "memory": ("object",),
    "extraResource": ("object",),
    "cmd": ("array", "string", "null"),
    "defaultUrl": ("string", "null"),
    "extraPodConfig": ("object",),
}

#: hub keys other than the mapped ones: they configure the hub pod, not the users' storage.
_HUB_IGNORED: dict[str, tuple[JsonType, ...]] = {
    "activeServerLimit": ("integer", "null"),
    "annotations": ("object",),
    "args": ("array",),
    "authenticatePrometheus": ("boolean", "null"),
    "baseUrl": ("string",),
    "command": ("array",),
    "concurrentSpawnLimit": ("integer", "null"),
    "consecutiveFailureLimit": ("integer", "null"),
    "containerSecurityContext": ("object",),
    "cookieSecret": ("string", "null"),
    "deploymentStrategy": ("object",),
    "existingSecret": ("string", "null"),
    "extraContainers": ("array",),
    "extraEnv": ("object", "array"),
    "extraFiles": ("object",),
    "extraPodSpec": ("object",),
    "extraVolumeMounts": ("array",),
    "extraVolumes": ("array",),
    "image": ("object",),
    "initContainers": ("array",),
    "labels": ("object",),
    "lifecycle": ("object",),
    "livenessProbe": ("object",),
    "loadRoles": ("object",),
    "networkPolicy": ("object",),
    "nodeSelector": ("object",),
    "pdb": ("object",),
    "podSecurityContext": _ANY,
    "readinessProbe": ("object",),
    "redirectToServer": ("boolean", "null"),
    "resources": ("object",),
    "revisionHistoryLimit": ("integer", "null"),
    "service": ("object",),
    "serviceAccount": ("object",),
    "services": ("object",),
    "shutdownOnLogout": ("boolean", "null"),
    "templatePaths": ("array",),
    "templateVars": ("object",),
    "tolerations": ("array",),
}

#: Top-level keys other than singleuser/hub/nameOverride (every release has these).
_TOP_IGNORED: dict[str, tuple[JsonType, ...]] = {
    "cull": ("object",),
    "custom": ("object",),
    "debug": ("object",),
    "enabled": ("boolean", "null"),
    "fullnameOverride": ("string", "null"),
    "global": ("object",),
    "imagePullSecret": ("object",),
    "imagePullSecrets": ("array",),
    "ingress": ("object",),
    "prePuller": ("object",),
    "proxy": ("object",),
    "rbac": ("object",),
    "scheduling": ("object",),
}

_STRING_OR_NULL: tuple[JsonType, ...] = ("string", "null")


def rules_for(release: ChartRelease) -> dict[ValuesPath, Rule]:
    """Every key a values mapping may hold for ``release``, by path."""
    volume_types: tuple[JsonType, ...] = ("array",)
    volume_hint = "; the mapping form is accepted from chart 4.3.0 on"
    if release.config.volumes_as_dict:
        volume_types, volume_hint = ("object", "array", "null"), ""
    table: dict[str, Rule] = {
        "nameOverride": Rule(_STRING_OR_NULL),
        "singleuser": Rule(("object",)),
        "singleuser.uid": Rule(("integer", "null")),
        "singleuser.fsGid": Rule(("integer", "null")),
        "singleuser.extraFiles": Rule(
            ("object",),
            Use.REJECTED,
            reason="not supported: the chart mounts these from its own k8s Secret, which the harness "
            "does not create; use storage.extraVolumes",
        ),
        "singleuser.profileList": Rule(
            ("array",),
            Use.REJECTED,
            reason="not supported: profiles override traits per spawn through the spawn form; set the "
            "storage values directly",
        ),
        "singleuser.storage": Rule(("object",)),
        "singleuser.storage.type": Rule(("string",), enum=("dynamic", "static", "none"), required=True),
        "singleuser.storage.capacity": Rule(_STRING_OR_NULL),
        "singleuser.storage.homeMountPath": Rule(("string",), required=True),
        "singleuser.storage.extraLabels": Rule(("object",), check=_string_values),
        "singleuser.storage.extraVolumes": Rule(
            volume_types, check=_entries("volume", ("name",)), hint=volume_hint
        ),
        "singleuser.storage.extraVolumeMounts": Rule(
            volume_types, check=_entries("volume mount", ("name", "mountPath")), hint=volume_hint
        ),
        "singleuser.storage.static": Rule(("object",)),
        "singleuser.storage.static.pvcName": Rule(_STRING_OR_NULL),
        "singleuser.storage.static.subPath": Rule(_STRING_OR_NULL),
        "singleuser.storage.dynamic": Rule(("object",)),
        "singleuser.storage.dynamic.storageClass": Rule(_STRING_OR_NULL),
        "singleuser.storage.dynamic.pvcNameTemplate": Rule(_STRING_OR_NULL),
        "singleuser.storage.dynamic.volumeNameTemplate": Rule(_STRING_OR_NULL),
        "singleuser.storage.dynamic.storageAccessModes": Rule(("array",), check=_string_items),
        "hub": Rule(("object",)),
        "hub.config": Rule(("object",), check=_hub_config),
        "hub.allowNamedServers": Rule(("boolean", "null")),
        # the harness's hub always keeps its own sqlite DB; type and upgrade decide --upgrade-db
        "hub.db": Rule(("object",)),
        "hub.db.type": Rule(("string",), enum=("sqlite-pvc", "sqlite-memory", "mysql", "postgres", "other")),
        "hub.db.upgrade": Rule(("boolean", "null")),
        "hub.db.pvc": Rule(("object",), Use.IGNORED),
        "hub.db.url": Rule(_STRING_OR_NULL, Use.IGNORED),
        "hub.db.password": Rule(_STRING_OR_NULL, Use.IGNORED),
        "hub.namedServerLimitPerUser": Rule(("integer", "null")),
        "hub.extraConfig": Rule(
            ("object",),
            Use.REJECTED,
            reason="not supported: arbitrary Python; write traits under hub.config (or the scenario's "
            "kubespawner:) instead",
        ),
        "hub.fsGid": Rule(
            ("integer", "null"),
            Use.REJECTED,
            allow_empty=False,
            reason="the chart refuses to install with hub.fsGid (removed in 2.0.0; it is "
            "hub.podSecurityContext.fsGroup now)",
        ),
    }
    if release.config.dynamic_sub_path:
        table["singleuser.storage.dynamic.subPath"] = Rule(_STRING_OR_NULL)
    for prefix, ignored in (("singleuser.", _SINGLEUSER_IGNORED), ("hub.", _HUB_IGNORED), ("", _TOP_IGNORED)):
        for name, types in ignored.items():
            table[prefix + name] = Rule(types, Use.IGNORED)
    for name in release.extra_top_level_keys:
        table[name] = Rule(("object",), Use.IGNORED)
    return {tuple(dotted.split(".")): rule for dotted, rule in table.items()}


# ------------------------------------------------------------------------- checks on merged values
def _storage_checks(walk: _Walk, values: Mapping[str, Any]) -> None:
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


# ------------------------------------------------------------------------------------------ public
def inspect_values(chart: str, values: Any) -> tuple[list[ValuesProblem], list[ValuesPath]]:
    """Problems in ``values`` for ``chart`` (empty when it maps) and the ignored keys it sets.

    Raises UnknownChartError for a chart version the table does not know.
    """
    walk = _Walk(chart_release(chart))
    if not isinstance(values, dict):
        walk.problem((), f"expected a mapping of chart values, got {describe_value(values)}")
        return walk.problems, walk.ignored
    walk.mapping((), values)
    if not walk.problems:
        _storage_checks(walk, values)
    return walk.problems, walk.ignored


def validate_values(chart: str, values: Any) -> list[ValuesProblem]:
    """Every problem in ``values`` for ``chart``, in document order; empty when it maps cleanly."""
    return inspect_values(chart, values)[0]


def iter_rules(chart: str) -> Iterator[tuple[ValuesPath, Rule]]:
    """The keys ``chart`` accepts, for documentation and tests."""
    yield from rules_for(chart_release(chart)).items()
