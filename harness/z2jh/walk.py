"""The values walk: what a key may hold (``Rule``) and one validation pass over a values mapping.

The walk knows the JSON types, enums, nulls that delete chart defaults and unknown keys; the rules it
applies come from ``harness.z2jh.rules`` and the content checks they name from ``harness.z2jh.checks``
(kept apart so the walk is read without the per-release key tables).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from harness.scenario.errors import describe_value, did_you_mean
from harness.z2jh.charts import ChartRelease
from harness.z2jh.problems import ValuesPath, ValuesProblem

JsonType = Literal["string", "integer", "number", "boolean", "object", "array", "null"]
_NAMES: dict[str, str] = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}
#: What ``Walk.default`` returns for a key the chart does not set.
MISSING = object()


class Use(Enum):
    """What the harness does with a key (see ``harness.z2jh.schema``)."""

    MAPPED = "mapped"
    IGNORED = "ignored"
    REJECTED = "rejected"


#: A further check of a value's content, reporting through the walk.
Checker = Callable[["Walk", ValuesPath, Any], None]


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
class Walk:
    """One validation pass: the rules of one chart release, the problems and ignored keys found."""

    def __init__(self, release: ChartRelease, rules: dict[ValuesPath, Rule]) -> None:
        self.release = release
        self.rules = rules
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
                return MISSING
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
        deletes = default is not MISSING and default is not None
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
