"""Object validation with kube-apiserver's exact field errors.

Two layers, as the task of a real apiserver is split between decoding and ``ValidateX``:

* type/shape: the object is checked against the OpenAPI schema bundled with ``kubernetes-validate``
  (the 1.30 schemas, schema.py); a mismatch becomes a 422 with one cause per offending field;
* semantics: ObjectMeta (name, labels, annotations) here, then the resource's own rules
  (``Strategy.validate`` / ``validate_update``: pod volumes and mounts, PVC spec, immutability, ...).

Each rule produces a ``FieldError`` whose ``body`` is ``field.Error.ErrorBody()``; the Status built from
them matches the real one byte for byte.
"""

from __future__ import annotations

from typing import Any

from . import errors
from .field import FieldError, forbidden, invalid, required
from .names import label_value, qualified_name
from .resource import Resource
from .schema import schema_errors
from .strategies import strategy_for
from .strategy import Strategy

Obj = dict[str, Any]


def validate_metadata(strategy: Strategy, meta: Obj) -> list[FieldError]:
    errs: list[FieldError] = []
    name = meta.get("name") or ""
    if not name:
        if not meta.get("generateName"):
            errs.append(required("metadata.name", "name or generateName is required"))
    else:
        errs += [invalid("metadata.name", name, m) for m in strategy.name_errors(name)]
    labels = meta.get("labels") or {}
    if isinstance(labels, dict):
        for k, v in labels.items():
            errs += [invalid("metadata.labels", k, m) for m in qualified_name(k)]
            errs += [invalid("metadata.labels", v, m) for m in label_value(str(v))]
    annotations = meta.get("annotations") or {}
    if isinstance(annotations, dict):
        for k in annotations:
            errs += [invalid("metadata.annotations", k, m) for m in qualified_name(k.lower())]
        total = sum(len(k) + len(str(v)) for k, v in annotations.items())
        if total > 256 * 1024:
            errs.append(
                FieldError(
                    "FieldValueTooLong", "metadata.annotations", "Too long: must have at most 262144 bytes"
                )
            )
    return errs


def _semantic(strategy: Strategy, obj: Obj) -> list[FieldError]:
    return validate_metadata(strategy, obj.get("metadata") or {}) + strategy.validate(obj)


def raise_if(info: Resource, obj: Obj, errs: list[FieldError]) -> None:
    if errs:
        name = (obj.get("metadata") or {}).get("name") or ""
        unique: list[dict[str, str]] = []
        for e in errs:
            if e.cause() not in unique:
                unique.append(e.cause())
        raise errors.invalid(info.kind, name, unique, info.group)


def validate_create(info: Resource, obj: Obj) -> None:
    """Semantic checks, then the OpenAPI schema of what the client decides.

    A new object's status is the one ``prepare_for_create`` set, not the client's; like the real
    ``Validate*`` functions on create, the schema check leaves it out (the OpenAPI schema would demand
    fields, e.g. ``status.replicas``, that the server's zero value omits).
    """
    strategy = strategy_for(info.plural)
    errs = _semantic(strategy, obj)
    if not errs:
        client_part = {k: v for k, v in obj.items() if k != "status"}
        errs = schema_errors(info, client_part if strategy.created_status is not None else obj)
    raise_if(info, obj, errs)


def validate_update(info: Resource, old: Obj, new: Obj, subresource: str | None = None) -> None:
    strategy = strategy_for(info.plural)
    errs: list[FieldError] = []
    if subresource in (None, ""):
        errs = _semantic(strategy, new) + strategy.validate_update(old, new)
    old_fin = set((old.get("metadata") or {}).get("finalizers") or [])
    new_fin = set((new.get("metadata") or {}).get("finalizers") or [])
    if (old.get("metadata") or {}).get("deletionTimestamp") and new_fin - old_fin:
        errs.append(
            forbidden("metadata.finalizers", "no new finalizers can be added if the object is being deleted")
        )
    raise_if(info, new, errs)
