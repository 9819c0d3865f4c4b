"""The internal API: every read and write, from HTTP clients and in-process controllers/kubelet alike.

Implements the generic registry semantics of kube-apiserver for the stored resources: defaulting, admission,
validation, resourceVersion compare-and-swap, graceful deletion, finalizers, namespace lifecycle, propagation
policies and watch with selectors.  No RBAC here (the HTTP layer authorises before calling in).
"""

from __future__ import annotations

from typing import Any

from ..config import ClusterConfig
from . import admission, errors, validation
from .decoding import decode
from .defaults import apply_defaults, prepare_for_create
from .meta import clone, generate_name, later, md, new_uid, now
from .patch import apply_patch
from .podio import PodIO
from .resources import BY_PLURAL, STORED, Resource
from .selectors import (
    fields_match,
    labels_match,
    parse_field_selector,
    parse_label_selector,
)
from .store import Store
from .watch import WatchStream

Obj = dict[str, Any]


#: resources whose metadata.generation tracks spec changes
_GENERATION = frozenset({"deployments", "replicasets", "persistentvolumeclaims", "persistentvolumes"})
#: resources with a status subresource: main-resource writes keep the stored status
_HAS_STATUS = frozenset(r.plural for r in BY_PLURAL.values() if "status" in r.subresources)
#: deletes that answer with the deleted object rather than a Status (ReturnDeletedObject in the real store)
_RETURN_DELETED = frozenset({"pods", "namespaces", "persistentvolumeclaims", "persistentvolumes", "services"})
BOOTSTRAP_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def resource_info(resource: str) -> Resource:
    r = BY_PLURAL.get(resource)
    if r is None or resource not in STORED:
        raise errors.page_not_found()
    return r


