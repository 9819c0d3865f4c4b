"""The serviceaccounts controller: every active namespace has a ``default`` ServiceAccount.

Why: pods that name no ServiceAccount run as ``default`` and the ServiceAccount admission rejects them until
it exists; KubeSpawner's user pods rely on that in fresh per-test namespaces.
"""

from __future__ import annotations

from typing import Any

from ..apiserver.errors import ApiError
from .base import Controller
from .informer import Informer, InformerFactory
from .objects import Key, Obj, is_terminating

DEFAULT_SA = "default"


class ServiceAccountsController(Controller):
    name = "service-account-controller"

    def __init__(self, registry: Any, informers: InformerFactory, config: Any) -> None:
        super().__init__(registry, informers, config)
        self.namespaces = self.watch("namespaces")
        self.accounts = self.watch("serviceaccounts")
        self.namespaces.add_handler(self.enqueue_on_event)
        self.accounts.add_handler(self._on_account)

    def primary(self) -> Informer:
        return self.namespaces

    def _on_account(self, event_type: str, sa: Obj, old: Obj | None) -> None:
        if event_type == "DELETED" and sa["metadata"]["name"] == DEFAULT_SA:
            self.queue.add(("", sa["metadata"].get("namespace", "")))

    async def reconcile(self, key: Key) -> float | None:
        ns = self.namespaces.get(None, key[1])
        if ns is None or is_terminating(ns) or ns.get("status", {}).get("phase") == "Terminating":
            return None
        name = ns["metadata"]["name"]
        if self.accounts.get(name, DEFAULT_SA) is not None:
            return None
        sa = {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": DEFAULT_SA, "namespace": name},
        }
        try:
            await self.registry.create("serviceaccounts", name, sa)
        except ApiError as e:
            # AlreadyExists: the cache lags; Forbidden: the namespace started terminating meanwhile
            if e.code not in (403, 409):
                raise
        return None
