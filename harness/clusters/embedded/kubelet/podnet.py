"""A pod's network sandbox: a named netns, a veth pair into the bridge, an IP, lo up, default route.

The netns outlives the pod's processes (like a pause container), so containers can restart inside
it with the same IP; ``teardown`` deletes the netns, which destroys the veth pair with it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from .host import arun_ip, link_exists, netns_exists
from .ipam import IPAM
from .network import ClusterNetwork
from .records import HostRecords


@dataclass
class PodNetwork:
    netns: str
    ip: str
    host_veth: str

    @property
    def netns_path(self) -> str:
        return f"/run/netns/{self.netns}"

    @classmethod
    async def create(
        cls, network: ClusterNetwork, ipam: IPAM, records: HostRecords, owner: str
    ) -> PodNetwork:
        netns = f"{network.bridge}-{secrets.token_hex(6)}"
        host_veth = f"jv{secrets.token_hex(6)}"
        ip = ipam.allocate(owner)
        sandbox = cls(netns=netns, ip=ip, host_veth=host_veth)
        try:
            records.add("netns", name=netns)
            records.add("link", name=host_veth)
            await arun_ip("netns", "add", netns)
            await arun_ip("link", "add", host_veth, "type", "veth", "peer", "name", "eth0", "netns", netns)
            await arun_ip("link", "set", host_veth, "master", network.bridge, "up")
            await arun_ip("-n", netns, "addr", "add", f"{ip}/{network.prefixlen}", "dev", "eth0")
            await arun_ip("-n", netns, "link", "set", "lo", "up")
            await arun_ip("-n", netns, "link", "set", "eth0", "up")
            await arun_ip("-n", netns, "route", "add", "default", "via", network.gateway)
        except BaseException:
            await sandbox.teardown(ipam)
            raise
        return sandbox

    async def teardown(self, ipam: IPAM) -> None:
        if netns_exists(self.netns):
            await arun_ip("netns", "del", self.netns, check=False)
        if link_exists(self.host_veth):
            await arun_ip("link", "del", self.host_veth, check=False)
        ipam.release(self.ip)
