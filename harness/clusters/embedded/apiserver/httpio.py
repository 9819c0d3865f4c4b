"""HTTP plumbing shared by the front (server.py) and the REST handlers: request bodies (JSON, YAML,
protobuf) and query parameters with kube-apiserver's 400/415 answers, compact JSON responses, and the
request key of the authenticated user.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from . import errors

#: request storage key for the authenticated user (a typed key where aiohttp has them)
USER_KEY: Any = web.RequestKey("user", object) if hasattr(web, "RequestKey") else "user"


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def json_response(obj: Any, status: int = 200) -> web.Response:
    return web.Response(body=dumps(obj), status=status, content_type="application/json")


async def read_body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw:
        raise errors.bad_request("the body of the request was empty")
    ctype = request.content_type
    if ctype == "application/vnd.kubernetes.protobuf":
        from .protobuf import decode_object

        return decode_object(raw)
    declared = "Content-Type" in request.headers  # aiohttp reports octet-stream when it is absent
    if (
        request.method in ("POST", "PUT")
        and declared
        and ctype not in ("application/json", "application/yaml")
    ):
        raise errors.unsupported_media_type(ctype, errors.BODY_MEDIA_TYPES)
    if "yaml" in ctype:
        import yaml

        try:
            return yaml.safe_load(raw)
        except yaml.YAMLError as e:
            raise errors.bad_request(f"error decoding YAML: {e}") from None
    try:
        return json.loads(raw)
    except ValueError as e:
        raise errors.bad_request(f"couldn't get version/kind; json parse error: {e}") from None


def int_param(request: web.Request, key: str) -> int | None:
    value = request.query.get(key)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise errors.bad_request(f'invalid value for {key}: "{value}"') from None


def field_validation(request: web.Request) -> str:
    """Ignore, Warn (the server default) or Strict; anything else is the real 400."""
    value = request.query.get("fieldValidation") or "Warn"
    if value not in ("Ignore", "Warn", "Strict"):
        raise errors.bad_request(
            f"fieldValidation parameter unsupported: {value}. Supported values are: Ignore, Warn, Strict"
        )
    return value


def dry_run(request: web.Request) -> bool:
    return "All" in request.query.getall("dryRun", [])
