"""Resource verbs over HTTP: get, list, watch, create, update, patch, delete, deletecollection, and the
pod subresources binding/log/exec.  Query and body handling follows kube-apiserver's REST handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import errors, strategies, streams, tables
from .httpio import USER_KEY, dry_run, dumps, field_validation, int_param, json_response, read_body
from .meta import md
from .patch import PATCH_TYPES
from .routing import Target
from .watch import WatchClosed

if TYPE_CHECKING:
    from .registry import Registry

Obj = dict[str, Any]


async def handle(request: web.Request, registry: Registry, target: Target) -> web.StreamResponse:
    info, ns, name, sub = target.info, target.namespace, target.name, target.subresource
    method = request.method
    strategy = strategies.BY_PLURAL[info.plural]
    if not info.stored:
        if method != "POST":
            raise errors.method_not_allowed()
        body = await read_body(request)
        return json_response(strategy.create_computed(registry.store, request[USER_KEY], body), 201)
    if sub in ("log", "exec", "portforward"):
        pod = await registry.get("pods", ns, name or "")
        if sub == "log":
            return await streams.serve_logs(request, registry.pod_io, pod)
        if sub == "portforward":
            return await streams.serve_portforward(request, registry.pod_io, pod)
        return await streams.serve_exec(request, registry.pod_io, pod)
    if sub == "scale":
        from . import subresources

        if method == "GET":
            return json_response(await subresources.get_scale(registry, info.plural, ns or "", name or ""))
        if method in ("PUT", "PATCH"):
            patch_type = PATCH_TYPES.get(request.content_type) if method == "PATCH" else None
            body = await read_body(request)
            return json_response(
                await subresources.write_scale(registry, info.plural, ns or "", name or "", body, patch_type)
            )
        raise errors.method_not_allowed()
    if sub == "eviction" and method == "POST":
        from . import subresources

        body = await read_body(request)
        return json_response(await subresources.evict(registry, ns or "", name or "", body), 201)
    if sub == "token" and method == "POST":
        from . import subresources

        body = await read_body(request)
        return json_response(await subresources.token_request(registry, ns or "", name or "", body), 201)
    if sub == "binding" and method == "POST":
        return json_response(await bind_pod(registry, ns or "", name or "", await read_body(request)), 201)
    if method == "GET":
        if name is None:
            if request.query.get("watch", "").lower() in ("1", "true"):
                return await serve_watch(request, registry, target)
            items, rv = await registry.list(
                info.plural,
                ns,
                label_selector=request.query.get("labelSelector"),
                field_selector=request.query.get("fieldSelector"),
            )
            if tables.wants_table(request.headers.get("Accept", "")):
                return json_response(strategy.table(items, rv))
            return json_response(
                {
                    "kind": f"{info.kind}List",
                    "apiVersion": info.api_version,
                    "metadata": {"resourceVersion": rv},
                    "items": items,
                }
            )
        obj = await registry.get(info.plural, ns, name)
        if tables.wants_table(request.headers.get("Accept", "")):
            return json_response(strategy.table([obj], None))
        return json_response(obj)
    if method == "POST":
        if name is not None:
            raise errors.method_not_allowed()
        body = await read_body(request)
        obj = await registry.create(
            info.plural,
            ns,
            body,
            dry_run=dry_run(request),
            field_validation=field_validation(request),
        )
        return json_response(obj, 201)
    if method == "PUT":
        if name is None:
            raise errors.method_not_allowed()
        body = await read_body(request)
        if isinstance(body, dict):
            body_name = md(body).get("name")
            if body_name and body_name != name:
                raise errors.bad_request(
                    f"the name of the object ({body_name}) does not match the name on the URL ({name})"
                )
            md(body)["name"] = name
        return json_response(
            await registry.update(
                info.plural,
                ns,
                body,
                subresource=sub,
                field_validation=field_validation(request),
                dry_run=dry_run(request),
            )
        )
    if method == "PATCH":
        if name is None:
            raise errors.method_not_allowed()
        patch_type = PATCH_TYPES.get(request.content_type)
        if patch_type is None or patch_type == "apply":
            raise errors.unsupported_media_type(request.content_type)
        body = await read_body(request)
        return json_response(
            await registry.patch(
                info.plural,
                ns,
                name,
                body,
                patch_type=patch_type,
                subresource=sub,
                field_validation=field_validation(request),
                dry_run=dry_run(request),
            )
        )
    if method == "DELETE":
        options: Obj = {}
        if request.can_read_body:
            raw = await request.read()
            if raw.strip():
                options = json.loads(raw)
        grace = options.get("gracePeriodSeconds", int_param(request, "gracePeriodSeconds"))
        policy = options.get("propagationPolicy", request.query.get("propagationPolicy"))
        if policy is None and options.get("orphanDependents") is not None:
            policy = "Orphan" if options["orphanDependents"] else "Background"
        if name is None:
            result = await registry.delete_collection(
                info.plural,
                ns,
                label_selector=request.query.get("labelSelector"),
                field_selector=request.query.get("fieldSelector"),
                grace_period_seconds=grace,
                propagation_policy=policy,
            )
            return json_response(result)
        result = await registry.delete(
            info.plural, ns, name, grace_period_seconds=grace, propagation_policy=policy,
            preconditions=options.get("preconditions"),
            dry_run=dry_run(request) or "All" in (options.get("dryRun") or []),
        )  # fmt: skip
        return json_response(result)
    raise errors.method_not_allowed()


async def bind_pod(registry: Registry, namespace: str, name: str, binding: Obj) -> Obj:
    """``pods/binding``: set spec.nodeName once (409 when already bound) and the PodScheduled condition."""
    target = (binding or {}).get("target") or {}
    node = target.get("name")
    if not node:
        raise errors.invalid(
            "Binding",
            name,
            [{"reason": "FieldValueRequired", "message": "Required value", "field": "target.name"}],
        )
    await registry.bind(namespace, name, node)
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}


async def serve_watch(request: web.Request, registry: Registry, target: Target) -> web.StreamResponse:
    """Chunked newline-delimited WatchEvents until ``timeoutSeconds`` or the client leaves."""
    info = target.info
    strategy = strategies.BY_PLURAL[info.plural]
    timeout = int_param(request, "timeoutSeconds")
    if timeout is None:
        timeout = random.randint(1800, 3600)  # minRequestTimeout .. 2x, as real
    bookmarks = request.query.get("allowWatchBookmarks", "").lower() in ("1", "true")
    # WatchList (client-go informers): replay the state, then a BOOKMARK marking the end of it
    initial_events = request.query.get("sendInitialEvents", "").lower() in ("1", "true")
    if initial_events and (not bookmarks or request.query.get("resourceVersionMatch") != "NotOlderThan"):
        raise errors.invalid(
            "ListOptions",
            "",
            [{"reason": "FieldValueForbidden", "field": "sendInitialEvents",
              "message": "Forbidden: sendInitialEvents requires setting allowWatchBookmarks=true and "
              "resourceVersionMatch=NotOlderThan"}],
            "meta.k8s.io",
        )  # fmt: skip
    try:
        stream = registry.watch(
            info.plural,
            target.namespace,
            resource_version=None if initial_events else request.query.get("resourceVersion"),
            label_selector=request.query.get("labelSelector"),
            field_selector=request.query.get("fieldSelector"),
        )
    except errors.ApiError as e:
        if e.code == 410:
            return await watch_error(request, e)
        raise
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    as_table, first_table = tables.wants_table(request.headers.get("Accept", "")), True
    # cacheWatcher: bookmarks every minute, and one 2s before the deadline
    next_bookmark = min(loop.time() + 60, deadline - 2)
    try:
        while True:
            if initial_events and stream.initial_drained:
                initial_events = False
                end = {"kind": info.kind, "apiVersion": info.api_version,
                       "metadata": {"resourceVersion": str(stream.snapshot_rv), "creationTimestamp": None,
                                    "annotations": {"k8s.io/initial-events-end": "true"}}}  # fmt: skip
                await resp.write(dumps({"type": "BOOKMARK", "object": end}) + b"\n")
            now = loop.time()
            if now >= deadline:
                break
            transport = request.transport
            if transport is None or transport.is_closing():
                break
            wait = min(deadline - now, 1.0)
            if bookmarks and next_bookmark > now:
                wait = min(wait, next_bookmark - now)
            event = await stream.next(timeout=wait)
            if event is not None:
                obj = event[1]
                if as_table:  # kubectl get -w: rows; column definitions only with the first event
                    obj = strategy.table([obj], None)
                    if not first_table:
                        obj["columnDefinitions"] = []
                    first_table = False
                await resp.write(dumps({"type": event[0], "object": obj}) + b"\n")
                continue
            if initial_events:
                continue  # the snapshot just ended: its marker goes first
            if bookmarks and loop.time() >= next_bookmark:
                bookmark = {"kind": info.kind, "apiVersion": info.api_version,
                            "metadata": {"resourceVersion": str(registry.store.resource_version),
                                         "creationTimestamp": None}}  # fmt: skip
                await resp.write(dumps({"type": "BOOKMARK", "object": bookmark}) + b"\n")
                next_bookmark = min(loop.time() + 60, deadline - 2)
                if next_bookmark <= loop.time():
                    next_bookmark = deadline + 1
    except (ConnectionResetError, asyncio.CancelledError, WatchClosed):
        pass  # client gone, or too slow: it resumes from its last resourceVersion as with a timeout
    finally:
        stream.close()
    with contextlib.suppress(ConnectionResetError, RuntimeError):
        await resp.write_eof()
    return resp


async def watch_error(request: web.Request, err: errors.ApiError) -> web.StreamResponse:
    """A watch that cannot start (e.g. 410 Expired) answers 200 with one ERROR event, as real."""
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    await resp.write(dumps({"type": "ERROR", "object": err.status}) + b"\n")
    await resp.write_eof()
    return resp
