"""Helm's merge of user values over chart defaults (Helm v3.21.4 pkg/chartutil/coalesce.go)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.z2jh.helm import as_rendered, coalesce

DEFAULTS = {
    "top": "default",
    "nulltop": None,
    "table": {"keep": 1, "replace": [1, 2], "gone": "x", "nulldefault": None, "sub": {"a": 1}},
}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param({}, DEFAULTS, id="coalesceValues: no user values -> the defaults"),
        pytest.param(
            {"top": None}, {k: v for k, v in DEFAULTS.items() if k != "top"}, id="top-level null deletes"
        ),
        pytest.param(
            {"nulltop": None},
            {k: v for k, v in DEFAULTS.items() if k != "nulltop"},
            id="top-level null always deletes",
        ),
        pytest.param(
            {"table": {"replace": [3]}},
            {**DEFAULTS, "table": {**DEFAULTS["table"], "replace": [3]}},
            id="lists replace, never merge",
        ),
        pytest.param(
            {"table": {"gone": None}},
            {**DEFAULTS, "table": {k: v for k, v in DEFAULTS["table"].items() if k != "gone"}},
            id="coalesceTablesFullKey: null over a non-null default deletes",
        ),
        pytest.param(
            {"table": {"nulldefault": None, "new": None}},
            {**DEFAULTS, "table": {**DEFAULTS["table"], "new": None}},
            id="coalesceTablesFullKey: null over a null default, or no default, stays null",
        ),
        pytest.param(
            {"table": {"sub": {"b": 2}}},
            {**DEFAULTS, "table": {**DEFAULTS["table"], "sub": {"a": 1, "b": 2}}},
            id="tables merge key by key",
        ),
        pytest.param(
            {"table": {"sub": "scalar"}},
            {**DEFAULTS, "table": {**DEFAULTS["table"], "sub": "scalar"}},
            id="a non-table over a table: the user's value wins (Helm warns)",
        ),
        pytest.param(
            {"extra": {"x": None}}, {**DEFAULTS, "extra": {"x": None}}, id="keys without a default are kept"
        ),
    ],
)
def test_coalesce(values: dict[str, Any], expected: dict[str, Any]) -> None:
    assert coalesce(DEFAULTS, values) == expected


def test_coalesce_copies() -> None:
    values = {"table": {"sub": {"b": [1]}}}
    merged = coalesce(DEFAULTS, values)
    merged["table"]["sub"]["b"].append(2)
    merged["table"]["replace"].append(3)
    assert values == {"table": {"sub": {"b": [1]}}}
    assert DEFAULTS["table"]["replace"] == [1, 2]


def test_as_rendered_sorts_every_mapping() -> None:
    rendered = as_rendered({"b": 1, "a": [{"z": 1, "y": 2}]})
    assert list(rendered) == ["a", "b"]
    assert list(rendered["a"][0]) == ["y", "z"]
