"""Read the Kubernetes protobuf bodies kubectl sends (``application/vnd.kubernetes.protobuf``).

Typed kubectl commands (``kubectl create namespace|configmap|secret|serviceaccount|deployment``,
``kubectl auth can-i``) post protobuf, not JSON.  The body is the ``k8s\\0`` magic and a ``runtime.Unknown``
envelope whose ``raw`` field holds the object's message; ``k8s_proto_fields.json`` (built by
``proto_gen.py``) maps each message's field numbers to JSON names, so the result is the dict the JSON form
would give.  Go's proto2 encoding writes empty strings for unset non-pointer fields; those are dropped, as
JSON's ``omitempty`` would have.  Responses stay JSON (clients decode by the response Content-Type).
"""

from __future__ import annotations

import base64
import datetime
import functools
import json
import struct
from importlib import resources as importlib_resources
from typing import Any

from . import errors

MAGIC = b"k8s\x00"
META = "k8s.io.apimachinery.pkg.apis.meta.v1"
_GROUP_PACKAGES = {
    "": "k8s.io.api.core",
    "apps": "k8s.io.api.apps",
    "rbac.authorization.k8s.io": "k8s.io.api.rbac",
    "storage.k8s.io": "k8s.io.api.storage",
    "authorization.k8s.io": "k8s.io.api.authorization",
    "authentication.k8s.io": "k8s.io.api.authentication",
    "autoscaling": "k8s.io.api.autoscaling",
    "policy": "k8s.io.api.policy",
    "meta.k8s.io": META,
}
_VARINTS = {"int32", "int64", "uint32", "uint64", "bool", "sint32", "sint64"}


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, dict[str, list[str]]]:
    text = importlib_resources.files(__package__).joinpath("k8s_proto_fields.json").read_text()
    return dict(json.loads(text))


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) for every field of a message."""
    out: list[tuple[int, int, int | bytes]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            out.append((number, wire, value))
        elif wire == 2:
            length, pos = _varint(data, pos)
            out.append((number, wire, data[pos : pos + length]))
            pos += length
        elif wire == 1:
            out.append((number, wire, data[pos : pos + 8]))
            pos += 8
        elif wire == 5:
            out.append((number, wire, data[pos : pos + 4]))
            pos += 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
    return out


def _signed(value: int) -> int:
    """Varints carry negative int32/int64 as 64-bit two's complement."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _scalar(type_name: str, wire: int, value: int | bytes) -> Any:
    if type_name == "string":
        return bytes(value).decode() if isinstance(value, bytes) else str(value)
    if type_name == "bytes":
        return base64.b64encode(value).decode() if isinstance(value, bytes) else ""
    if type_name == "bool":
        return bool(value)
    if type_name in ("double", "fixed64", "sfixed64") and isinstance(value, bytes):
        return struct.unpack("<d" if type_name == "double" else "<q", value)[0]
    if type_name in ("float", "fixed32", "sfixed32") and isinstance(value, bytes):
        return struct.unpack("<f" if type_name == "float" else "<i", value)[0]
    if isinstance(value, int):
        number = _signed(value)
        if type_name == "int32" and number >= 1 << 31:
            number -= 1 << 32
        return number
    raise ValueError(f"unexpected encoding for {type_name}")


def _packed(type_name: str, data: bytes) -> list[Any]:
    out, pos = [], 0
    while pos < len(data):
        value, pos = _varint(data, pos)
        out.append(_scalar(type_name, 0, value))
    return out


