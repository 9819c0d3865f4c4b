"""Resource requests over HTTP: a route table from (subresource, method) to the handler, as
kube-apiserver's installer registers one handler per verb of each resource and subresource.

The main resource takes get, list, watch, create, update, patch, delete and deletecollection;
subresources take the verbs discovery advertises for them (status: get/update/patch, scale, binding,
eviction, token, finalize, log, exec, portforward); anything else is the real 405.  Query and body
handling follows the REST handlers (dryRun, fieldValidation, DeleteOptions, Table output).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import errors, streams, subresources, tables
from .httpio import USER_KEY, dry_run, field_validation, int_param, json_response, read_body
from .meta import md
from .patch import PATCH_TYPES
from .routing import Target
from .strategies import BY_PLURAL
from .strategy import Strategy
from .watch_http import serve_watch

if TYPE_CHECKING:
    from .registry import Registry

Obj = dict[str, Any]


@dataclass(frozen=True)
class Call:
    """One resource request: what it addresses and who serves it."""

    request: web.Request
    registry: Registry
    target: Target
    strategy: Strategy

    @property
    def plural(self) -> str:
        return self.target.info.plural

    @property
    def namespace(self) -> str:
        return self.target.namespace or ""

    @property
    def name(self) -> str:
        return self.target.name or ""

    def wants_table(self) -> bool:
        return tables.wants_table(self.request.headers.get("Accept", ""))


Handler = Callable[[Call], Awaitable[web.StreamResponse]]


def _collection_or_item(collection: Handler | None, item: Handler | None) -> Handler:
    """One verb's handler for ``/resources`` and another for ``/resources/name``; 405 where none."""

    async def serve(call: Call) -> web.StreamResponse:
        handler = item if call.target.name is not None else collection
        if handler is None:
            raise errors.method_not_allowed()
        return await handler(call)

    return serve


# ---- main resource -----------------------------------------------------------------------------------------
def _check_list_options(query: Any) -> None:
    """ValidateListOptions (metainternalversion): resourceVersionMatch needs a resourceVersion, no
    continue, and one of its two values."""
    match = query.get("resourceVersionMatch") or ""
    if not match:
        return
    rv = query.get("resourceVersion")
    forbidden = [
        (not rv, "resourceVersionMatch is forbidden unless resourceVersion is provided"),
        (bool(query.get("continue")), "resourceVersionMatch is forbidden when continue is provided"),
    ]
    causes = [_match_cause("FieldValueForbidden", f"Forbidden: {m}") for bad, m in forbidden if bad]
    if match not in ("Exact", "NotOlderThan"):
        supported = '"Exact", "NotOlderThan", ""'
        causes.append(
            _match_cause(
                "FieldValueNotSupported", f'Unsupported value: "{match}": supported values: {supported}'
            )
        )
    if match == "Exact" and rv == "0":
        message = 'Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"'
        causes.append(_match_cause("FieldValueForbidden", message))
    if causes:
        raise errors.invalid("ListOptions", "", causes, "meta.k8s.io")


def _match_cause(reason: str, message: str) -> dict[str, str]:
    return {"reason": reason, "message": message, "field": "resourceVersionMatch"}


async def _list(call: Call) -> web.StreamResponse:
    request = call.request
    if request.query.get("watch", "").lower() in ("1", "true"):
        return await serve_watch(request, call.registry, call.target, call.strategy)
    _check_list_options(request.query)
    page = await call.registry.list_page(
        call.plural,
        call.target.namespace,
        label_selector=request.query.get("labelSelector"),
        field_selector=request.query.get("fieldSelector"),
        limit=int_param(request, "limit") or 0,
        continue_token=request.query.get("continue") or "",
        resource_version=request.query.get("resourceVersion") or "",
        resource_version_match=request.query.get("resourceVersionMatch") or "",
    )
    if call.wants_table():
        return json_response(call.strategy.table(page.items, page.list_meta()))
    info = call.target.info
    return json_response(
        {"kind": f"{info.kind}List", "apiVersion": info.api_version, "metadata": page.list_meta(),
         "items": page.items}
    )  # fmt: skip


async def _get(call: Call) -> web.StreamResponse:
    obj = await call.registry.get(call.plural, call.target.namespace, call.name)
    return json_response(call.strategy.table([obj], {}) if call.wants_table() else obj)


async def _create(call: Call) -> web.StreamResponse:
    body = await read_body(call.request)
    obj = await call.registry.create(
        call.plural,
        call.target.namespace,
        body,
        dry_run=dry_run(call.request),
        field_validation=field_validation(call.request),
    )
    return json_response(obj, 201)


async def _update(call: Call) -> web.StreamResponse:
    body = await read_body(call.request)
    if isinstance(body, dict):
        body_name = md(body).get("name")
        if body_name and body_name != call.name:
            raise errors.bad_request(
                f"the name of the object ({body_name}) does not match the name on the URL ({call.name})"
            )
        md(body)["name"] = call.name
    obj = await call.registry.update(
        call.plural,
        call.target.namespace,
        body,
        subresource=call.target.subresource,
        field_validation=field_validation(call.request),
        dry_run=dry_run(call.request),
    )
    return json_response(obj)


