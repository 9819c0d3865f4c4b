"""Label and field selectors with kube-apiserver's syntax, supported fields and error messages.

Label selectors: ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k``, ``!k``
(k8s.io/apimachinery/pkg/labels).  Field selectors: ``=``, ``==``, ``!=`` on the fields each resource's
strategy exposes (``Strategy.field_labels``); any other field is a 400 BadRequest like
``field label not supported: spec.foo``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import errors

Obj = dict[str, Any]


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        if self.op == "exists":
            return self.key in labels
        if self.op == "!":
            return self.key not in labels
        if self.op in ("=", "in"):
            return self.key in labels and labels[self.key] in self.values
        # "!=" and "notin" match objects without the key too
        return self.key not in labels or labels[self.key] not in self.values


_TOKEN = re.compile(r"\s*(!=|==|=|\(|\)|,|!|[^\s!=(),]+)")


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def parse_label_selector(text: str | None) -> list[Requirement]:
    """Parse a label selector string; empty/None selects everything."""
    if not text or not text.strip():
        return []
    reqs: list[Requirement] = []
    for part in _split_top_level(text):
        part = part.strip()
        if not part:
            raise errors.bad_request("unable to parse requirement: found '', expected: identifier")
        m = re.fullmatch(r"([^\s!=(),]+)\s+(in|notin)\s*\(([^)]*)\)", part)
        if m:
            values = tuple(v.strip() for v in m.group(3).split(",") if v.strip())
            reqs.append(Requirement(m.group(1), m.group(2), values))
            continue
        m = re.fullmatch(r"!\s*([^\s!=(),]+)", part)
        if m:
            reqs.append(Requirement(m.group(1), "!"))
            continue
        m = re.fullmatch(r"([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)", part)
        if m:
            op = "!=" if m.group(2) == "!=" else "="
            reqs.append(Requirement(m.group(1), op, (m.group(3),)))
            continue
        m = re.fullmatch(r"[^\s!=(),]+", part)
        if m:
            reqs.append(Requirement(part, "exists"))
            continue
        raise errors.bad_request(f'unable to parse requirement: <nil>: Invalid value: "{part}"')
    return reqs


def labels_match(reqs: list[Requirement], obj: Obj) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return all(r.matches(labels) for r in reqs)


def selector_from_match(selector: dict[str, Any] | None) -> list[Requirement]:
    """A LabelSelector object (matchLabels/matchExpressions) as requirements."""
    if not selector:
        return []
    reqs = [Requirement(k, "=", (v,)) for k, v in (selector.get("matchLabels") or {}).items()]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in selector.get("matchExpressions") or []:
        reqs.append(Requirement(expr["key"], ops[expr["operator"]], tuple(expr.get("values") or ())))
    return reqs


# ---- field selectors -----------------------------------------------------------------------------------
#: reads one field of an object as the string a field selector compares
FieldGetter = Callable[[Obj], str]


def field_getter(*keys: str) -> FieldGetter:
    def get(obj: Obj) -> str:
        cur: Any = obj
        for k in keys:
            cur = cur.get(k) if isinstance(cur, dict) else None
        if cur is None:
            return ""
        if isinstance(cur, bool):
            return "true" if cur else "false"
        return str(cur)

    return get


#: the fields every type supports
META_FIELDS: dict[str, FieldGetter] = {
    "metadata.name": field_getter("metadata", "name"),
    "metadata.namespace": field_getter("metadata", "namespace"),
}


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    value: str
    equal: bool
    getter: FieldGetter

    def matches(self, obj: Obj) -> bool:
        return (self.getter(obj) == self.value) == self.equal


def parse_fields(text: str | None, supported: Mapping[str, FieldGetter] | None) -> list[FieldRequirement]:
    """Parse ``a=b,c!=d`` against the fields a type ``supported`` (None: only the metadata ones, for types
    without a field label conversion); unknown fields are rejected like the real registry does."""
    if not text or not text.strip():
        return []
    fields = META_FIELDS if supported is None else supported
    reqs: list[FieldRequirement] = []
    for part in text.split(","):
        part = part.strip()
        m = re.fullmatch(r"([^=!]+?)\s*(==|=|!=)\s*(.*)", part)
        if not m:
            raise errors.bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        field, op, value = m.group(1).strip(), m.group(2), m.group(3).strip()
        getter = fields.get(field)
        if getter is None:
            if supported is not None:  # types with a registered field-label conversion func
                raise errors.bad_request(f"field label not supported: {field}")
            raise errors.bad_request(
                f'"{field}" is not a known field selector: only "metadata.name", "metadata.namespace"'
            )
        reqs.append(FieldRequirement(field, value, op != "!=", getter))
    return reqs


def fields_match(reqs: list[FieldRequirement], obj: Obj) -> bool:
    return all(r.matches(obj) for r in reqs)
