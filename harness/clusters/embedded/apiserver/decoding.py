"""Decoding of request bodies as kube-apiserver's codec does it: the body's kind/apiVersion must be the
URL's, unknown fields are pruned, warned about or rejected per ``fieldValidation``, and the resource's
own encoding checks (Secret base64) apply, with the messages the real decoder gives.
"""

from __future__ import annotations

import contextvars
from typing import Any

from . import errors
from .meta import clone
from .resource import Resource
from .schema import field_path, prune, unknown_fields
from .strategy import Strategy

Obj = dict[str, Any]

#: warnings for the current HTTP request (sent as ``Warning: 299 - "..."`` headers), None outside requests
REQUEST_WARNINGS: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("warnings", default=None)


def decoded_body(strategy: Strategy, obj: object, field_validation: str | None) -> Obj:
    """A private copy of a create/update body, checked against the type and decoded."""
    if not isinstance(obj, dict):
        raise errors.bad_request("Object 'Kind' is missing in request body")
    obj = clone(obj)
    _check_type(strategy.resource, obj)
    decode(strategy, obj, field_validation)
    return obj


def _check_type(info: Resource, obj: Obj) -> None:
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if api_version and api_version != info.api_version:
        raise errors.bad_request(
            f"the API version in the data ({api_version}) does not match the expected API version "
            f"({info.api_version})"
        )
    if kind and kind != info.kind:
        raise errors.bad_request(
            f"the kind in the data ({kind}) does not match the expected kind ({info.kind})"
        )
    obj["apiVersion"], obj["kind"] = info.api_version, info.kind
    # kind/apiVersion first, like the real serializer
    for k in list(obj):
        if k not in ("apiVersion", "kind"):
            obj[k] = obj.pop(k)


def decode(strategy: Strategy, obj: Obj, field_validation: str | None) -> None:
    """Drop unknown fields as decoding does; ``Strict`` turns them into the real 400 instead.

    ``field_validation`` None means an in-process caller (controllers, kubelet) whose objects are trusted.
    """
    if field_validation is None:
        return
    info = strategy.resource
    strategy.check_encoding(obj)
    unknown = unknown_fields(info, obj)
    if not unknown:
        return
    if field_validation == "Strict":
        listed = ", ".join(f'unknown field "{field_path(p)}"' for p in unknown)
        raise errors.bad_request(
            f'{info.kind} in version "{info.version}" cannot be handled as a {info.kind}: '
            f"strict decoding error: {listed}"
        )
    if field_validation == "Warn":
        warnings = REQUEST_WARNINGS.get()
        if warnings is not None:
            warnings += [f'unknown field "{field_path(p)}"' for p in unknown]
    prune(obj, unknown)
