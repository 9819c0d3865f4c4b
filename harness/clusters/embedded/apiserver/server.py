"""The HTTPS front of the embedded API server: authentication, authorisation, routing, Status errors.

``ApiServer(config, registry)`` is runnable on its own (bound to 127.0.0.1 only when the config says so),
which is how the tests exercise the real server without the network/kubelet parts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from pathlib import Path

from aiohttp import web

from ..config import ClusterConfig
from . import authz, discovery, errors, handlers, httpio, routing
from .bootstrap import bootstrap
from .decoding import REQUEST_WARNINGS
from .pki import cluster_sans, issue_serving_cert
from .registry import Registry

log = logging.getLogger(__name__)

_PUBLIC = ("/healthz", "/readyz", "/livez", "/version")
_VERBS = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


def _error_response(err: errors.ApiError) -> web.Response:
    return httpio.json_response(err.status, err.code)


class ApiServer:
    """aiohttp application + HTTPS listeners for one cluster."""

    def __init__(self, config: ClusterConfig, registry: Registry) -> None:
        self.config = config
        self.registry = registry
        self.ready = False
        self._runner: web.AppRunner | None = None
        self._janitor: asyncio.Task[None] | None = None
        self.app = web.Application(middlewares=[self._middleware], client_max_size=16 * 1024 * 1024)
        self.app.router.add_route("*", "/{tail:.*}", self._dispatch)

    # ------------------------------------------------------------------ lifecycle
    def ssl_context(self) -> ssl.SSLContext:
        ips, dns = cluster_sans(self.config.gateway, self.config.kubernetes_service_ip)
        pki = issue_serving_cert(self.config.pki_dir, ips, dns)
        self.registry.ca_cert_pem = pki.ca_pem()
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(pki.server_cert), str(pki.server_key))
        ctx.set_alpn_protocols(["http/1.1"])
        return ctx

    async def start(self, ready: bool = True) -> None:
        """Listen on every bind address (same port; port 0 picks one), bootstrap, write the kubeconfig.

        ``ready=False`` keeps /readyz failing until the caller (the cluster process) sets ``ready``.
        """
        ctx = self.ssl_context()
        self._runner = web.AppRunner(self.app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        port = self.config.api_port
        for addr in self.config.bind_addresses:
            site = web.TCPSite(self._runner, addr, port, ssl_context=ctx, reuse_address=True)
            await site.start()
            if port == 0:
                server = site._server
                assert server is not None and server.sockets  # type: ignore[attr-defined]
                port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.config.api_port = port
        await bootstrap(self.registry)
        write_kubeconfig(self.config, self.registry.ca_cert_pem or "", self.registry.tokens.admin_token)
        self.ready = ready
        self._janitor = asyncio.create_task(self._expire_events(), name="event-ttl")
        log.info("apiserver listening on %s port %d", ",".join(self.config.bind_addresses), port)

    async def _expire_events(self) -> None:
        while True:
            await asyncio.sleep(60)
            try:
                self.registry.expire_events(self.config.event_ttl_seconds)
            except Exception:
                log.exception("event expiry failed")

    async def stop(self) -> None:
        self.ready = False
        if self._janitor is not None:
            self._janitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._janitor
            self._janitor = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ request path
    @web.middleware
    async def _middleware(self, request: web.Request, handler: handlers.Any) -> web.StreamResponse:
        try:
            path = request.path
            if path in _PUBLIC or path.startswith(("/healthz/", "/readyz/", "/livez/")):
                request[httpio.USER_KEY] = None
                return await handler(request)
            auth = request.headers.get("Authorization", "")
            user = None
            if auth.startswith("Bearer "):
                user = self.registry.tokens.authenticate(auth[7:].strip(), self.registry.store)
            if user is None:
                raise errors.unauthorized()
            if "Impersonate-User" in request.headers:
                user = self._impersonate(request, user)
            request[httpio.USER_KEY] = user
            warnings: list[str] = []
            token = REQUEST_WARNINGS.set(warnings)
            try:
                response = await handler(request)
            finally:
                REQUEST_WARNINGS.reset(token)
            if warnings and not response.prepared:
                for w in warnings:
                    response.headers.add("Warning", '299 - "' + w.replace('"', '\\"') + '"')
            return response
        except errors.ApiError as e:
            return _error_response(e)
        except web.HTTPException:
            raise
        except Exception as e:
            log.exception("internal error on %s %s", request.method, request.path)
            return _error_response(errors.internal(str(e)))

    def _impersonate(self, request: web.Request, user: authz.User) -> authz.User:
        """``kubectl --as``: allowed for system:masters (RBAC ``impersonate`` is not modelled)."""
        if authz.MASTERS not in user.groups:
            name = request.headers["Impersonate-User"]
            raise errors.ApiError(
                errors.status_body(
                    403,
                    "Forbidden",
                    f'users "{name}" is forbidden: User "{user.name}" cannot impersonate resource "users" '
                    'in API group "" at the cluster scope',
                    {"name": name, "kind": "users"},
                )
            )
        return authz.impersonated(
            request.headers["Impersonate-User"], request.headers.getall("Impersonate-Group", [])
        )

    def _authorize(self, request: web.Request, target: routing.Target | None) -> None:
        user: authz.User = request[httpio.USER_KEY]
        if target is None:
            attrs = authz.Attributes(
                verb=_VERBS.get(request.method, "get").replace("create", "post"), path=request.path
            )
            if authz.authorize(self.registry.store, user, attrs):
                return
            raise errors.ApiError(
                errors.status_body(403, "Forbidden", authz.forbidden_message(user, attrs), {})
            )
        verb = _VERBS.get(request.method, "get")
        if request.method == "GET" and target.name is None:
            verb = "watch" if request.query.get("watch", "").lower() in ("1", "true") else "list"
        elif request.method == "DELETE" and target.name is None:
            verb = "deletecollection"
        elif target.subresource in ("exec", "portforward"):
            verb = "create"  # kube-apiserver authorises exec upgrades as create on pods/exec
        attrs = authz.Attributes(
            verb=verb,
            resource=target.info.plural,
            group=target.info.group,
            namespace=target.namespace or "",
            name=target.name or "",
            subresource=target.subresource or "",
        )
        if authz.authorize(self.registry.store, user, attrs):
            return
        resource = (
            target.info.plural if not target.subresource else f"{target.info.plural}/{target.subresource}"
        )
        raise (
            errors.forbidden(
                target.info.plural, target.name or "", target.info.group, authz.forbidden_message(user, attrs)
            )
            if False
            else errors.ApiError(
                errors.status_body(
                    403,
                    "Forbidden",
                    f"{errors.qualified(resource, target.info.group)} "
                    + (f'"{target.name}" ' if target.name else "")
                    + "is forbidden: "
                    + authz.forbidden_message(user, attrs),
                    {
                        **({"name": target.name} if target.name else {}),
                        **({"group": target.info.group} if target.info.group else {}),
                        "kind": target.info.plural,
                    },
                )
            )
        )

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path.rstrip("/") or "/"
        if path in ("/healthz", "/readyz", "/livez"):
            if not self.ready:
                return web.Response(status=500, text="[-]startup not finished\n")
            return web.Response(text="ok")
        if path == "/version":
            return httpio.json_response(discovery.version())
        target = routing.parse(path)
        self._authorize(request, target)
        if target is not None:
            return await handlers.handle(request, self.registry, target)
        return self._discovery(request, path)

    def _discovery(self, request: web.Request, path: str) -> web.StreamResponse:
        doc: object | None = None
        if path == "/api":
            doc = discovery.api_versions(request.host)
        elif path == "/apis":
            doc = discovery.api_group_list()
        elif path == "/api/v1":
            doc = discovery.resource_list("v1")
        elif path.startswith("/apis/"):
            parts = path.split("/")[2:]
            doc = (
                discovery.api_group(parts[0]) if len(parts) == 1 else discovery.resource_list("/".join(parts))
            )
        elif path == "/openapi/v2":
            if "json" not in request.headers.get(
                "Accept", "application/json"
            ) and "*/*" not in request.headers.get("Accept", ""):
                raise errors.ApiError(
                    errors.status_body(406, "NotAcceptable", "only application/json is served")
                )
            return web.Response(body=discovery.openapi_v2_bytes(), content_type="application/json")
        elif path == "/openapi/v3":
            doc = discovery.openapi_v3_root()
        elif path.startswith("/openapi/v3/"):
            key = path[len("/openapi/v3/") :]
            gv = "v1" if key == "api/v1" else key.removeprefix("apis/")
            body = discovery.openapi_v3_bytes(gv)
            if body is None:
                raise errors.page_not_found()
            return web.Response(body=body, content_type="application/json")
        if doc is None:
            raise errors.page_not_found()
        return httpio.json_response(doc)


def write_kubeconfig(config: ClusterConfig, ca_pem: str, token: str, path: Path | None = None) -> Path:
    """``DIR/kubeconfig``: cluster ``embedded`` at https://127.0.0.1:PORT, user with the admin token."""
    import base64

    import yaml

    path = path or config.kubeconfig
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "embedded", "cluster": {
            "server": config.server_url,
            "certificate-authority-data": base64.b64encode(ca_pem.encode()).decode(),
        }}],
        "users": [{"name": "embedded-admin", "user": {"token": token}}],
        "contexts": [{"name": "embedded", "context": {"cluster": "embedded", "user": "embedded-admin"}}],
        "current-context": "embedded",
        "preferences": {},
    }  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(doc, sort_keys=False))
    tmp.chmod(0o600)
    tmp.replace(path)
    return path
