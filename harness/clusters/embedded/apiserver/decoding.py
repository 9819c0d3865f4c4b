"""Decoding checks of request bodies: unknown fields (pruned, warned about or rejected per
``fieldValidation``) and base64 Secret data, with the messages kube-apiserver's decoder gives.
"""

from __future__ import annotations

import base64
import contextvars
from typing import Any

from . import errors
from .resources import Resource

Obj = dict[str, Any]

#: warnings for the current HTTP request (sent as ``Warning: 299 - "..."`` headers), None outside requests
REQUEST_WARNINGS: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("warnings", default=None)


def decode(info: Resource, obj: Obj, field_validation: str | None) -> None:
    """Drop unknown fields as decoding does; ``Strict`` turns them into the real 400 instead.

    ``field_validation`` None means an in-process caller (controllers, kubelet) whose objects are trusted.
    """
    from .schema import field_path, prune, unknown_fields

    if field_validation is None:
        return
    if info.plural == "secrets":
        for value in (obj.get("data") or {}).values():
            try:
                base64.b64decode(str(value), validate=True)
            except ValueError:
                raise errors.bad_request(
                    'Secret in version "v1" cannot be handled as a Secret: '
                    f"illegal base64 data at input byte {_bad_base64_offset(str(value))}"
                ) from None
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


def _bad_base64_offset(value: str) -> int:
    """Where Go's base64 decoder gives up (first byte outside the alphabet, or the length)."""
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    for i, ch in enumerate(value):
        if ch not in alphabet and ch != "=":
            return i
    return len(value) - len(value) % 4 if len(value) % 4 else len(value)
