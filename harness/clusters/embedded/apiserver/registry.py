"""The internal API: every read and write, from HTTP clients and in-process controllers/kubelet alike.

The generic registry of kube-apiserver (k8s.io/apiserver/pkg/registry/generic/registry): decoding,
defaulting, admission, validation, resourceVersion compare-and-swap, graceful deletion, finalizers,
propagation policies and watch with selectors, the same for every resource; where a resource behaves
differently the registry asks its strategy (strategy.py, strategies/).  No RBAC here (the HTTP layer
authorises before calling in).
"""

from __future__ import annotations

from typing import Any

from ..config import ClusterConfig
from . import admission, errors, pagination, validation
from .authz import TokenStore
from .decoding import decoded_body
from .meta import clone, generate_name, md, new_uid, now
from .pagination import Page
from .patch import apply_patch
from .podio import PodIO
from .selectors import fields_match, labels_match, parse_label_selector
from .store import Store
from .strategies import events, parse_field_selector, strategy_for
from .strategy import Strategy
from .watch import WatchStream

Obj = dict[str, Any]

#: metadata a client cannot set on create
_SERVER_SET_ON_CREATE = ("uid", "resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds",
                         "selfLink", "managedFields")  # fmt: skip
#: metadata an update keeps from the stored object
_KEPT_ON_UPDATE = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                   "generation")  # fmt: skip
_NAMESPACE_MISMATCH = "the namespace of the provided object does not match the namespace sent on the request"


