"""What a resource's registry strategy declares, as pkg/registry/<group>/<resource>/strategy.go does.

The generic registry (registry.py) runs every create, update and delete the same way and asks the
resource's :class:`Strategy` at each point where resources differ: defaults, the status a new object
starts with (PrepareForCreate), what an update may not change (PrepareForUpdate), Validate and
ValidateUpdate, graceful deletion, field selectors and the columns of ``kubectl get``.  The base class is
the behaviour of a plain stored type (a ConfigMap); a resource overrides only what differs.

Adding a resource is one module under ``strategies/`` declaring its :class:`Resource` and strategy,
listed in ``strategies/__init__.py``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from . import errors, tables
from .field import FieldError
from .meta import clone, later, md
from .names import dns1123_subdomain
from .resource import Resource
from .selectors import FieldGetter
from .tables import Column

if TYPE_CHECKING:
    from ..config import ClusterConfig
    from .authz import User
    from .store import Store

Obj = dict[str, Any]


class Api(Protocol):
    """What strategy hooks may use of the registry (the cluster state and in-process writes)."""

    store: Store
    config: ClusterConfig
    ca_cert_pem: str | None

    async def create(self, resource: str, namespace: str | None, obj: Obj) -> Obj: ...


class Strategy:
    """The behaviour of one stored resource; subclasses override what their type does differently."""

    #: the status a new object starts with: PrepareForCreate discards the client's (it is written via
    #: /status later).  None keeps what the client sent (e.g. a Node registers with its status).
    created_status: Obj | None = None
    #: metadata.generation starts at 1 and counts spec changes
    generation: bool = False
    #: deleting answers with the deleted object instead of a Success Status (ReturnDeletedObject)
    return_deleted_object: bool = False
    #: the fields ``fieldSelector`` may name; None: only metadata.name/namespace, with the message of
    #: types that register no field label conversion
    field_labels: Mapping[str, FieldGetter] | None = None
    #: table columns after Name (default: Age)
    columns: tuple[Column, ...] = (("Age", "string", 0),)

    def __init__(self, resource: Resource) -> None:
        self.resource = resource

    # ---- create ------------------------------------------------------------------------------------
    def defaults(self, obj: Obj) -> None:
        """SetDefaults_* of pkg/apis/<group>/v1/defaults.go; runs on create and update."""

    def prepare_for_create(self, obj: Obj) -> None:
        if self.created_status is not None:
            obj["status"] = copy.deepcopy(self.created_status)

    def before_create(self, api: Api, obj: Obj) -> None:
        """What the resource's REST does once admission passed, before validation (ClusterIP allocation)."""

    async def after_create(self, api: Api, obj: Obj) -> None:
        """Work that follows a stored create (what a controller would do at once)."""

    # ---- update ------------------------------------------------------------------------------------
    #: False when defaulting must not run on updates
    default_on_update = True

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        """Keep what a main-resource write may not change: the status, when /status owns it."""
        if "status" in self.resource.subresources and "status" in old:
            new["status"] = old["status"]

    def prepare_subresource_update(self, subresource: str, old: Obj, body: Obj) -> Obj:
        """The object a write to ``subresource`` stores: /status changes the status only."""
        if subresource != "status":
            raise errors.method_not_allowed()
        new = clone(old)
        new["status"] = body.get("status", {})
        return new

    # ---- validation --------------------------------------------------------------------------------
    def name_errors(self, name: str) -> list[str]:
        """What is wrong with ``metadata.name`` (ValidateObjectMeta's name function)."""
        return dns1123_subdomain(name)

    def validate(self, obj: Obj) -> list[FieldError]:
        """Type-specific rules beyond metadata and the OpenAPI schema."""
        return []

    def validate_update(self, old: Obj, new: Obj) -> list[FieldError]:
        """What may not change on a main-resource update (immutable fields)."""
        return []

    def check_encoding(self, obj: Obj) -> None:
        """Decoding checks of a client's body beyond unknown fields (e.g. Secret base64)."""

    # ---- delete ------------------------------------------------------------------------------------
    def grace_period(self, obj: Obj, requested: int | None) -> int:
        """CheckGracefulDelete: 0 deletes at once."""
        return 0

    def ready_to_remove(self, obj: Obj) -> bool:
        """An object being deleted goes once its finalizers are gone and its grace period is over."""
        meta = md(obj)
        if not meta.get("deletionTimestamp") or meta.get("finalizers"):
            return False
        return int(meta.get("deletionGracePeriodSeconds") or 0) == 0

    def delete(
        self, store: Store, namespace: str, old: Obj, requested: int | None, policy: str | None
    ) -> Obj:
        """Mark for deletion (finalizers, grace period) or remove; the object or a Success Status."""
        new = clone(old)
        meta, old_meta = md(new), md(old)
        finalizers = list(meta.get("finalizers") or [])
        if policy == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        elif policy == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        grace = self.grace_period(old, requested)
        if not finalizers and grace == 0:
            return self.deleted(store.remove(self.resource.plural, namespace, new))
        if finalizers != list(old_meta.get("finalizers") or []):
            meta["finalizers"] = finalizers
        if not meta.get("deletionTimestamp") or grace < int(meta.get("deletionGracePeriodSeconds") or 0):
            meta["deletionTimestamp"] = later(grace)
            meta["deletionGracePeriodSeconds"] = grace
        if new != old:
            return clone(store.put(self.resource.plural, namespace, new))
        return clone(old)

    def deleted(self, obj: Obj) -> Obj:
        """What a delete that removed ``obj`` answers."""
        if self.return_deleted_object:
            return clone(obj)
        details: dict[str, Any] = {"name": md(obj)["name"]}
        if self.resource.group:
            details["group"] = self.resource.group
        details["kind"] = self.resource.plural
        details["uid"] = md(obj).get("uid")
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}

    # ---- computed resources ------------------------------------------------------------------------
    def create_computed(self, store: Store, user: User, body: Obj) -> Obj:
        """The answer to a create of a resource computed per request, never stored (``stored`` False)."""
        raise errors.method_not_allowed()

    # ---- output ------------------------------------------------------------------------------------
    def row(self, obj: Obj) -> list[Any]:
        """The cells after Name, one per column."""
        return [tables.age(obj)]

    def table(self, items: list[Obj], list_meta: Obj) -> Obj:
        return tables.to_table(self.columns, self.row, items, list_meta)
