"""The embedded cluster's kube-controller-manager: controllers that talk to the API only via the Registry.

``run_controllers`` builds every controller on one shared set of informers and starts them; cancelling the
returned tasks stops everything (informers included).
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..config import ClusterConfig
from .base import Controller
from .deployments import DeploymentController
from .endpoints import EndpointsController
from .garbage_collector import GarbageCollector
from .informer import InformerFactory
from .namespace import NamespaceController
from .pv_provisioner import PersistentVolumeClaimController
from .pv_reclaimer import PersistentVolumeController
from .pvc_protection import PVCProtectionController, PVProtectionController
from .replicasets import ReplicaSetController
from .serviceaccounts import ServiceAccountsController

CONTROLLERS: tuple[type[Controller], ...] = (
    PersistentVolumeClaimController,
    PersistentVolumeController,
    PVCProtectionController,
    PVProtectionController,
    DeploymentController,
    ReplicaSetController,
    EndpointsController,
    GarbageCollector,
    NamespaceController,
    ServiceAccountsController,
)


def build_controllers(
    registry: Any, config: ClusterConfig, kinds: tuple[type[Controller], ...] = CONTROLLERS
) -> tuple[InformerFactory, list[Controller]]:
    informers = InformerFactory(registry)
    return informers, [kind(registry, informers, config) for kind in kinds]


async def run_controllers(registry: Any, config: ClusterConfig) -> list[asyncio.Task[None]]:
    """Start all controllers (and the informers they share); cancel the tasks to stop them."""
    informers, controllers = build_controllers(registry, config)
    tasks = informers.start()
    tasks += [asyncio.create_task(c.run(), name=f"controller-{c.name}") for c in controllers]
    return tasks


__all__ = ["CONTROLLERS", "build_controllers", "run_controllers"]
