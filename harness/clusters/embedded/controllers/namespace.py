"""The namespace controller: empty a Terminating namespace, then finalize and remove it.

Why: the harness tears down by deleting its per-test namespaces and waits for them to disappear; that must
take the pods (gracefully), PVCs (via pvc-protection) and everything else with it, with the deletion
conditions a real cluster reports, and only then drop the ``kubernetes`` finalizer so the namespace goes.
"""

from __future__ import annotations

import copy
from typing import Any

from ..apiserver.errors import ApiError
from ..apiserver.resources import RESOURCES, STORED
from .base import Controller
from .informer import Informer, InformerFactory
from .objects import Key, Obj, is_terminating, now

FINALIZER = "kubernetes"
#: how soon to look again while content is still going away (pods wait for their grace period)
RECHECK_SECONDS = 1.0


def namespaced_resources() -> list[tuple[str, str]]:
    """(plural, group) of every stored namespaced resource that can be deleted."""
    return [
        (r.plural, r.group) for r in RESOURCES if r.namespaced and r.plural in STORED and "delete" in r.verbs
    ]


def _cond(ctype: str, status: str, reason: str, message: str) -> dict[str, Any]:
    return {
        "type": ctype,
        "status": status,
        "lastTransitionTime": now(),
        "reason": reason,
        "message": message,
    }


def deletion_conditions(remaining: dict[str, int], finalizers: dict[str, int]) -> list[dict[str, Any]]:
    """The five NamespaceDeletion* conditions kube-controller-manager reports (k8s >= 1.16)."""
    conds = [
        _cond(
            "NamespaceDeletionDiscoveryFailure",
            "False",
            "ResourcesDiscovered",
            "All resources successfully discovered",
        ),
        _cond(
            "NamespaceDeletionGroupVersionParsingFailure",
            "False",
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed",
        ),
        _cond(
            "NamespaceDeletionContentFailure",
            "False",
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization",
        ),
    ]
    if remaining:
        msg = ", ".join(f"{res} has {n} resource instances" for res, n in sorted(remaining.items()))
        conds.append(
            _cond(
                "NamespaceContentRemaining",
                "True",
                "SomeResourcesRemain",
                f"Some resources are remaining: {msg}",
            )
        )
    else:
        conds.append(
            _cond("NamespaceContentRemaining", "False", "ContentRemoved", "All content successfully removed")
        )
    if finalizers:
        msg = ", ".join(f"{f} in {n} resource instances" for f, n in sorted(finalizers.items()))
        conds.append(
            _cond(
                "NamespaceFinalizersRemaining",
                "True",
                "SomeFinalizersRemain",
                f"Some content in the namespace has finalizers remaining: {msg}",
            )
        )
    else:
        conds.append(
            _cond(
                "NamespaceFinalizersRemaining",
                "False",
                "ContentHasNoFinalizers",
                "All content-preserving finalizers finished",
            )
        )
    return conds


def merge_conditions(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep lastTransitionTime of conditions whose status did not change."""
    previous = {c.get("type"): c for c in old}
    out = []
    for c in new:
        p = previous.get(c["type"])
        if p is not None and p.get("status") == c["status"]:
            c = {**c, "lastTransitionTime": p.get("lastTransitionTime", c["lastTransitionTime"])}
        out.append(c)
    return out


def _without_times(conds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in c.items() if k != "lastTransitionTime"} for c in conds]


class NamespaceController(Controller):
    name = "namespace-controller"
    resync_period = 60.0

    def __init__(self, registry: Any, informers: InformerFactory, config: Any) -> None:
        super().__init__(registry, informers, config)
        self.namespaces = self.watch("namespaces")
        self.namespaces.add_handler(self.enqueue_on_event)

    def primary(self) -> Informer:
        return self.namespaces

    async def reconcile(self, key: Key) -> float | None:
        ns = self.namespaces.get(None, key[1])
        if ns is None or not is_terminating(ns):
            return None
        name = ns["metadata"]["name"]
        if FINALIZER not in (ns.get("spec", {}).get("finalizers") or []):
            await self._delete_namespace(name)
            return None
        remaining, finalizers = await self._delete_content(name)
        ns = await self._update_status(ns, remaining, finalizers)
        if remaining:
            return RECHECK_SECONDS
        new = copy.deepcopy(ns)
        new["spec"]["finalizers"] = [f for f in new["spec"].get("finalizers") or [] if f != FINALIZER]
        await self.registry.update("namespaces", None, new, subresource="finalize")
        await self._delete_namespace(name)
        return None

    async def _delete_content(self, namespace: str) -> tuple[dict[str, int], dict[str, int]]:
        """Delete every object in the namespace (background propagation, default grace); count the rest."""
        remaining: dict[str, int] = {}
        finalizers: dict[str, int] = {}
        for plural, group in namespaced_resources():
            items, _ = await self.registry.list(plural, namespace)
            for obj in items:
                if is_terminating(obj):
                    continue
                try:
                    await self.registry.delete(
                        plural, namespace, obj["metadata"]["name"], propagation_policy="Background"
                    )
                except ApiError as e:
                    if e.code not in (404, 409):
                        raise
            if not items:
                continue
            left, _ = await self.registry.list(plural, namespace)
            if left:
                remaining[f"{plural}.{group}"] = len(left)
            for obj in left:
                for f in obj["metadata"].get("finalizers") or []:
                    finalizers[f] = finalizers.get(f, 0) + 1
        return remaining, finalizers

    async def _update_status(self, ns: Obj, remaining: dict[str, int], finalizers: dict[str, int]) -> Obj:
        status = ns.get("status") or {}
        conds = merge_conditions(status.get("conditions") or [], deletion_conditions(remaining, finalizers))
        if status.get("phase") == "Terminating" and _without_times(conds) == _without_times(
            status.get("conditions") or []
        ):
            return ns
        new = copy.deepcopy(ns)
        new["status"] = {**status, "phase": "Terminating", "conditions": conds}
        return dict(await self.registry.update("namespaces", None, new, subresource="status"))

    async def _delete_namespace(self, name: str) -> None:
        try:
            await self.registry.delete("namespaces", None, name)
        except ApiError as e:
            if e.code not in (404, 409):
                raise
