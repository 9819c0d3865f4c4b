"""Small helpers for object metadata: timestamps, uids, generated names, deep copies."""

from __future__ import annotations

import copy
import datetime
import secrets
import uuid
from typing import Any

Obj = dict[str, Any]

# k8s.io/apiserver/pkg/storage/names: consonants and digits that cannot spell words
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def now() -> str:
    """RFC 3339 with second precision in UTC, as metav1.Time serialises."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def later(seconds: int) -> str:
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def new_uid() -> str:
    return str(uuid.uuid4())


def random_suffix(n: int = 5) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(n))


def generate_name(base: str) -> str:
    """``generateName`` + 5 random chars, truncating the base to keep the name <= 63 (as real)."""
    return base[: 63 - 5] + random_suffix()


def clone(obj: Obj) -> Obj:
    return copy.deepcopy(obj)


def md(obj: Obj) -> Obj:
    m = obj.get("metadata")
    if not isinstance(m, dict):
        m = {}
        obj["metadata"] = m
    return m


def without(obj: Obj, *drop: str) -> Obj:
    """A shallow copy of ``obj`` without the ``drop`` keys (to compare what may not change)."""
    return {k: v for k, v in obj.items() if k not in drop}