class Registry:
    """See DESIGN.md "The internal API".  All methods run on the cluster's event loop."""

    def __init__(self, store: Store, config: ClusterConfig) -> None:
        self.store = store
        self.config = config
        self.pod_io: PodIO | None = None
        self.ca_cert_pem: str | None = None
        self.tokens = TokenStore(config.tokens_file)

    # ------------------------------------------------------------------ reads
    async def get(self, resource: str, namespace: str | None, name: str) -> Obj:
        strategy = strategy_for(resource)
        obj = self.store.get(resource, self._ns(strategy, namespace), name)
        if obj is None:
            raise errors.not_found(resource, name, strategy.resource.group)
        return obj

    async def list(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> tuple[list[Obj], str]:
        page = await self.list_page(
            resource, namespace, label_selector=label_selector, field_selector=field_selector
        )
        return page.items, str(page.resource_version)

    async def list_page(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int = 0,
        continue_token: str = "",
        resource_version: str = "",
        resource_version_match: str = "",
    ) -> Page:
        """A list, in chunks when ``limit``/``continue_token`` ask for them (pagination.py)."""
        info = strategy_for(resource).resource
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(resource, field_selector)
        ns = namespace if info.namespaced else None

        def select(obj: Obj) -> bool:
            return labels_match(labels, obj) and fields_match(fields, obj)

        page = pagination.list_chunk(
            self.store, resource, ns, info.namespaced, select, bool(labels or fields), limit=limit,
            token=continue_token, resource_version=resource_version, match=resource_version_match,
        )  # fmt: skip
        if page is not None:
            return page
        items, rv = self.store.list(resource, ns)
        return Page([o for o in items if select(o)], rv)

    def watch(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        resource_version: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> WatchStream:
        """Changes strictly after ``resource_version``; unset/"0" first replays current objects as ADDED."""
        info = strategy_for(resource).resource
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(resource, field_selector)
        ns = namespace if info.namespaced else None
        if resource_version in (None, "", "0"):
            items, rv = self.store.list(resource, ns)
            watcher = self.store.subscribe_now(resource, ns)
            return WatchStream(watcher, items, labels, fields, rv)
        try:
            since = int(str(resource_version))
        except ValueError:
            raise errors.bad_request(f'invalid resource version: "{resource_version}"') from None
        return WatchStream(self.store.subscribe(resource, ns, since), [], labels, fields, since)

    # ------------------------------------------------------------------ writes
    @staticmethod
    def _ns(strategy: Strategy, namespace: str | None) -> str:
        if not strategy.resource.namespaced:
            return ""
        if not namespace:
            raise errors.bad_request("the server could not find the requested resource")
        return namespace

    async def create(
        self,
        resource: str,
        namespace: str | None,
        obj: Obj,
        *,
        dry_run: bool = False,
        field_validation: str | None = None,
    ) -> Obj:
        strategy = strategy_for(resource)
        info = strategy.resource
        obj = decoded_body(strategy, obj, field_validation)
        meta = md(obj)
        ns = self._ns(strategy, namespace)
        if info.namespaced:
            if meta.get("namespace") and meta["namespace"] != ns:
                raise errors.bad_request(_NAMESPACE_MISMATCH)
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        for k in _SERVER_SET_ON_CREATE:
            meta.pop(k, None)
        # order of a real create: defaulting, mutating admission (which sees the requested name, "" with
        # generateName), then BeforeCreate generates the name, then validation
        strategy.prepare_for_create(obj)
        strategy.defaults(obj)
        admission.admit_create(self.store, resource, info.namespaced, ns, obj)
        strategy.before_create(self, obj)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = generate_name(meta["generateName"])
        name = meta.get("name") or ""
        validation.validate_create(info, obj)
        meta["uid"] = new_uid()
        meta["creationTimestamp"] = now()
        if strategy.generation:
            meta["generation"] = 1
        if self.store.get(resource, ns, name) is not None:
            raise errors.already_exists(resource, name, info.group)
        if dry_run:
            return obj
        stored = self.store.put(resource, ns, obj)
        await strategy.after_create(self, stored)
        return clone(stored)

    async def update(
        self,
        resource: str,
        namespace: str | None,
        obj: Obj,
        *,
        subresource: str | None = None,
        field_validation: str | None = None,
        dry_run: bool = False,
    ) -> Obj:
        strategy = strategy_for(resource)
        info = strategy.resource
        obj = decoded_body(strategy, obj, field_validation)
        ns = self._ns(strategy, namespace)
        meta = md(obj)
        name = meta.get("name", "")
        old = self.store.get(resource, ns, name)
        if old is None:
            raise errors.not_found(resource, name, info.group)
        expect = meta.get("resourceVersion") or None
        if expect is not None and expect != md(old).get("resourceVersion"):
            raise errors.conflict(resource, name, info.group)
        if subresource:
            new = strategy.prepare_subresource_update(subresource, old, obj)
        else:
            new = self._main_update(strategy, old, obj)
        # validation, then validating admission: the generic store's BeforeUpdate, then updateValidation
        validation.validate_update(info, old, new, subresource)
        admission.validate_update(self.store, resource, subresource, old, new)
        if dry_run:
            return new
        if strategy.ready_to_remove(new):
            return clone(self.store.remove(resource, ns, new))
        if new == old:
            return clone(old)  # no-op updates do not bump resourceVersion (as real)
        return clone(self.store.put(resource, ns, new, expect_rv=expect or md(old)["resourceVersion"]))

    @staticmethod
    def _main_update(strategy: Strategy, old: Obj, new: Obj) -> Obj:
        """``new`` with what the server owns taken from ``old`` (PrepareForUpdate), then defaulted."""
        meta, old_meta = md(new), md(old)
        if strategy.resource.namespaced:
            if meta.get("namespace") and meta["namespace"] != old_meta.get("namespace"):
                raise errors.bad_request(_NAMESPACE_MISMATCH)
            meta["namespace"] = old_meta["namespace"]
        for k in _KEPT_ON_UPDATE:
            if k in old_meta:
                meta[k] = old_meta[k]
            else:
                meta.pop(k, None)
        meta.pop("selfLink", None)
        strategy.prepare_for_update(new, old)
        if strategy.default_on_update:
            strategy.defaults(new)
        if strategy.generation and new.get("spec") != old.get("spec"):
            meta["generation"] = int(old_meta.get("generation", 1)) + 1
        return new

    async def patch(
        self,
        resource: str,
        namespace: str | None,
        name: str,
        patch: object,
        *,
        patch_type: str = "merge",
        subresource: str | None = None,
        field_validation: str | None = None,
        dry_run: bool = False,
    ) -> Obj:
        strategy = strategy_for(resource)
        old = self.store.get(resource, self._ns(strategy, namespace), name)
        if old is None:
            raise errors.not_found(resource, name, strategy.resource.group)
        patched = apply_patch(old, patch, patch_type)
        meta = md(patched)
        if meta.get("name", name) != name:
            raise errors.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({name})"
            )
        meta["name"] = name
        # a patch carrying a resourceVersion is a precondition; otherwise it applies to what we read
        if not meta.get("resourceVersion"):
            meta["resourceVersion"] = md(old)["resourceVersion"]
        if subresource == "status":
            new = clone(old)
            new["status"] = patched.get("status", {})
            md(new)["resourceVersion"] = meta["resourceVersion"]
            patched = new
        return await self.update(
            resource,
            namespace,
            patched,
            subresource=subresource,
            field_validation=field_validation,
            dry_run=dry_run,
        )

    async def delete(
        self,
        resource: str,
        namespace: str | None,
        name: str,
        *,
        grace_period_seconds: int | None = None,
        propagation_policy: str | None = None,
        preconditions: dict[str, str] | None = None,
        dry_run: bool = False,
    ) -> Obj:
        """Delete per DESIGN.md: graceful for scheduled pods, deferred while finalizers remain.

        Returns the object (with deletionTimestamp while it lingers) or a Success Status once removed,
        like the real REST handlers.
        """
        strategy = strategy_for(resource)
        ns = self._ns(strategy, namespace)
        old = self.store.get(resource, ns, name)
        if old is None:
            raise errors.not_found(resource, name, strategy.resource.group)
        _check_preconditions(strategy, old, preconditions or {})
        if propagation_policy not in (None, "", "Foreground", "Background", "Orphan"):
            raise errors.invalid(
                "DeleteOptions",
                "",
                [
                    {
                        "reason": "FieldValueNotSupported",
                        "field": "propagationPolicy",
                        "message": f'Unsupported value: "{propagation_policy}": supported values: '
                        '"Foreground", "Background", "Orphan", "nil"',
                    }
                ],
            )
        if dry_run:
            return clone(old)
        return strategy.delete(self.store, ns, old, grace_period_seconds, propagation_policy)

    async def delete_collection(
        self,
        resource: str,
        namespace: str | None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        grace_period_seconds: int | None = None,
        propagation_policy: str | None = None,
    ) -> Obj:
        items, _ = await self.list(
            resource, namespace, label_selector=label_selector, field_selector=field_selector
        )
        info = strategy_for(resource).resource
        deleted = []
        for obj in items:
            try:
                await self.delete(
                    resource,
                    md(obj).get("namespace"),
                    md(obj)["name"],
                    grace_period_seconds=grace_period_seconds,
                    propagation_policy=propagation_policy,
                )
                deleted.append(obj)
            except errors.ApiError as e:
                if e.code != 404:
                    raise
        rv = self.store.resource_version
        return {
            "kind": f"{info.kind}List",
            "apiVersion": info.api_version,
            "metadata": {"resourceVersion": str(rv)},
            "items": deleted,
        }

    async def bind(self, namespace: str, name: str, node: str) -> Obj:
        """``pods/binding``: set spec.nodeName once (409 when bound or deleting) and PodScheduled=True."""
        pod = await self.get("pods", namespace, name)
        current = pod["spec"].get("nodeName")
        if current:
            raise errors.conflict(
                "pods/binding", name, "", f'pod {name} is already assigned to node "{current}"'
            )
        if md(pod).get("deletionTimestamp"):
            raise errors.conflict(
                "pods/binding", name, "", f"pod {name} is being deleted, cannot be assigned to a host"
            )
        pod["spec"]["nodeName"] = node
        conditions = [
            c for c in pod.setdefault("status", {}).get("conditions") or [] if c.get("type") != "PodScheduled"
        ]
        conditions.append(
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": now()}
        )
        pod["status"]["conditions"] = conditions
        return clone(self.store.put("pods", namespace, pod, expect_rv=md(pod)["resourceVersion"]))

    def expire_events(self, ttl_seconds: int, now_ts: float | None = None) -> int:
        """Remove Events not written for ``ttl_seconds`` (kube-apiserver's --event-ttl, 1h by default)."""
        return events.expire(self.store, ttl_seconds, now_ts)

    # ------------------------------------------------------------------ tokens
    async def service_account_token(self, namespace: str, name: str) -> str:
        if self.store.get("serviceaccounts", namespace, name) is None:
            raise errors.not_found("serviceaccounts", name)
        return self.tokens.service_account_token(namespace, name)


def _check_preconditions(strategy: Strategy, old: Obj, preconditions: dict[str, str]) -> None:
    """DeleteOptions.preconditions: the uid and/or resourceVersion the client expects (409 otherwise)."""
    om = md(old)
    for key, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
        wanted = preconditions.get(key)
        if wanted and wanted != om.get(key):
            raise errors.conflict(
                strategy.resource.plural,
                om["name"],
                strategy.resource.group,
                f"Precondition failed: {label} in precondition: {wanted}, "
                f"{label} in object meta: {om.get(key)}",
            )