class Registry:
    """See DESIGN.md "The internal API".  All methods run on the cluster's event loop."""

    def __init__(self, store: Store, config: ClusterConfig) -> None:
        self.store = store
        self.config = config
        self.pod_io: PodIO | None = None
        self.ca_cert_pem: str | None = None
        from .authz import TokenStore

        self.tokens = TokenStore(config.tokens_file)

    # ------------------------------------------------------------------ bootstrap
    async def bootstrap(self) -> None:
        """Create the objects every cluster starts with (idempotent): namespaces, ``kubernetes`` Service."""
        for ns in BOOTSTRAP_NAMESPACES:
            if self.store.get("namespaces", "", ns) is None:
                await self.create("namespaces", None, {"metadata": {"name": ns}})
        existing = self.store.get("services", "default", "kubernetes")
        if existing is not None and existing["spec"].get("clusterIP") != self.config.kubernetes_service_ip:
            # the service CIDR changed since the last run (old one no longer free): move the Service
            self.store.remove("services", "default", existing)
            existing = None
        if existing is None:
            await self.create(
                "services",
                "default",
                {
                    "metadata": {
                        "name": "kubernetes",
                        "labels": {"component": "apiserver", "provider": "kubernetes"},
                    },
                    "spec": {
                        "clusterIP": self.config.kubernetes_service_ip,
                        "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
                    },
                },
            )
        await self._sync_kubernetes_endpoints()
        from .authz import bootstrap_cluster_roles

        for role in bootstrap_cluster_roles():
            if self.store.get("clusterroles", "", role["metadata"]["name"]) is None:
                await self.create("clusterroles", None, role)

    async def _sync_kubernetes_endpoints(self) -> None:
        """``default/kubernetes`` Endpoints point at this apiserver: gateway:port (refreshed every start)."""
        subsets = [
            {
                "addresses": [{"ip": self.config.gateway}],
                "ports": [{"name": "https", "port": self.config.api_port, "protocol": "TCP"}],
            }
        ]
        existing = self.store.get("endpoints", "default", "kubernetes")
        if existing is None:
            await self.create(
                "endpoints",
                "default",
                {
                    "metadata": {
                        "name": "kubernetes",
                        "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
                    },
                    "subsets": subsets,
                },
            )
        elif existing.get("subsets") != subsets:
            existing["subsets"] = subsets
            await self.update("endpoints", "default", existing)

    # ------------------------------------------------------------------ reads
    async def get(self, resource: str, namespace: str | None, name: str) -> Obj:
        info = resource_info(resource)
        obj = self.store.get(resource, self._ns(info, namespace), name)
        if obj is None:
            raise errors.not_found(resource, name, info.group)
        return obj

    async def list(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> tuple[list[Obj], str]:
        info = resource_info(resource)
        labels = parse_label_selector(label_selector)
        fields = parse_field_selector(resource, field_selector)
        items, rv = self.store.list(resource, namespace if info.namespaced else None)
        return [o for o in items if labels_match(labels, o) and fields_match(fields, o)], str(rv)

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
        info = resource_info(resource)
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
    def _ns(info: Resource, namespace: str | None) -> str:
        if not info.namespaced:
            return ""
        if not namespace:
            raise errors.bad_request("the server could not find the requested resource")
        return namespace

    def _decoded_body(self, info: Resource, obj: object, field_validation: str | None) -> Obj:
        """A private copy of a create/update body, checked against the type and decoded (as the codec)."""
        if not isinstance(obj, dict):
            raise errors.bad_request("Object 'Kind' is missing in request body")
        obj = clone(obj)
        self._check_type(info, obj)
        decode(info, obj, field_validation)
        return obj

    def _check_type(self, info: Resource, obj: Obj) -> None:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if api_version and api_version != info.api_version:
            raise errors.bad_request(
                f"the API version in the data ({api_version}) does not match the expected API version "
                f"({info.api_version})"
            )
        if kind and kind != info.kind:
            raise errors.bad_request(
                f"the kind in the data ({kind}) does not match the expected kind ({info.kind})"
            )
        obj["apiVersion"], obj["kind"] = info.api_version, info.kind
        # kind/apiVersion first, like the real serializer
        for k in list(obj):
            if k not in ("apiVersion", "kind"):
                obj[k] = obj.pop(k)

    async def create(
        self,
        resource: str,
        namespace: str | None,
        obj: Obj,
        *,
        dry_run: bool = False,
        field_validation: str | None = None,
    ) -> Obj:
        info = resource_info(resource)
        obj = self._decoded_body(info, obj, field_validation)
        meta = md(obj)
        ns = self._ns(info, namespace)
        if info.namespaced:
            if meta.get("namespace") and meta["namespace"] != ns:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        for k in (
            "uid",
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
            "managedFields",
        ):
            meta.pop(k, None)
        # order of a real create: defaulting, mutating admission (which sees the requested name, "" with
        # generateName), then BeforeCreate generates the name, then validation
        prepare_for_create(resource, obj)
        apply_defaults(resource, obj)
        if info.namespaced:
            admission.namespace_lifecycle(self.store, resource, ns, meta.get("name") or "")
        self._admit_create(resource, ns, obj)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = generate_name(meta["generateName"])
        name = meta.get("name") or ""
        validation.validate_create(info, obj)
        meta["uid"] = new_uid()
        meta["creationTimestamp"] = now()
        if resource in _GENERATION:
            meta["generation"] = 1
        if self.store.get(resource, ns, name) is not None:
            raise errors.already_exists(resource, name, info.group)
        if dry_run:
            return obj
        stored = self.store.put(resource, ns, obj)
        await self._after_create(resource, stored)
        return clone(stored)

    def _admit_create(self, resource: str, ns: str, obj: Obj) -> None:
        if resource == "pods":
            admission.service_account(self.store, obj, ns)
            admission.default_tolerations(obj)
            obj.setdefault("status", {})["qosClass"] = admission.qos_class(obj)
        elif resource == "persistentvolumeclaims":
            admission.default_storage_class(self.store, obj)
            admission.protection_finalizer(obj, admission.PVC_PROTECTION)
        elif resource == "persistentvolumes":
            admission.protection_finalizer(obj, admission.PV_PROTECTION)
        elif resource == "services":
            admission.allocate_cluster_ip(self.store, self.config, obj)

    async def _after_create(self, resource: str, obj: Obj) -> None:
        if resource == "namespaces" and self.ca_cert_pem is not None:
            # what kube-controller-manager's root-ca-cert-publisher does; the SA token volume needs it
            name = md(obj)["name"]
            if self.store.get("configmaps", name, "kube-root-ca.crt") is None:
                await self.create(
                    "configmaps",
                    name,
                    {"metadata": {"name": "kube-root-ca.crt"}, "data": {"ca.crt": self.ca_cert_pem}},
                )

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
        info = resource_info(resource)
        obj = self._decoded_body(info, obj, field_validation)
        ns = self._ns(info, namespace)
        meta = md(obj)
        name = meta.get("name", "")
        old = self.store.get(resource, ns, name)
        if old is None:
            raise errors.not_found(resource, name, info.group)
        expect = meta.get("resourceVersion") or None
        if expect is not None and expect != md(old).get("resourceVersion"):
            raise errors.conflict(resource, name, info.group)
        new = self._merge_update(resource, info, old, obj, subresource)
        validation.validate_update(info, old, new, subresource)
        if dry_run:
            return new
        return await self._write(resource, info, ns, old, new, expect or md(old)["resourceVersion"])

    def _merge_update(
        self, resource: str, info: Resource, old: Obj, obj: Obj, subresource: str | None
    ) -> Obj:
        if subresource == "status":
            new = clone(old)
            new["status"] = obj.get("status", {})
            return new
        if subresource == "finalize":
            new = clone(old)
            new.setdefault("spec", {})["finalizers"] = (obj.get("spec") or {}).get("finalizers") or []
            return new
        if subresource not in (None, ""):
            raise errors.method_not_allowed()
        new = obj
        meta, old_meta = md(new), md(old)
        if info.namespaced:
            if meta.get("namespace") and meta["namespace"] != old_meta.get("namespace"):
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = old_meta["namespace"]
        for k in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ):
            if k in old_meta:
                meta[k] = old_meta[k]
            else:
                meta.pop(k, None)
        meta.pop("selfLink", None)
        if resource in _HAS_STATUS and "status" in old:
            new["status"] = old["status"]
        if resource == "namespaces":
            new["spec"] = old.get("spec", {})
            new["status"] = old.get("status", {})
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = old_meta["name"]
        if resource == "services":
            spec, old_spec = new.setdefault("spec", {}), old.get("spec", {})
            for k in ("clusterIP", "clusterIPs"):
                if not spec.get(k) and k in old_spec:
                    spec[k] = old_spec[k]
        if resource != "namespaces":
            apply_defaults(resource, new)
        if resource in _GENERATION and new.get("spec") != old.get("spec"):
            meta["generation"] = int(old_meta.get("generation", 1)) + 1
        return new

    async def _write(self, resource: str, info: Resource, ns: str, old: Obj, new: Obj, expect: str) -> Obj:
        if self._should_remove(resource, new):
            removed = self.store.remove(resource, ns, new)
            return clone(removed)
        if new == old:
            return clone(old)  # no-op updates do not bump resourceVersion (as real)
        stored = self.store.put(resource, ns, new, expect_rv=expect)
        return clone(stored)

    @staticmethod
    def _should_remove(resource: str, obj: Obj) -> bool:
        meta = md(obj)
        if not meta.get("deletionTimestamp") or meta.get("finalizers"):
            return False
        if resource == "namespaces":
            return not (obj.get("spec") or {}).get("finalizers")
        return int(meta.get("deletionGracePeriodSeconds") or 0) == 0

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
        info = resource_info(resource)
        ns = self._ns(info, namespace)
        old = self.store.get(resource, ns, name)
        if old is None:
            raise errors.not_found(resource, name, info.group)
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
            return await self.update(
                resource,
                namespace,
                new,
                subresource="status",
                field_validation=field_validation,
                dry_run=dry_run,
            )
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
        info = resource_info(resource)
        ns = self._ns(info, namespace)
        old = self.store.get(resource, ns, name)
        if old is None:
            raise errors.not_found(resource, name, info.group)
        om = md(old)
        if preconditions:
            if preconditions.get("uid") and preconditions["uid"] != om.get("uid"):
                raise errors.conflict(
                    resource,
                    name,
                    info.group,
                    f"Precondition failed: UID in precondition: {preconditions['uid']}, "
                    f"UID in object meta: {om.get('uid')}",
                )
            if preconditions.get("resourceVersion") and preconditions["resourceVersion"] != om.get(
                "resourceVersion"
            ):
                raise errors.conflict(
                    resource,
                    name,
                    info.group,
                    "Precondition failed: ResourceVersion in precondition: "
                    f"{preconditions['resourceVersion']}, "
                    f"ResourceVersion in object meta: {om.get('resourceVersion')}",
                )
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
        new = clone(old)
        meta = md(new)
        if dry_run:
            return new
        if resource == "namespaces":
            return await self._delete_namespace(old, new)
        finalizers = list(meta.get("finalizers") or [])
        if propagation_policy == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        elif propagation_policy == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        grace = self._grace(resource, old, grace_period_seconds)
        if finalizers or grace > 0:
            if finalizers != list(om.get("finalizers") or []):
                meta["finalizers"] = finalizers
            if not meta.get("deletionTimestamp") or grace < int(meta.get("deletionGracePeriodSeconds") or 0):
                meta["deletionTimestamp"] = later(grace)
                meta["deletionGracePeriodSeconds"] = grace
            if not finalizers and grace == 0:
                return self._removed(resource, info, self.store.remove(resource, ns, new))
            if new != old:
                stored = self.store.put(resource, ns, new)
                return clone(stored)
            return clone(old)
        return self._removed(resource, info, self.store.remove(resource, ns, new))

    @staticmethod
    def _grace(resource: str, obj: Obj, requested: int | None) -> int:
        if resource != "pods":
            return 0
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        if not spec.get("nodeName") or status.get("phase") in ("Succeeded", "Failed"):
            return 0  # unscheduled or terminated pods go at once
        if requested is not None:
            return max(0, int(requested))
        return int(spec.get("terminationGracePeriodSeconds", 30))

    @staticmethod
    def _removed(resource: str, info: Resource, obj: Obj) -> Obj:
        if resource in _RETURN_DELETED:
            return clone(obj)
        details: dict[str, Any] = {"name": md(obj)["name"]}
        if info.group:
            details["group"] = info.group
        details["kind"] = resource
        details["uid"] = md(obj).get("uid")
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}

    async def _delete_namespace(self, old: Obj, new: Obj) -> Obj:
        meta = md(new)
        name = meta["name"]
        if name in BOOTSTRAP_NAMESPACES[:1] or name in ("kube-system", "kube-public"):
            raise errors.forbidden("namespaces", name, "", "this namespace may not be deleted")
        if not meta.get("deletionTimestamp"):
            meta["deletionTimestamp"] = now()
            meta["deletionGracePeriodSeconds"] = 0
            new["status"] = {"phase": "Terminating"}
        if not (new.get("spec") or {}).get("finalizers") and not meta.get("finalizers"):
            return clone(self.store.remove("namespaces", "", new))
        if new != old:
            return clone(self.store.put("namespaces", "", new))
        return clone(old)

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
        info = resource_info(resource)
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
        """Remove Events not written for ``ttl_seconds`` (kube-apiserver's --event-ttl, 1h by default).

        Watchers see DELETED, as with etcd lease expiry.  Returns how many were removed.
        """
        import calendar
        import time

        cutoff = (now_ts if now_ts is not None else time.time()) - ttl_seconds
        removed = 0
        items, _ = self.store.list("events")
        for ev in items:
            stamps = [ev.get("lastTimestamp"), ev.get("eventTime"), md(ev).get("creationTimestamp")]
            latest = max((str(t)[:19] for t in stamps if t), default="")
            if latest and calendar.timegm(time.strptime(latest, "%Y-%m-%dT%H:%M:%S")) < cutoff:
                self.store.remove("events", md(ev).get("namespace", ""), ev)
                removed += 1
        return removed

    # ------------------------------------------------------------------ tokens
    async def service_account_token(self, namespace: str, name: str) -> str:
        if self.store.get("serviceaccounts", namespace, name) is None:
            raise errors.not_found("serviceaccounts", name)
        return self.tokens.service_account_token(namespace, name)
