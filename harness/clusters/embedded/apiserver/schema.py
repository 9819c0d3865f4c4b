"""Whole-object OpenAPI schema checks with the JSON schemas bundled in ``kubernetes-validate``.

kube-apiserver rejects objects whose fields have the wrong JSON type while decoding; here that check is the
schema of the matching Kubernetes minor (1.30, the version the harness targets), and each violation becomes a
``FieldValueTypeInvalid``/``FieldValueInvalid`` cause at the offending field path.  Unknown fields are
accepted (and kept) as in the default, non-strict field validation mode.
"""

from __future__ import annotations

import functools
import json
from importlib import resources as importlib_resources
from typing import TYPE_CHECKING, Any

import jsonschema
import referencing

from .field import FieldError, go_value

if TYPE_CHECKING:
    from .resource import Resource

SCHEMA_VERSION = "v1.30.0-local"
_SCHEMAS = importlib_resources.files("kubernetes_validate") / "kubernetes-json-schema"
_ROOT = _SCHEMAS / SCHEMA_VERSION
#: the same schemas with ``additionalProperties: false`` everywhere: for fieldValidation=Strict/Warn
_STRICT_ROOT = _SCHEMAS / f"{SCHEMA_VERSION}-strict"


@functools.lru_cache(maxsize=2)
def _definitions(strict: bool = False) -> referencing.Resource[Any]:
    root = _STRICT_ROOT if strict else _ROOT
    return referencing.Resource.from_contents(json.loads(root.joinpath("_definitions.json").read_text()))


@functools.lru_cache(maxsize=64)
def _validator(kind: str, api_version: str, strict: bool = False) -> jsonschema.protocols.Validator | None:
    if "/" in api_version:
        group, version = api_version.split("/")
        group_version = f"{group.split('.')[0]}-{version}"
    else:
        group_version = api_version
    path = (_STRICT_ROOT if strict else _ROOT).joinpath(f"{kind.lower()}-{group_version}.json")
    try:
        schema = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    registry: referencing.Registry[Any] = referencing.Resource.from_contents(schema) @ referencing.Registry()
    registry = _definitions(strict) @ registry
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def _strip_nulls(value: Any) -> Any:
    """JSON null decodes to the Go zero value; semantic validation already judged those."""
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value]
    return value


def _field(path: Any) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def schema_errors(info: Resource, obj: dict[str, Any]) -> list[FieldError]:
    validator = _validator(info.kind, info.api_version)
    if validator is None:
        return []
    errs: list[FieldError] = []
    for e in sorted(validator.iter_errors(_strip_nulls(obj)), key=lambda e: list(map(str, e.absolute_path))):
        field = _field(e.absolute_path)
        if e.validator == "type":
            wanted = e.validator_value
            wanted = [w for w in wanted if w != "null"] if isinstance(wanted, list) else [wanted]
            errs.append(
                FieldError(
                    "FieldValueTypeInvalid",
                    field,
                    f"Invalid value: {go_value(e.instance)}: must be of type {' or '.join(wanted)}",
                )
            )
        elif e.validator == "required":
            missing = e.message.split("'")[1] if "'" in e.message else e.message
            errs.append(
                FieldError("FieldValueRequired", f"{field}.{missing}" if field else missing, "Required value")
            )
        else:
            errs.append(
                FieldError("FieldValueInvalid", field, f"Invalid value: {go_value(e.instance)}: {e.message}")
            )
    return errs


def unknown_fields(info: Resource, obj: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Paths of fields the type does not have, e.g. ``("spec", "containers", 0, "bogus")``."""
    validator = _validator(info.kind, info.api_version, strict=True)
    if validator is None:
        return []
    out: list[tuple[Any, ...]] = []
    for e in validator.iter_errors(_strip_nulls(obj)):
        if e.validator != "additionalProperties" or not isinstance(e.instance, dict):
            continue
        allowed = set((e.schema.get("properties") or {}) if isinstance(e.schema, dict) else ())
        out += [(*e.absolute_path, key) for key in e.instance if key not in allowed]
    return sorted(set(out), key=lambda p: [str(x) for x in p])


def field_path(path: tuple[Any, ...]) -> str:
    return _field(path)


def prune(obj: dict[str, Any], paths: list[tuple[Any, ...]]) -> None:
    """Drop unknown fields, as decoding into the Go types does."""
    for path in paths:
        cur: Any = obj
        for step in path[:-1]:
            cur = cur[step]
        cur.pop(path[-1], None)
