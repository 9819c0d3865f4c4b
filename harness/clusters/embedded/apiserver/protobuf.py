"""Just enough of the Kubernetes protobuf wire format to read what kubectl sends as protobuf.

kubectl posts some built-in types (``kubectl auth can-i``: SelfSubjectAccessReview) with
``Content-Type: application/vnd.kubernetes.protobuf``.  The body is the ``k8s\\0`` magic followed by a
``runtime.Unknown`` envelope whose ``raw`` field holds the object's message; only the messages listed in
``_SCHEMAS`` are decoded (to the same dict the JSON form gives).
"""

from __future__ import annotations

from typing import Any

from . import errors

MAGIC = b"k8s\x00"

# message schemas: field number -> (json name, nested schema or None for string)
_RESOURCE_ATTRS = {1: ("namespace", None), 2: ("verb", None), 3: ("group", None), 4: ("version", None),
                   5: ("resource", None), 6: ("subresource", None), 7: ("name", None)}  # fmt: skip
_NON_RESOURCE_ATTRS = {1: ("path", None), 2: ("verb", None)}
_SSAR_SPEC = {1: ("resourceAttributes", _RESOURCE_ATTRS), 2: ("nonResourceAttributes", _NON_RESOURCE_ATTRS)}
_OBJECT_META = {1: ("name", None), 2: ("generateName", None), 3: ("namespace", None)}
_SCHEMAS: dict[str, dict[int, tuple[str, Any]]] = {
    "SelfSubjectAccessReview": {1: ("metadata", _OBJECT_META), 2: ("spec", _SSAR_SPEC)},
}


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


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            out.append((number, value))
        elif wire == 2:
            length, pos = _varint(data, pos)
            out.append((number, data[pos : pos + length]))
            pos += length
        elif wire == 5:
            pos += 4
        elif wire == 1:
            pos += 8
        else:
            raise ValueError(f"unsupported wire type {wire}")
    return out


def _decode(data: bytes, schema: dict[int, tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for number, value in _fields(data):
        if number not in schema or not isinstance(value, bytes):
            continue
        name, nested = schema[number]
        out[name] = _decode(value, nested) if nested is not None else value.decode()
    return out


def decode_object(body: bytes) -> dict[str, Any]:
    """The JSON-equivalent dict of a protobuf-encoded object (415 for types this server cannot read)."""
    if not body.startswith(MAGIC):
        raise errors.bad_request("provided protobuf object is missing the k8s magic prefix")
    try:
        envelope = dict(_fields(body[len(MAGIC) :]))
        type_meta = dict(_fields(envelope.get(1, b"")))  # type: ignore[arg-type]
        api_version = bytes(type_meta.get(1, b"")).decode()
        kind = bytes(type_meta.get(2, b"")).decode()
        schema = _SCHEMAS.get(kind)
        if schema is None:
            raise errors.unsupported_media_type("application/vnd.kubernetes.protobuf")
        obj = _decode(envelope.get(2, b""), schema)  # type: ignore[arg-type]
    except ValueError as e:
        raise errors.bad_request(f"unable to decode protobuf body: {e}") from None
    return {"apiVersion": api_version, "kind": kind, **obj}
