"""The Node object of the embedded node: registration at start, then a heartbeat on its status."""

from __future__ import annotations

import asyncio
import os
import platform

from ..version import GIT_VERSION as KUBELET_VERSION
from .api import Obj, RegistryLike, get_or_none
from .runtime import now_rfc3339

HEARTBEAT_SECONDS = 10.0
MAX_PODS = 110


def _memory_kib() -> int:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                return int(line.split()[1])
    return 0


def _os_image() -> str:
    try:
        with open("/etc/os-release") as fh:
            for line in fh:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"


def _conditions(now: str, since: str) -> list[Obj]:
    def cond(ctype: str, status: str, reason: str, message: str) -> Obj:
        return {
            "type": ctype,
            "status": status,
            "lastHeartbeatTime": now,
            "lastTransitionTime": since,
            "reason": reason,
            "message": message,
        }

    return [
        cond(
            "MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"
        ),
        cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ]


def node_object(name: str, internal_ip: str, pod_cidr: str, since: str) -> Obj:
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    capacity = {
        "cpu": str(os.cpu_count() or 1),
        "memory": f"{_memory_kib()}Ki",
        "pods": str(MAX_PODS),
        "ephemeral-storage": "20Gi",
    }
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": arch,
                "beta.kubernetes.io/os": "linux",
                "beta.kubernetes.io/arch": arch,
            },
        },
        "spec": {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr]},
        "status": {
            "capacity": capacity,
            "allocatable": dict(capacity),
            "conditions": _conditions(since, since),
            "addresses": [
                {"type": "InternalIP", "address": internal_ip},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": "",
                "systemUUID": "",
                "bootID": "",
                "kernelVersion": platform.release(),
                "osImage": _os_image(),
                "containerRuntimeVersion": "embedded://0.1.0",
                "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": KUBELET_VERSION,
                "operatingSystem": "linux",
                "architecture": arch,
            },
        },
    }


class NodeAgent:
    def __init__(self, registry: RegistryLike, name: str, internal_ip: str, pod_cidr: str) -> None:
        self.registry = registry
        self.name = name
        self.internal_ip = internal_ip
        self.pod_cidr = pod_cidr
        self.since = now_rfc3339()

    async def register(self) -> None:
        desired = node_object(self.name, self.internal_ip, self.pod_cidr, self.since)
        existing = await get_or_none(self.registry, "nodes", None, self.name)
        if existing is None:
            created = await self.registry.create(
                "nodes", None, {k: v for k, v in desired.items() if k != "status"}
            )
            existing = created
        else:
            existing["metadata"].setdefault("labels", {}).update(desired["metadata"]["labels"])
            existing["spec"] = {**(existing.get("spec") or {}), **desired["spec"]}
            existing = await self.registry.update("nodes", None, existing)
        await self._put_status(desired["status"])

    async def _put_status(self, status: Obj) -> None:
        body = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": self.name}, "status": status}
        await self.registry.update("nodes", None, body, subresource="status")

    async def heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            status = node_object(self.name, self.internal_ip, self.pod_cidr, self.since)["status"]
            status["conditions"] = _conditions(now_rfc3339(), self.since)
            try:
                await self._put_status(status)
            except Exception:  # the API may be shutting down; the next beat tries again
                continue
