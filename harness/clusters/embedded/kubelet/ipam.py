"""Host-local style IP allocation for pods: one file per leased address, created with O_EXCL.

Like the CNI host-local plugin, addresses are handed out round-robin after the last one reserved,
so a re-created pod (or a pod after a node restart) gets a new IP, as on a real node.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path


class IPAM:
    def __init__(self, state_dir: Path, network: ipaddress.IPv4Network, gateway: str) -> None:
        self.dir = state_dir
        self.network = network
        self.gateway = ipaddress.IPv4Address(gateway)
        self.dir.mkdir(parents=True, exist_ok=True)

    def reset(self) -> None:
        """Forget all leases (node reboot): the pods that held them are gone."""
        for lease in self.dir.iterdir():
            if lease.name != "last_reserved_ip":
                lease.unlink(missing_ok=True)

    def allocate(self, owner: str) -> str:
        hosts = [ip for ip in self.network.hosts() if ip != self.gateway]
        last_file = self.dir / "last_reserved_ip"
        start = 0
        if last_file.exists():
            try:
                start = hosts.index(ipaddress.IPv4Address(last_file.read_text().strip())) + 1
            except ValueError:
                start = 0
        for offset in range(len(hosts)):
            ip = hosts[(start + offset) % len(hosts)]
            try:
                fd = os.open(self.dir / str(ip), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(owner)
            last_file.write_text(str(ip))
            return str(ip)
        raise RuntimeError(f"no free pod IP left in {self.network}")

    def release(self, ip: str) -> None:
        (self.dir / ip).unlink(missing_ok=True)
