"""Secrets and ConfigMaps (pkg/registry/core/secret, .../configmap): data keys that must be valid config
keys, Secret ``type`` and ``stringData`` folding, base64 checks of Secret data, and their columns.
"""

from __future__ import annotations

import base64
from typing import Any

from .. import errors
from ..field import FieldError, invalid
from ..names import config_key
from ..resource import Resource
from ..selectors import META_FIELDS, field_getter
from ..strategy import Strategy
from ..tables import age

Obj = dict[str, Any]

SECRETS = Resource("secrets", "secret", "Secret", "", "v1", True)
CONFIG_MAPS = Resource("configmaps", "configmap", "ConfigMap", "", "v1", True, ("cm",))


def _bad_base64_offset(value: str) -> int:
    """Where Go's base64 decoder gives up (first byte outside the alphabet, or the length)."""
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    for i, ch in enumerate(value):
        if ch not in alphabet and ch != "=":
            return i
    return len(value) - len(value) % 4 if len(value) % 4 else len(value)


class ConfigStrategy(Strategy):
    """What both share: every key of data/binaryData/stringData is a valid config key."""

    def validate(self, obj: Obj) -> list[FieldError]:
        errs: list[FieldError] = []
        for section in ("data", "binaryData", "stringData"):
            for key in obj.get(section) or {}:
                errs += [invalid(f"{section}[{key}]", key, m) for m in config_key(key)]
        return errs


class SecretStrategy(ConfigStrategy):
    field_labels = {**META_FIELDS, "type": field_getter("type")}
    columns = (("Type", "string", 0), ("Data", "integer", 0), ("Age", "string", 0))

    def defaults(self, obj: Obj) -> None:
        """Type Opaque by default; ``stringData`` is folded into ``data`` (base64) and dropped, as real."""
        obj.setdefault("type", "Opaque")
        string_data = obj.pop("stringData", None)
        if isinstance(string_data, dict) and string_data:
            data = obj.get("data") or {}
            for key, value in string_data.items():
                data[key] = base64.b64encode(str(value).encode()).decode()
            obj["data"] = data

    def check_encoding(self, obj: Obj) -> None:
        for value in (obj.get("data") or {}).values():
            try:
                base64.b64decode(str(value), validate=True)
            except ValueError:
                raise errors.bad_request(
                    'Secret in version "v1" cannot be handled as a Secret: '
                    f"illegal base64 data at input byte {_bad_base64_offset(str(value))}"
                ) from None

    def row(self, o: Obj) -> list[Any]:
        return [o.get("type", ""), len(o.get("data") or {}), age(o)]


class ConfigMapStrategy(ConfigStrategy):
    columns = (("Data", "integer", 0), ("Age", "string", 0))

    def row(self, o: Obj) -> list[Any]:
        return [len(o.get("data") or {}) + len(o.get("binaryData") or {}), age(o)]


STRATEGIES = (SecretStrategy(SECRETS), ConfigMapStrategy(CONFIG_MAPS))
