"""Namespaces (pkg/registry/core/namespace): the ``kubernetes`` finalizer and name label, spec and status
that only /finalize and /status change, deletion that starts termination (the namespace controller
empties and finalizes it), and the ``kube-root-ca.crt`` ConfigMap every new namespace gets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import errors
from ..meta import clone, md, now
from ..names import dns1123_label
from ..resource import Resource
from ..selectors import META_FIELDS, field_getter
from ..strategy import Api, Strategy
from ..tables import age

if TYPE_CHECKING:
    from ..store import Store

Obj = dict[str, Any]

NAMESPACES = Resource(
    "namespaces", "namespace", "Namespace", "", "v1", False, ("ns",),
    ("create", "delete", "get", "list", "patch", "update", "watch"), ("status", "finalize"),
)  # fmt: skip

#: namespaces a delete is refused for (the apiserver's own)
PROTECTED = ("default", "kube-system", "kube-public")
NAME_LABEL = "kubernetes.io/metadata.name"


class NamespaceStrategy(Strategy):
    created_status: Obj | None = {"phase": "Active"}
    return_deleted_object = True
    default_on_update = False
    field_labels = {**META_FIELDS, "status.phase": field_getter("status", "phase")}
    columns = (("Status", "string", 0), ("Age", "string", 0))

    def defaults(self, obj: Obj) -> None:
        name = obj["metadata"]["name"]
        obj["metadata"].setdefault("labels", {})[NAME_LABEL] = name
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])

    async def after_create(self, api: Api, obj: Obj) -> None:
        """What kube-controller-manager's root-ca-cert-publisher does; the SA token volume needs it."""
        if api.ca_cert_pem is None:
            return
        name = md(obj)["name"]
        if api.store.get("configmaps", name, "kube-root-ca.crt") is None:
            body = {"metadata": {"name": "kube-root-ca.crt"}, "data": {"ca.crt": api.ca_cert_pem}}
            await api.create("configmaps", name, body)

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        new["spec"] = old.get("spec", {})
        new["status"] = old.get("status", {})
        md(new).setdefault("labels", {})[NAME_LABEL] = md(old)["name"]

    def prepare_subresource_update(self, subresource: str, old: Obj, body: Obj) -> Obj:
        if subresource != "finalize":
            return super().prepare_subresource_update(subresource, old, body)
        new = clone(old)
        new.setdefault("spec", {})["finalizers"] = (body.get("spec") or {}).get("finalizers") or []
        return new

    def name_errors(self, name: str) -> list[str]:
        return dns1123_label(name)

    def ready_to_remove(self, obj: Obj) -> bool:
        meta = md(obj)
        if not meta.get("deletionTimestamp") or meta.get("finalizers"):
            return False
        return not (obj.get("spec") or {}).get("finalizers")

    def delete(
        self, store: Store, namespace: str, old: Obj, requested: int | None, policy: str | None
    ) -> Obj:
        """Start termination: phase Terminating, deletionTimestamp now; gone once finalized."""
        new = clone(old)
        meta = md(new)
        name = meta["name"]
        if name in PROTECTED:
            raise errors.forbidden("namespaces", name, "", "this namespace may not be deleted")
        if not meta.get("deletionTimestamp"):
            meta["deletionTimestamp"] = now()
            meta["deletionGracePeriodSeconds"] = 0
            new["status"] = {"phase": "Terminating"}
        if not (new.get("spec") or {}).get("finalizers") and not meta.get("finalizers"):
            return clone(store.remove("namespaces", "", new))
        if new != old:
            return clone(store.put("namespaces", "", new))
        return clone(old)

    def row(self, o: Obj) -> list[Any]:
        return [(o.get("status") or {}).get("phase", ""), age(o)]


STRATEGIES = (NamespaceStrategy(NAMESPACES),)
