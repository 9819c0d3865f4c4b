"""The embedded kube-apiserver.

Layout (one job per module; a module imports only modules listed before it or beside it, never back):

* Front: ``server.py`` — aiohttp HTTPS front: lifecycle, bearer-token authn, RBAC authz,
  impersonation, routing, Warning headers; ``handlers.py`` — the route table of REST verbs
  (get/list/watch/create/update/patch/delete/deletecollection, dryRun, fieldValidation, Table output);
  ``watch_http.py`` — watch over HTTP (WatchList, bookmarks); ``httpio.py`` — bodies, query parameters,
  JSON responses; ``streams.py`` — pods/log, pods/exec (v5/v4.channel.k8s.io), pods/portforward (the
  kubelet side is ``podio.py``); ``subresources.py`` — scale, eviction, binding, serviceaccounts/token;
  ``routing.py``, ``discovery.py`` (/version, /api, /apis, /openapi/v2, /openapi/v3), ``protobuf.py``.
* The generic registry: ``registry.py`` — the internal API (DESIGN.md): decoding -> defaulting ->
  admission -> validation -> store, graceful deletion, finalizers, watch streams with selectors;
  ``decoding.py``, ``admission.py`` (the admission plugins), ``validation.py`` (ObjectMeta + the
  resource's rules + ``schema.py``: kubernetes-validate 1.30 schemas), ``watch.py``, ``bootstrap.py``
  (the objects every cluster starts with).
* Per resource: ``strategy.py`` — what a strategy declares; ``strategies/`` — one module per resource
  kind or small family (defaults, PrepareForCreate/Update, Validate/ValidateUpdate, deletion, field
  selectors, table columns); ``resources.py`` — the served resources, collected from the strategies;
  ``resource.py`` — what one resource is.
* Storage and security: ``store.py`` (SQLite objects + watch window), ``authz.py`` (tokens, RBAC),
  ``pki.py`` (CA, serving cert), ``events.py`` (core/v1 Events as client-go's recorder writes them).
* Shared rules: ``errors.py`` (Status bodies), ``field.py`` (field.Error), ``names.py`` (apimachinery
  name rules), ``selectors.py``, ``patch.py`` (merge / JSON / strategic), ``tables.py``, ``meta.py``,
  ``quantity.py``.
* ``standalone.py`` — run store + registry + server alone on 127.0.0.1 in a thread (tests, benchmarks).
"""
