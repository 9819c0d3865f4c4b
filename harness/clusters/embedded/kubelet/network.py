"""The cluster's network on the host: a bridge with the pod /24 and a service /24 (like a CNI bridge).

Pods reach each other over the bridge (layer 2) and the host through the gateway address; ClusterIPs
are /32 addresses on the same bridge, so traffic to them is delivered locally to the userspace
service proxy. Nothing is forwarded or NATed: ip_forward stays as it is and no packet leaves the
machine.

Subnets and bridge names are chosen under a host-wide lock and claimed with a file in
``/run/jhsc/networks/`` so that several clusters on one host never collide.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import os
import random
import secrets
import signal
from dataclasses import dataclass
from pathlib import Path

from .host import host_ipv4_networks, host_lock, link_exists, process_start_time, require_root, run_ip
from .records import HostRecords

#: Where pod and service /24s are taken from; avoids kind/kubeadm defaults (10.244/16, 10.96/12).
SUPERNET = ipaddress.IPv4Network("10.213.0.0/16")
CLAIMS_DIR = Path("/run/jhsc/networks")


def bridge_mac(bridge: str) -> str:
    """A stable, locally administered unicast MAC for ``bridge`` (02:... never clashes with a NIC's)."""
    digest = hashlib.sha256(bridge.encode()).digest()
    return ":".join(f"{b:02x}" for b in (0x02, *digest[:5]))


def _claimed_networks() -> list[ipaddress.IPv4Network]:
    """Subnets claimed by live clusters (a claim whose bridge is gone is stale and ignored)."""
    nets: list[ipaddress.IPv4Network] = []
    if not CLAIMS_DIR.exists():
        return nets
    for claim in CLAIMS_DIR.glob("*.json"):
        try:
            data = json.loads(claim.read_text())
        except (OSError, ValueError):
            continue
        if not link_exists(data.get("bridge", "")):
            claim.unlink(missing_ok=True)
            continue
        if _abandoned(data):
            _reap(data)
            claim.unlink(missing_ok=True)
            continue
        nets += [ipaddress.IPv4Network(data["pod_cidr"]), ipaddress.IPv4Network(data["service_cidr"])]
    return nets


def _abandoned(claim: dict) -> bool:
    """A claim nobody can ever clean up: its cluster process is dead and its data dir is gone.

    (While the data dir exists, only an ``up`` on that dir cleans its leftovers, from its records.)
    """
    owner, start = claim.get("pid"), claim.get("pid_start")
    if owner is None or Path(claim.get("data_dir", "")).exists():
        return False
    return process_start_time(int(owner)) != start


def _reap(claim: dict) -> None:
    """Remove an abandoned cluster's bridge and pod netns (named ``<bridge>-*``); its processes died
    with their data dir's owner or are shims of that data dir."""
    bridge, data_dir = claim["bridge"], claim["data_dir"]
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(arg.endswith(b"container_init.py") for arg in cmdline) and any(
                arg.startswith(f"{data_dir}/".encode()) for arg in cmdline
            ):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(proc.name), signal.SIGKILL)
    delete_pod_netns(bridge)
    run_ip("link", "del", bridge, check=False)


def delete_pod_netns(bridge: str) -> None:
    """Delete every pod netns of the node on ``bridge`` (all are named ``<bridge>-*``)."""
    netns_dir = Path("/run/netns")
    for ns in netns_dir.iterdir() if netns_dir.exists() else []:
        if ns.name.startswith(f"{bridge}-"):
            run_ip("netns", "del", ns.name, check=False)


def _is_free(net: ipaddress.IPv4Network, taken: list[ipaddress.IPv4Network]) -> bool:
    return net.subnet_of(SUPERNET) and not any(net.overlaps(other) for other in taken)