def _special(type_name: str, data: bytes) -> tuple[bool, Any]:
    """Messages whose JSON form is not an object (Quantity, IntOrString, Time, RawExtension, ...)."""
    if type_name == "k8s.io.apimachinery.pkg.api.resource.Quantity":
        f = {n: v for n, _, v in _fields(data)}
        return True, bytes(f.get(1, b"")).decode()
    if type_name == "k8s.io.apimachinery.pkg.util.intstr.IntOrString":
        f = {n: v for n, _, v in _fields(data)}
        if f.get(1, 0) == 1:
            return True, bytes(f.get(3, b"")).decode()
        return True, _scalar("int32", 0, f.get(2, 0))
    if type_name in (f"{META}.Time", f"{META}.MicroTime"):
        f = {n: v for n, _, v in _fields(data)}
        seconds = _scalar("int64", 0, f.get(1, 0))
        if not seconds and not f.get(2):
            return True, None
        stamp = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
        if type_name.endswith("MicroTime"):
            micros = int(_scalar("int32", 0, f.get(2, 0))) // 1000
            return True, stamp.replace(microsecond=micros).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return True, stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    if type_name == f"{META}.Duration":
        f = {n: v for n, _, v in _fields(data)}
        return True, f"{_scalar('int64', 0, f.get(1, 0)) / 1e9:g}s"
    if type_name in ("k8s.io.apimachinery.pkg.runtime.RawExtension", f"{META}.FieldsV1"):
        raw = next((bytes(v) for n, _, v in _fields(data) if n == 1 and isinstance(v, bytes)), b"")
        try:
            return True, json.loads(raw) if raw else None
        except ValueError:
            return True, None
    return False, None


def _value(type_name: str, wire: int, value: int | bytes) -> Any:
    if type_name in _table():
        if not isinstance(value, bytes):
            raise ValueError(f"{type_name} is not length-delimited")
        special, result = _special(type_name, value)
        return result if special else decode_message(value, type_name)
    return _scalar(type_name, wire, value)


def decode_message(data: bytes, type_name: str) -> dict[str, Any]:
    """The JSON-equivalent dict of one message of ``type_name`` (a key of the field table)."""
    schema = _table().get(type_name)
    if schema is None:
        raise ValueError(f"unknown message type {type_name}")
    out: dict[str, Any] = {}
    for number, wire, value in _fields(data):
        field = schema.get(str(number))
        if field is None:
            continue  # newer field than the table knows: skipped, as an older server would
        name, label, ftype = field
        if label == "map":
            entry = {n: (w, v) for n, w, v in _fields(bytes(value))}
            key = _scalar("string", *entry[1]) if 1 in entry else ""
            out.setdefault(name, {})[key] = _value(ftype, *entry[2]) if 2 in entry else ""
        elif label == "rep":
            items = out.setdefault(name, [])
            if wire == 2 and ftype in _VARINTS and isinstance(value, bytes):
                items.extend(_packed(ftype, value))
            else:
                items.append(_value(ftype, wire, value))
        else:
            decoded = _value(ftype, wire, value)
            if decoded in ("", None) or (name == "generation" and decoded == 0):
                continue  # unset non-pointer fields; JSON would have omitted them
            if ftype == "k8s.io.apimachinery.pkg.util.intstr.IntOrString" and decoded == 0:
                continue
            out[name] = decoded
    return out


def decode_object(body: bytes) -> dict[str, Any]:
    """Decode a protobuf request body into the dict its JSON form would give (415 for unknown types)."""
    if not body.startswith(MAGIC):
        raise errors.bad_request("provided protobuf object is missing the k8s magic prefix")
    try:
        envelope = decode_message(body[len(MAGIC) :], "k8s.io.apimachinery.pkg.runtime.Unknown")
        type_meta = envelope.get("typeMeta") or {}
        api_version, kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "")
        group, _, version = api_version.rpartition("/")
        package = _GROUP_PACKAGES.get(group)
        type_name = f"{package}.{version}.{kind}" if package and package != META else f"{META}.{kind}"
        if type_name not in _table():
            raise errors.unsupported_media_type("application/vnd.kubernetes.protobuf")
        raw = base64.b64decode(envelope.get("raw", ""))
        obj = decode_message(raw, type_name)
    except (ValueError, KeyError, struct.error) as e:
        raise errors.bad_request(f"unable to decode protobuf body: {e}") from None
    return {"apiVersion": api_version, "kind": kind, **obj}
