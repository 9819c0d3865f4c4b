"""Merge user values over chart defaults the way ``helm install -f values.yaml`` does.

The chart's config file reads the merged values, so the mapping must merge exactly as Helm does,
including its one surprise: a user ``null`` deletes a key whose default is not null (so the config
file sees the key as absent and falls back to its own default), while a ``null`` on a key whose
default is null, or that has no default, stays null. Tables merge key by key; lists and scalars
replace. Read from Helm v3.21.4 ``pkg/chartutil/coalesce.go`` (``coalesceValues`` for the top
level, ``coalesceTablesFullKey`` below it); this module has no subcharts or globals to handle.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


def coalesce(defaults: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict: ``values`` coalesced over ``defaults`` (neither argument is modified)."""
    merged: dict[str, Any] = copy.deepcopy(dict(values))
    for key, default in defaults.items():
        if key not in merged:
            merged[key] = copy.deepcopy(default)
        elif merged[key] is None:
            del merged[key]  # top level: a null always deletes
        elif isinstance(merged[key], dict) and isinstance(default, Mapping):
            _coalesce_table(merged[key], default)
    return merged


def _coalesce_table(dst: dict[str, Any], src: Mapping[str, Any]) -> None:
    for key, default in src.items():
        if key not in dst:
            dst[key] = copy.deepcopy(default)
        elif dst[key] is None:
            if default is not None:
                del dst[key]
        elif isinstance(dst[key], dict) and isinstance(default, Mapping):
            _coalesce_table(dst[key], default)
        # otherwise the user's value wins (Helm warns when a table meets a non-table)


def as_rendered(value: Any) -> Any:
    """``value`` as the hub reads it back: the chart's Secret holds ``.Values | toYaml``, and Helm's
    YAML writer emits every mapping's keys sorted, so that is the order the config file iterates in."""
    if isinstance(value, Mapping):
        return {key: as_rendered(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [as_rendered(item) for item in value]
    return value
