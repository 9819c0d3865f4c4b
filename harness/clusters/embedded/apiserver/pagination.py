"""Chunked lists (``limit`` / ``continue``) as kube-apiserver 1.20's etcd3 store pages them.

A page is the next ``limit`` objects in etcd key order after the token's start key, read at the
token's resourceVersion, so every page of one list shows the same consistent state.  The state at an
older resourceVersion is the current one with the watch window's later changes undone; a token older
than that window (etcd would have compacted it) is the real 410 Expired, whose Status carries a token
to continue at the latest resourceVersion instead.  Messages are staging/src/k8s.io/apiserver/pkg/
storage/etcd3's (store.go, errors.go).
"""

from __future__ import annotations

import base64
import binascii
import json
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import errors
from .store import Store

Obj = dict[str, Any]

TOKEN_VERSION = "meta.k8s.io/v1"
#: a token's resourceVersion meaning "continue at the latest one" (after its own had expired)
LATEST = -1
CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can start a "
    "new list without the continue parameter, or use the continue token in this response to retrieve "
    "the remainder of the results. Continuing with the provided token results in an inconsistent list - "
    "objects that were created, modified, or deleted between the time the first chunk was returned and "
    "now may show up in the list."
)
LIST_EXPIRED = "The resourceVersion for the provided list is too old."
FUTURE_REVISION = "etcdserver: mvcc: required revision is a future revision"
_URL_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_TOKEN_FIELDS = {"v": ("string", str), "rv": ("int64", int), "start": ("string", str)}


@dataclass(frozen=True)
class Page:
    items: list[Obj]
    resource_version: int
    #: the token for the next page, "" on the last one
    continue_token: str = ""
    #: objects after this page; None when unknown (a selector filtered the page) or on the last page
    remaining: int | None = None

    def list_meta(self) -> Obj:
        """ListMeta in the real field order."""
        meta: Obj = {"resourceVersion": str(self.resource_version)}
        if self.continue_token:
            meta["continue"] = self.continue_token
        if self.remaining is not None:
            meta["remainingItemCount"] = self.remaining
        return meta


def encode(start: str, resource_version: int) -> str:
    """encodeContinue: base64url (no padding) of ``{"v":..,"rv":..,"start":..}`` as Go marshals it."""
    body = {"v": TOKEN_VERSION, "rv": resource_version, "start": start}
    raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _invalid(detail: str) -> errors.ApiError:
    return errors.bad_request(f"invalid continue token: continue key is not valid: {detail}")


def _b64decode(token: str) -> bytes:
    """Go's base64.RawURLEncoding.DecodeString, with its CorruptInputError offsets."""
    for i, ch in enumerate(token):
        if ch not in _URL_ALPHABET and ch not in "\r\n":
            raise _invalid(f"illegal base64 data at input byte {i}")
    stripped = token.replace("\r", "").replace("\n", "")
    if len(stripped) % 4 == 1:
        raise _invalid(f"illegal base64 data at input byte {len(token) - 1}")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError):
        raise _invalid("illegal base64 data at input byte 0") from None


def _go_json_type(value: Any) -> str:
    """How encoding/json's UnmarshalTypeError names the JSON value it could not store."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "number"
    if isinstance(value, float):
        return f"number {value:g}"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


#: Python's JSONDecodeError message -> where encoding/json's scanner says it found the bad character
_SCANNER_CONTEXT = {
    "Expecting value": "looking for beginning of value",
    "Expecting property name enclosed in double quotes": "looking for beginning of object key string",
    "Expecting ':' delimiter": "after object key",
    "Expecting ',' delimiter": "after object key:value pair",
    "Extra data": "after top-level value",
    "Invalid control character at": "in string literal",
}


def _go_syntax_error(text: str, err: json.JSONDecodeError) -> str:
    """encoding/json's SyntaxError text for what Python's decoder stopped at."""
    if err.pos >= len(text.rstrip()) or err.msg.startswith("Unterminated string"):
        return "unexpected end of JSON input"
    ch = text[err.pos]
    quoted = "'\\''" if ch == "'" else f"'{ch}'"
    return f"invalid character {quoted} {_SCANNER_CONTEXT.get(err.msg, 'looking for beginning of value')}"


def _parse(data: bytes) -> Obj:
    """json.Unmarshal into continueToken, with encoding/json's messages for what clients can send."""
    text = data.decode(errors="replace")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise _invalid(_go_syntax_error(text, e)) from None
    if value is None:
        return {}  # JSON null leaves the struct at its zero value
    if not isinstance(value, dict):
        go_type = _go_json_type(value)
        raise _invalid(f"json: cannot unmarshal {go_type} into Go value of type etcd3.continueToken")
    for name, (go_type, py_type) in _TOKEN_FIELDS.items():
        got = value.get(name)
        if got is not None and (not isinstance(got, py_type) or isinstance(got, bool)):
            raise _invalid(
                f"json: cannot unmarshal {_go_json_type(got)} into Go struct field continueToken.{name} "
                f"of type {go_type}"
            )
    return value


