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

from ..validation import FieldError, _go_value

if TYPE_CHECKING:
    from .resources import Resource

SCHEMA_VERSION = "v1.30.0-local"
_ROOT = importlib_resources.files("kubernetes_validate") / "kubernetes-json-schema" / SCHEMA_VERSION


@functools.lru_cache(maxsize=1)
def _definitions() -> referencing.Resource[Any]:
    return referencing.Resource.from_contents(json.loads(_ROOT.joinpath("_definitions.json").read_text()))


@functools.lru_cache(maxsize=64)
def _validator(kind: str, api_version: str) -> jsonschema.protocols.Validator | None:
    if "/" in api_version:
        group, version = api_version.split("/")
        group_version = f"{group.split('.')[0]}-{version}"
    else:
        group_version = api_version
    path = _ROOT.joinpath(f"{kind.lower()}-{group_version}.json")
    try:
        schema = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    registry: referencing.Registry[Any] = referencing.Resource.from_contents(schema) @ referencing.Registry()
    registry = _definitions() @ registry
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
                    f"Invalid value: {_go_value(e.instance)}: must be of type {' or '.join(wanted)}",
                )
            )
        elif e.validator == "required":
            missing = e.message.split("'")[1] if "'" in e.message else e.message
            errs.append(
                FieldError("FieldValueRequired", f"{field}.{missing}" if field else missing, "Required value")
            )
        else:
            errs.append(
                FieldError("FieldValueInvalid", field, f"Invalid value: {_go_value(e.instance)}: {e.message}")
            )
    return errs
