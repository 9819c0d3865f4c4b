"""``field.Error`` of k8s.io/apimachinery/pkg/util/validation/field: one cause of a 422 Invalid Status.

Each constructor renders ``ErrorBody()`` exactly as Go does, including how ``%#v`` prints the bad value,
so a Status built from these matches the real one byte for byte.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One ``field.Error``: reason is the cause reason (FieldValueInvalid, ...), body its ErrorBody()."""

    reason: str
    field: str
    body: str

    def cause(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.body, "field": self.field}

    def with_value(self, shown: str) -> FieldError:
        """The same Invalid error showing ``shown`` (for values Go prints with %#v, e.g. maps)."""
        detail = self.body.split(": ", 2)[2]
        return FieldError(self.reason, self.field, f"Invalid value: {shown}: {detail}")


def go_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "[]string{" + ", ".join(json.dumps(v) for v in value) + "}"
    return json.dumps(value)


def invalid(field: str, value: Any, detail: str) -> FieldError:
    return FieldError("FieldValueInvalid", field, f"Invalid value: {go_value(value)}: {detail}")


def required(field: str, detail: str = "") -> FieldError:
    return FieldError("FieldValueRequired", field, "Required value" + (f": {detail}" if detail else ""))


def not_found(field: str, value: Any) -> FieldError:
    return FieldError("FieldValueNotFound", field, f"Not found: {go_value(value)}")


def duplicate(field: str, value: Any) -> FieldError:
    return FieldError("FieldValueDuplicate", field, f"Duplicate value: {go_value(value)}")


def forbidden(field: str, detail: str) -> FieldError:
    return FieldError("FieldValueForbidden", field, f"Forbidden: {detail}")


def not_supported(field: str, value: Any, supported: list[str]) -> FieldError:
    values = ", ".join(json.dumps(s) for s in supported)
    return FieldError(
        "FieldValueNotSupported", field, f"Unsupported value: {go_value(value)}: supported values: {values}"
    )