def _clean(key: str) -> str:
    """Go's path.Clean of an absolute path."""
    cleaned = posixpath.normpath(key)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def decode(token: str) -> tuple[str, int]:
    """decodeContinue: (start key, resourceVersion), or the real 400 for a token it would refuse."""
    token_obj = _parse(_b64decode(token))
    version = token_obj.get("v") or ""
    if version != TOKEN_VERSION:
        raise _invalid(f"server does not recognize this encoded version {json.dumps(version)}")
    rv, start = int(token_obj.get("rv") or 0), str(token_obj.get("start") or "")
    if rv == 0:
        raise _invalid(f"incorrect encoded start resourceVersion (version {TOKEN_VERSION})")
    if not start:
        raise _invalid(f"encoded start key empty (version {TOKEN_VERSION})")
    key = start if start.startswith("/") else "/" + start
    if _clean(key) != key:
        raise _invalid(start)
    return key[1:], rv


def object_key(obj: Obj, namespace: str | None, namespaced: bool) -> str:
    """The object's etcd key after the list's prefix: ``name``, or ``namespace/name`` across namespaces."""
    meta = obj.get("metadata") or {}
    if namespaced and namespace is None:
        return f"{meta.get('namespace', '')}/{meta.get('name', '')}"
    return str(meta.get("name", ""))


def state_at(store: Store, resource: str, namespace: str | None, rv: int) -> list[Obj] | None:
    """The objects of ``resource`` as they were at ``rv``: now, with the changes after ``rv`` undone.

    None when ``rv`` is older than the watch window (what etcd would have compacted).
    """
    items, current = store.list(resource, namespace)
    if rv > current:
        raise errors.ApiError(errors.status_body(500, "", FUTURE_REVISION))
    if rv == current:
        return items
    changes = store.changes_after(rv)
    if changes is None:
        return None
    state = {(o["metadata"].get("namespace", ""), o["metadata"]["name"]): o for o in items}
    for ev in reversed(changes):
        if ev.resource != resource or (namespace is not None and ev.namespace != namespace):
            continue
        key = (ev.namespace, ev.obj["metadata"]["name"])
        if ev.old is None:
            state.pop(key, None)
        else:
            state[key] = ev.old
    return list(state.values())


def paginate(
    items: list[Obj],
    key_of: Callable[[Obj], str],
    start: str,
    limit: int,
    matches: Callable[[Obj], bool],
    filtered: bool,
    rv: int,
) -> Page:
    """The page after ``start``: etcd hands out ``limit`` keys at a time and the filter runs on them, so
    the next token starts after the last key *examined*, and no count is given when a filter ran."""
    ordered = sorted(((key_of(o).encode(), o) for o in items), key=lambda pair: pair[0])
    pending = [(k, o) for k, o in ordered if k >= start.encode()]
    page: list[Obj] = []
    last = b""
    for index, (key, obj) in enumerate(pending):
        if len(page) >= limit:
            token = encode(last.decode() + "\x00", rv)
            return Page(page, rv, token, None if filtered else len(pending) - index)
        last = key
        if matches(obj):
            page.append(obj)
    return Page(page, rv)


def continue_expired(token: str) -> errors.ApiError:
    """The 410 for a token past the window: its Status carries a token at the latest resourceVersion."""
    start, _ = decode(token)
    err = errors.expired(CONTINUE_EXPIRED)
    err.status["metadata"] = {"continue": encode(start, LATEST)}
    return err


def _first_page_rv(store: Store, resource_version: str, match: str) -> int:
    """The resourceVersion a first chunk is read at: the latest, or exactly the one asked for."""
    if not resource_version or match == "NotOlderThan":
        return store.resource_version
    try:
        return int(resource_version)
    except ValueError:
        raise errors.bad_request(f'invalid resource version: "{resource_version}"') from None


def list_chunk(
    store: Store,
    resource: str,
    namespace: str | None,
    namespaced: bool,
    select: Callable[[Obj], bool],
    filtered: bool,
    *,
    limit: int,
    token: str,
    resource_version: str,
    match: str,
) -> Page | None:
    """One chunk of a list, or None when the request does not page (no limit, or resourceVersion "0",
    which the watch cache serves whole)."""
    if token:
        start, rv = decode(token)
        if resource_version not in ("", "0"):
            raise errors.bad_request("specifying resource version is not allowed when using continue")
    elif limit > 0 and resource_version != "0":
        start, rv = "", _first_page_rv(store, resource_version, match)
    else:
        return None
    if rv == LATEST:
        rv = store.resource_version
    items = state_at(store, resource, namespace, rv)
    if items is None:
        raise continue_expired(token) if token else errors.expired(LIST_EXPIRED)
    key_of: Callable[[Obj], str] = lambda o: object_key(o, namespace, namespaced)  # noqa: E731
    size = limit if limit > 0 else len(items) + 1  # a continue without limit returns the rest
    return paginate(items, key_of, start, size, select, filtered, rv)
