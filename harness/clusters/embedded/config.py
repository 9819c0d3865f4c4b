"""Where an embedded cluster keeps its files and which addresses it uses.

One ``ClusterConfig`` describes one data dir (see DESIGN.md, "Files under the data dir"); every part of the
cluster process (apiserver, controllers, kubelet) receives the same instance.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ClusterConfig:
    """Paths and network parameters of one embedded cluster.

    ``gateway``/``pod_cidr``/``service_cidr`` come from ``ClusterNetwork`` in the full cluster; a standalone
    API server (tests) keeps the loopback defaults and binds 127.0.0.1 only.
    """

    data_dir: Path
    api_port: int = 0
    gateway: str = "127.0.0.1"
    pod_cidr: str = "10.244.0.0/24"
    service_cidr: str = "10.96.0.0/24"
    node_name: str = "embedded-node"
    bind_addresses: list[str] = field(default_factory=lambda: ["127.0.0.1"])
    #: events kept in memory for watch resumption; older resourceVersions get 410 Expired
    watch_window: int = 1000
    #: Events not written for this long are deleted (kube-apiserver --event-ttl)
    event_ttl_seconds: int = 3600

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)

    @property
    def kubernetes_service_ip(self) -> str:
        """First usable address of the service CIDR, reserved for the ``kubernetes`` Service (as real)."""
        net = ipaddress.ip_network(self.service_cidr, strict=False)
        return str(net.network_address + 1)

    @property
    def state_db(self) -> Path:
        return self.data_dir / "state.db"

    @property
    def pki_dir(self) -> Path:
        return self.data_dir / "pki"

    @property
    def tokens_file(self) -> Path:
        return self.data_dir / "tokens.json"

    @property
    def kubeconfig(self) -> Path:
        return self.data_dir / "kubeconfig"

    @property
    def cluster_json(self) -> Path:
        return self.data_dir / "cluster.json"

    @property
    def volumes_dir(self) -> Path:
        return self.data_dir / "volumes"

    @property
    def pods_dir(self) -> Path:
        return self.data_dir / "pods"

    @property
    def run_dir(self) -> Path:
        return self.data_dir / "run"

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "cluster.pid"

    @property
    def images_json(self) -> Path:
        return self.data_dir / "images.json"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "logs" / "cluster.log"

    @property
    def server_url(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"
