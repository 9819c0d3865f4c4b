"""What every pod worker shares: the API, the node's network, IPAM, host records, images, services."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..images import ImageMap
from .api import Obj, RegistryLike
from .ipam import IPAM
from .network import ClusterNetwork
from .puller import Backoff, ImagePuller
from .records import HostRecords


@dataclass
class ServiceCache:
    """Services by (namespace, name), kept current by the kubelet's service watch."""

    services: dict[tuple[str, str], Obj] = field(default_factory=dict)

    def in_namespace(self, namespace: str) -> list[Obj]:
        return [s for (ns, _), s in self.services.items() if ns == namespace]

    def all(self) -> list[Obj]:
        return list(self.services.values())

    def kubernetes(self) -> Obj | None:
        return self.services.get(("default", "kubernetes"))


@dataclass
class NodeContext:
    registry: RegistryLike
    node_name: str
    network: ClusterNetwork
    ipam: IPAM
    records: HostRecords
    images: ImageMap
    pods_dir: Path
    ca_file: Path
    services: ServiceCache = field(default_factory=ServiceCache)
    #: host dirs no container sees (the node's data dir: other pods' volumes, the CA key, the state db)
    hidden_dirs: tuple[Path, ...] = ()
    #: the image manager's per-(pod, image) pull back-off (the kubelet's backOffPeriod/MaxContainerBackOff)
    pull_backoff: Backoff = field(default_factory=Backoff)

    @property
    def puller(self) -> ImagePuller:
        return ImagePuller(self.images, self.pull_backoff)

    #: first CrashLoopBackOff delay (doubles up to ``backoff_max``), as the kubelet's 10s/300s
    backoff_base: float = 10.0
    backoff_max: float = 300.0
    #: the pod worker's resync interval (the kubelet's syncFrequency, default 1m)
    sync_period: float = 60.0