def choose_subnets(
    taken: list[ipaddress.IPv4Network], preferred: tuple[str, str] | None = None
) -> tuple[ipaddress.IPv4Network, ipaddress.IPv4Network]:
    """Pick (pod /24, service /24) not overlapping ``taken``; keep each of ``preferred`` that is free.

    A restarted cluster must get its service /24 back above all (its Services' ClusterIPs were
    allocated from it; a new pod /24 only renumbers pods), so the two are kept independently. Fresh
    /24s are drawn at random among the free ones, not lowest first: a cluster that starts while another
    restarts (two xdist workers, other test runs) would otherwise take exactly the subnets the
    restarting one released a moment ago and is about to claim again.
    """
    want_pod, want_svc = (ipaddress.IPv4Network(c) for c in preferred) if preferred else (None, None)
    svc = want_svc if want_svc is not None and _is_free(want_svc, taken) else None
    pod = want_pod if want_pod is not None and _is_free(want_pod, [*taken, *([svc] if svc else [])]) else None
    chosen = [n for n in (pod, svc) if n is not None]
    free = [n for n in SUPERNET.subnets(new_prefix=24) if _is_free(n, [*taken, *chosen])]
    # .0/24 is skipped so that no pod network looks like a network id (10.213.0.0/24).
    free = [n for n in free if n.network_address.packed[2] != 0]
    need = (pod is None) + (svc is None)
    if len(free) < need:
        raise RuntimeError(f"no {need} free /24 left in {SUPERNET} (taken: {taken})")
    fresh = random.sample(free, need)
    return (pod or fresh.pop()), (svc or fresh.pop())


@dataclass
class ClusterNetwork:
    pod_cidr: str
    service_cidr: str
    gateway: str
    bridge: str
    data_dir: Path

    @classmethod
    def setup(cls, data_dir: Path, previous: dict | None) -> ClusterNetwork:
        """Clean this data dir's stale leftovers, then claim subnets and create the bridge."""
        require_root()
        records = HostRecords(data_dir)
        records.cleanup()
        with host_lock():
            taken = [ipaddress.IPv4Network(n, strict=False) for n in host_ipv4_networks()]
            taken += _claimed_networks()
            preferred = None
            if previous and previous.get("pod_cidr") and previous.get("service_cidr"):
                preferred = (previous["pod_cidr"], previous["service_cidr"])
            pod, svc = choose_subnets(taken, preferred)
            bridge = (previous or {}).get("bridge") or ""
            if not bridge.startswith("jhsc-") or link_exists(bridge):
                bridge = cls._free_bridge_name()
            gateway = str(pod.network_address + 1)
            claim = CLAIMS_DIR / f"{bridge}.json"
            records.add("file", path=str(claim))
            records.add("link", name=bridge)
            CLAIMS_DIR.mkdir(parents=True, exist_ok=True)
            claim.write_text(
                json.dumps(
                    {
                        "bridge": bridge,
                        "pod_cidr": str(pod),
                        "service_cidr": str(svc),
                        "data_dir": str(data_dir),
                        "pid": os.getpid(),
                        "pid_start": process_start_time(os.getpid()),
                    }
                )
            )
            # A bridge whose MAC was never set takes the lowest MAC of its ports, so every veth added
            # or removed could change the gateway's MAC under the pods' ARP caches: existing pods
            # then lose the host (ClusterIPs, probes, the API) for half a minute. The CNI bridge
            # plugin pins it; so do we.
            run_ip("link", "add", bridge, "address", bridge_mac(bridge), "type", "bridge")
            run_ip("addr", "add", f"{gateway}/{pod.prefixlen}", "dev", bridge)
            run_ip("link", "set", bridge, "up")
        return cls(
            pod_cidr=str(pod), service_cidr=str(svc), gateway=gateway, bridge=bridge, data_dir=data_dir
        )

    @staticmethod
    def _free_bridge_name() -> str:
        while True:
            name = f"jhsc-{secrets.token_hex(4)}"
            if not link_exists(name):
                return name

    @property
    def pod_network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.pod_cidr)

    @property
    def service_network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.service_cidr)

    @property
    def prefixlen(self) -> int:
        return self.pod_network.prefixlen

    def to_json(self) -> dict:
        return {
            "pod_cidr": self.pod_cidr,
            "service_cidr": self.service_cidr,
            "gateway": self.gateway,
            "bridge": self.bridge,
        }

    def add_service_ip(self, ip: str) -> None:
        """Make a ClusterIP local to the host (so the proxy can bind it and pods reach it via the gateway)."""
        run_ip("addr", "replace", f"{ip}/32", "dev", self.bridge)

    def remove_service_ip(self, ip: str) -> None:
        run_ip("addr", "del", f"{ip}/32", "dev", self.bridge, check=False)

    def teardown(self) -> None:
        """Delete the bridge (with every ClusterIP on it), any pod netns still on it (a sandbox whose
        ``ip netns add`` outlived a cancelled pod worker) and the claim; idempotent."""
        delete_pod_netns(self.bridge)
        if link_exists(self.bridge):
            run_ip("link", "del", self.bridge, check=False)
        (CLAIMS_DIR / f"{self.bridge}.json").unlink(missing_ok=True)
        HostRecords(self.data_dir).clear()  # the bridge is the last thing made: nothing left to record
