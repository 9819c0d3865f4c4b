"""Small wrappers around the host tools (``ip``) and the host-wide lock.

Everything that changes the host's network goes through ``run_ip`` so failures carry the command
and its stderr, and through ``host_lock`` so parallel clusters (pytest-xdist workers) never pick
the same subnet or bridge name.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from contextlib import AbstractContextManager
from pathlib import Path

from harness.clusters.base import ClusterError
from harness.clusters.file_lock import file_lock

#: Held while choosing and claiming subnets / bridge names; shared by every cluster on the host.
LOCK_PATH = Path(os.environ.get("JHSC_HOST_LOCK", "/run/jhsc.lock"))


def require_root() -> None:
    """The kubelet makes namespaces, bridges and mounts: without root nothing works, so say so early."""
    if os.geteuid() != 0:
        raise ClusterError(
            "the embedded cluster's kubelet needs root (network/mount/PID namespaces, bridges, mounts); "
            "run as root or use the 'kind'/'existing' backend"
        )


def host_lock() -> AbstractContextManager[None]:
    """The host-wide network lock (``LOCK_PATH``)."""
    return file_lock(LOCK_PATH)


def run_ip(*args: str, check: bool = True) -> str:
    """Run ``ip ARGS`` and return stdout; raise ClusterError with stderr when it fails and ``check``."""
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise ClusterError(f"ip {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


async def arun_ip(*args: str, check: bool = True) -> str:
    """``run_ip`` without blocking the event loop."""
    proc = await asyncio.create_subprocess_exec("ip", *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await proc.communicate()
    if check and proc.returncode != 0:
        raise ClusterError(f"ip {' '.join(args)} failed: {err.decode().strip()}")
    return out.decode()


def link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def netns_exists(name: str) -> bool:
    return Path("/run/netns", name).exists()


def host_ipv4_networks() -> list[str]:
    """Every IPv4 prefix the host already uses (interface addresses and routes in all tables)."""
    nets: list[str] = []
    for entry in json.loads(run_ip("-j", "-4", "addr", "show") or "[]"):
        for addr in entry.get("addr_info", []):
            nets.append(f"{addr['local']}/{addr['prefixlen']}")
    for route in json.loads(run_ip("-j", "-4", "route", "show", "table", "all") or "[]"):
        dst = route.get("dst", "")
        if dst and dst != "default":
            nets.append(dst if "/" in dst else f"{dst}/32")
    return nets


def process_start_time(pid: int) -> int | None:
    """Start time (clock ticks since boot) of ``pid``: with the pid it identifies a process uniquely."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])
