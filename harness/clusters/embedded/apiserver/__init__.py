"""The embedded kube-apiserver.

Layout (one job per module):

* ``registry.py`` — the internal API (DESIGN.md): defaulting -> admission -> validation -> store,
  graceful deletion, finalizers, namespace lifecycle, watch streams with selectors; ``bind``,
  ``delete_collection``.
* ``server.py`` — aiohttp HTTPS front: bearer-token authn, RBAC authz, impersonation, routing,
  Warning headers.
* ``handlers.py`` — REST verbs (get/list/watch/create/update/patch/delete/deletecollection), dryRun,
  fieldValidation, WatchList (sendInitialEvents), Table output.
* ``streams.py`` — pods/log, pods/exec (v5/v4.channel.k8s.io), pods/portforward; the kubelet side is
  ``podio.py``.
* ``subresources.py`` — scale, eviction, serviceaccounts/token; ``access_review.py`` —
  SelfSubjectAccessReview.
* ``admission.py``, ``defaults.py``, ``schema.py`` (kubernetes-validate 1.30 schemas),
  ``validation.py``.
* ``store.py`` (SQLite objects + watch window), ``authz.py`` (tokens, RBAC), ``pki.py`` (CA, serving
  cert), ``events.py`` (core/v1 Events as client-go's recorder writes them).
* ``watch.py`` (watch streams), ``decoding.py`` (unknown fields, Secret base64).
* ``selectors.py``, ``patch.py`` (merge / JSON / strategic), ``routing.py``, ``resources.py`` (the served
  types), ``discovery.py`` (/api, /apis, /openapi/v2, /openapi/v3), ``tables.py``, ``protobuf.py``,
  ``errors.py``.
* ``standalone.py`` — run store + registry + server alone on 127.0.0.1 in a thread (tests, benchmarks).
"""
