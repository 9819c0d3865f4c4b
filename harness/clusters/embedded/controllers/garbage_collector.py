"""The garbage collector: ownerReferences-based cascading deletion (background, foreground, orphan).

Why: KubeSpawner makes the user's pod the owner of its Secret/Service (internal SSL, services_enabled), the
Deployment owns ReplicaSets which own pods, and "delete the hub" must take dependents with it exactly as the
three propagation policies of a real cluster do:

* background — the owner is gone; each dependent whose owners are all gone is deleted.
* foreground — the owner has ``metadata.deletionTimestamp`` and the ``foregroundDeletion`` finalizer; its
  dependents are deleted first and the finalizer is removed once no dependent with ``blockOwnerDeletion``
  remains.
* orphan — the owner has the ``orphan`` finalizer; the owner references to it are removed from its
  dependents, then the finalizer.

Work-queue keys are ``("<resource>/<namespace>", name)`` because the GC, unlike the other controllers,
handles every resource.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from ..apiserver.errors import ApiError
from ..apiserver.resources import BY_KIND, RESOURCES, STORED, Resource
from .base import Controller, delete_if_present
from .informer import Informer, InformerFactory
from .objects import Key, Obj, has_finalizer, is_terminating, owner_refs, uid, without_finalizer

log = logging.getLogger(__name__)

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"
#: Events are never owners in practice and churn a lot; the real GC watches them, we do not need to.
_IGNORED = {"events"}


def monitored_resources() -> list[str]:
    return [
        r.plural for r in RESOURCES if r.plural in STORED and "watch" in r.verbs and r.plural not in _IGNORED
    ]


def owner_resource(ref: dict[str, Any]) -> Resource | None:
    """The resource an ownerReference names, by apiVersion+kind, else by kind alone (old API versions)."""
    res = BY_KIND.get((ref.get("apiVersion", ""), ref.get("kind", "")))
    if res is not None:
        return res
    return next((r for r in RESOURCES if r.kind == ref.get("kind")), None)


def gc_key(resource: str, namespace: str, name: str) -> Key:
    return (f"{resource}/{namespace}", name)


def split_key(key: Key) -> tuple[str, str, str]:
    resource, ns = key[0].split("/", 1)
    return resource, ns, key[1]


def deletion_policy(obj: Obj) -> str:
    """The policy to delete a dependent with, following the finalizers it already carries."""
    if has_finalizer(obj, ORPHAN):
        return "Orphan"
    if has_finalizer(obj, FOREGROUND):
        return "Foreground"
    return "Background"


class GarbageCollector(Controller):
    name = "garbage-collector-controller"
    resync_period = 0

    def __init__(self, registry: Any, informers: InformerFactory, config: Any) -> None:
        super().__init__(registry, informers, config)
        self.resources = monitored_resources()
        self.caches: dict[str, Informer] = {}
        #: owner uid -> keys of the objects that list it in ownerReferences
        self.dependents: dict[str, set[Key]] = {}
        for res in self.resources:
            inf = self.watch(res)
            self.caches[res] = inf
            inf.add_handler(self._handler(res))

    def primary(self) -> Informer:
        return self.caches["pods"]

    def initial_keys(self) -> list[Key]:
        return []  # the informers' initial ADDED events already queued every object with owners

    def _handler(self, resource: str) -> Any:
        def on_event(event_type: str, obj: Obj, old: Obj | None) -> None:
            meta = obj["metadata"]
            key = gc_key(resource, meta.get("namespace", ""), meta["name"])
            for ref in [*(owner_refs(old) if old else []), *owner_refs(obj)]:
                self._unlink(ref.get("uid", ""), key)
            if event_type != "DELETED":
                for ref in owner_refs(obj):
                    self.dependents.setdefault(ref.get("uid", ""), set()).add(key)
                if owner_refs(obj) or has_finalizer(obj, FOREGROUND) or has_finalizer(obj, ORPHAN):
                    self.queue.add(key)
            if event_type == "DELETED" or is_terminating(obj):
                for dep in list(self.dependents.get(uid(obj), ())):
                    self.queue.add(dep)
                # the owners of a dependent that went away may be waiting for it (foreground)
                for ref in owner_refs(obj):
                    owner = self._owner_key(ref, meta.get("namespace", ""))
                    if owner is not None:
                        self.queue.add(owner)

        return on_event

    def _unlink(self, owner_uid: str, key: Key) -> None:
        keys = self.dependents.get(owner_uid)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self.dependents[owner_uid]

    def _owner_key(self, ref: dict[str, Any], namespace: str) -> Key | None:
        res = owner_resource(ref)
        if res is None or res.plural not in self.caches:
            return None
        return gc_key(res.plural, namespace if res.namespaced else "", ref.get("name", ""))

    def _get(self, key: Key) -> Obj | None:
        resource, ns, name = split_key(key)
        return self.caches[resource].get(ns, name)

    def _dependents_of(self, obj: Obj) -> list[tuple[Key, Obj]]:
        out = []
        for key in list(self.dependents.get(uid(obj), ())):
            dep = self._get(key)
            if dep is not None and any(r.get("uid") == uid(obj) for r in owner_refs(dep)):
                out.append((key, dep))
        return out

    async def reconcile(self, key: Key) -> float | None:
        obj = self._get(key)
        if obj is None:
            return None
        if is_terminating(obj) and has_finalizer(obj, FOREGROUND):
            await self._process_foreground(key, obj)
            return None
        if is_terminating(obj) and has_finalizer(obj, ORPHAN):
            await self._process_orphan(key, obj)
            return None
        if owner_refs(obj):
            await self._attempt_to_delete(key, obj)
        return None

    async def _process_foreground(self, key: Key, owner: Obj) -> None:
        deps = self._dependents_of(owner)
        blocking = [
            (k, d)
            for k, d in deps
            if any(r.get("uid") == uid(owner) and r.get("blockOwnerDeletion") for r in owner_refs(d))
        ]
        if not blocking:
            await self._update(key, owner, finalizers=without_finalizer(owner, FOREGROUND))
            return
        for dep_key, dep in deps:
            if not is_terminating(dep):
                self.queue.add(dep_key)

    async def _process_orphan(self, key: Key, owner: Obj) -> None:
        for dep_key, dep in self._dependents_of(owner):
            refs = [r for r in owner_refs(dep) if r.get("uid") != uid(owner)]
            await self._update(dep_key, dep, owner_references=refs)
        await self._update(key, owner, finalizers=without_finalizer(owner, ORPHAN))

    async def _attempt_to_delete(self, key: Key, obj: Obj) -> None:
        """attemptToDeleteItem: classify owners as solid, dangling or waiting-for-dependents."""
        if is_terminating(obj):
            return
        ns = obj["metadata"].get("namespace", "")
        solid: list[dict[str, Any]] = []
        dangling: list[dict[str, Any]] = []
        waiting: list[dict[str, Any]] = []
        for ref in owner_refs(obj):
            state = await self._owner_state(ref, ns)
            {"solid": solid, "dangling": dangling, "waiting": waiting}[state].append(ref)
        if solid:
            if dangling or waiting:
                gone = {r.get("uid") for r in dangling + waiting}
                await self._update(
                    key, obj, owner_references=[r for r in owner_refs(obj) if r.get("uid") not in gone]
                )
            return
        if waiting and self._dependents_of(obj):
            # unblock our owners first (as the real GC does), then cascade in the foreground
            refs = [{**r, "blockOwnerDeletion": False} if r in waiting else r for r in owner_refs(obj)]
            if refs != owner_refs(obj):
                await self._update(key, obj, owner_references=refs)
            await self._delete(key, "Foreground")
            return
        await self._delete(key, deletion_policy(obj))

    async def _owner_state(self, ref: dict[str, Any], namespace: str) -> str:
        res = owner_resource(ref)
        if res is None:
            return "solid"  # an owner we cannot resolve is never treated as gone
        owner_ns = namespace if res.namespaced else ""
        owner = (
            self.caches[res.plural].get(owner_ns, ref.get("name", "")) if res.plural in self.caches else None
        )
        if owner is None or uid(owner) != ref.get("uid"):
            try:
                owner = await self.registry.get(res.plural, owner_ns or None, ref.get("name", ""))
            except ApiError as e:
                if e.code == 404:
                    return "dangling"
                raise
            if uid(owner) != ref.get("uid"):
                return "dangling"
        if is_terminating(owner) and has_finalizer(owner, FOREGROUND):
            return "waiting"
        return "solid"

    async def _delete(self, key: Key, policy: str) -> None:
        resource, ns, name = split_key(key)
        await delete_if_present(self.registry, resource, ns or None, name, propagation_policy=policy)

    async def _update(
        self,
        key: Key,
        obj: Obj,
        *,
        finalizers: list[str] | None = None,
        owner_references: list[dict[str, Any]] | None = None,
    ) -> None:
        resource, ns, _ = split_key(key)
        new = copy.deepcopy(obj)
        if finalizers is not None:
            new["metadata"]["finalizers"] = finalizers
        if owner_references is not None:
            if owner_references:
                new["metadata"]["ownerReferences"] = owner_references
            else:
                new["metadata"].pop("ownerReferences", None)
        try:
            await self.registry.update(resource, ns or None, new)
        except ApiError as e:
            if e.code != 404:
                raise
