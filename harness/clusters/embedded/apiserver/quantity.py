"""Parsing of Kubernetes resource quantities (``1Gi``, ``500m``, ``1e3``) per k8s.io/apimachinery resource."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_SUFFIX = {
    "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30, "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60,
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
    "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
    "P": Decimal("1e15"), "E": Decimal("1e18"),
}  # fmt: skip
_RE = re.compile(r"^([+-]?[0-9.]+)(([eE][+-]?[0-9]+)|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|)$")


class QuantityError(ValueError):
    """Not a quantity; str() is apimachinery's ``quantities must match the regular expression`` text."""

    def __init__(self) -> None:
        super().__init__(
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        )


def parse_quantity(value: object) -> Decimal:
    if value is None:
        return Decimal(0)  # JSON null decodes to the zero Quantity in Go
    if isinstance(value, bool):
        raise QuantityError()
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    m = _RE.match(str(value).strip())
    if not m:
        raise QuantityError()
    try:
        number = Decimal(m.group(1))
    except InvalidOperation:
        raise QuantityError() from None
    if m.group(3):
        return number * (Decimal(10) ** int(m.group(3)[1:]))
    return number * _SUFFIX[m.group(2)]


def canonical(value: object) -> str:
    """The string form the API echoes for a quantity that parsed (kept as the client sent it)."""
    return "0" if value is None else str(value)