async def _patch(call: Call) -> web.StreamResponse:
    patch_type = PATCH_TYPES.get(call.request.content_type)
    if patch_type is None or patch_type == "apply":
        raise errors.unsupported_media_type(call.request.content_type)
    body = await read_body(call.request)
    obj = await call.registry.patch(
        call.plural,
        call.target.namespace,
        call.name,
        body,
        patch_type=patch_type,
        subresource=call.target.subresource,
        field_validation=field_validation(call.request),
        dry_run=dry_run(call.request),
    )
    return json_response(obj)


async def _delete_options(request: web.Request) -> tuple[Obj, int | None, str | None]:
    """DeleteOptions from the body and/or the query: (options, gracePeriodSeconds, propagationPolicy)."""
    options: Obj = {}
    if request.can_read_body:
        raw = await request.read()
        if raw.strip():
            options = json.loads(raw)
    grace = options.get("gracePeriodSeconds", int_param(request, "gracePeriodSeconds"))
    policy = options.get("propagationPolicy", request.query.get("propagationPolicy"))
    if policy is None and options.get("orphanDependents") is not None:
        policy = "Orphan" if options["orphanDependents"] else "Background"
    return options, grace, policy


async def _delete(call: Call) -> web.StreamResponse:
    options, grace, policy = await _delete_options(call.request)
    result = await call.registry.delete(
        call.plural, call.target.namespace, call.name, grace_period_seconds=grace, propagation_policy=policy,
        preconditions=options.get("preconditions"),
        dry_run=dry_run(call.request) or "All" in (options.get("dryRun") or []),
    )  # fmt: skip
    return json_response(result)


async def _delete_collection(call: Call) -> web.StreamResponse:
    _, grace, policy = await _delete_options(call.request)
    result = await call.registry.delete_collection(
        call.plural,
        call.target.namespace,
        label_selector=call.request.query.get("labelSelector"),
        field_selector=call.request.query.get("fieldSelector"),
        grace_period_seconds=grace,
        propagation_policy=policy,
    )
    return json_response(result)


# ---- subresources -----------------------------------------------------------------------------------------
async def _get_scale(call: Call) -> web.StreamResponse:
    return json_response(await subresources.get_scale(call.registry, call.plural, call.namespace, call.name))


async def _write_scale(call: Call) -> web.StreamResponse:
    patch_type = PATCH_TYPES.get(call.request.content_type) if call.request.method == "PATCH" else None
    body = await read_body(call.request)
    scale = await subresources.write_scale(
        call.registry, call.plural, call.namespace, call.name, body, patch_type
    )
    return json_response(scale)


def _posted(action: Callable[[Registry, str, str, Any], Awaitable[Obj]]) -> Handler:
    """A subresource that takes one POSTed object and answers 201 (binding, eviction, token)."""

    async def serve(call: Call) -> web.StreamResponse:
        body = await read_body(call.request)
        return json_response(await action(call.registry, call.namespace, call.name, body), 201)

    return serve


def _pod_stream(serve: Callable[[web.Request, Any, Obj], Awaitable[web.StreamResponse]]) -> Handler:
    """pods/log, exec, portforward: the pod must exist; the kubelet's PodIO does the work."""

    async def handler(call: Call) -> web.StreamResponse:
        pod = await call.registry.get("pods", call.target.namespace, call.name)
        return await serve(call.request, call.registry.pod_io, pod)

    return handler


async def _computed(call: Call) -> web.StreamResponse:
    body = await read_body(call.request)
    return json_response(
        call.strategy.create_computed(call.registry.store, call.request[USER_KEY], body), 201
    )


_EXEC, _PORT_FORWARD = _pod_stream(streams.serve_exec), _pod_stream(streams.serve_portforward)

#: (subresource, method) -> handler; "" is the resource itself
ROUTES: dict[tuple[str, str], Handler] = {
    ("", "GET"): _collection_or_item(_list, _get),
    ("", "POST"): _collection_or_item(_create, None),
    ("", "PUT"): _collection_or_item(None, _update),
    ("", "PATCH"): _collection_or_item(None, _patch),
    ("", "DELETE"): _collection_or_item(_delete_collection, _delete),
    ("status", "GET"): _get,
    ("status", "PUT"): _update,
    ("status", "PATCH"): _patch,
    ("finalize", "PUT"): _update,
    ("scale", "GET"): _get_scale,
    ("scale", "PUT"): _write_scale,
    ("scale", "PATCH"): _write_scale,
    ("binding", "POST"): _posted(subresources.bind_pod),
    ("eviction", "POST"): _posted(subresources.evict),
    ("token", "POST"): _posted(subresources.token_request),
    ("log", "GET"): _pod_stream(streams.serve_logs),
    ("exec", "GET"): _EXEC,
    ("exec", "POST"): _EXEC,
    ("portforward", "GET"): _PORT_FORWARD,
    ("portforward", "POST"): _PORT_FORWARD,
}
#: resources computed per request (never stored) take only a create
COMPUTED_ROUTES: dict[tuple[str, str], Handler] = {("", "POST"): _collection_or_item(_computed, None)}


async def handle(request: web.Request, registry: Registry, target: Target) -> web.StreamResponse:
    strategy = BY_PLURAL[target.info.plural]
    routes = ROUTES if target.info.stored else COMPUTED_ROUTES
    handler = routes.get((target.subresource or "", request.method))
    if handler is None:
        raise errors.method_not_allowed()
    return await handler(Call(request, registry, target, strategy))
