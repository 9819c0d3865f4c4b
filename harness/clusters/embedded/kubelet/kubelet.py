"""The node agent: registers the Node, schedules, runs a worker per pod, proxies Services.

``Kubelet(registry, config)`` is started by ``cluster.py`` after the API server and controllers.
``stop()`` kills every pod process tree and removes every netns, veth and ClusterIP it made; PV data
and API objects stay, so a later ``start()`` on the same data dir behaves like a node after a reboot:
pods that were running are started again (new IPs, restart counts going on).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import shutil
from pathlib import Path
from typing import Any

from ..config import ClusterConfig
from ..images import ImageMap
from .api import Obj, RegistryLike
from .context import NodeContext
from .host import require_root
from .ipam import IPAM
from .network import ClusterNetwork
from .node import NodeAgent
from .pod_io import KubeletPodIO
from .pod_state import PodState
from .pod_worker import PodWorker
from .recorder import NODE_NAME
from .records import HostRecords
from .scheduler import Scheduler
from .service_proxy import ServiceProxy

log = logging.getLogger(__name__)
#: how long stop() waits for pod workers to kill their pods before doing it itself
STOP_TIMEOUT = 10.0


def network_from_config(config: ClusterConfig) -> ClusterNetwork:
    """The ClusterNetwork ``cluster.py`` set up (its facts are in ``cluster.json``)."""
    data = json.loads(config.cluster_json.read_text())
    return ClusterNetwork(
        pod_cidr=data["pod_cidr"],
        service_cidr=data["service_cidr"],
        gateway=data["gateway"],
        bridge=data["bridge"],
        data_dir=config.data_dir,
    )


class Kubelet:
    def __init__(self, registry: Any, config: ClusterConfig, network: ClusterNetwork | None = None) -> None:
        self.registry: RegistryLike = registry
        self.config = config
        self.network = network
        self.workers: dict[str, PodWorker] = {}
        self.pod_io = KubeletPodIO(self.find_pod)
        self._tasks: list[asyncio.Task[Any]] = []
        self._proxy: ServiceProxy | None = None
        self.ctx: NodeContext | None = None

    def find_pod(self, namespace: str, name: str) -> PodState | None:
        """The state of the pod ``namespace/name`` this node runs (for pods/log and pods/exec)."""
        for worker in self.workers.values():
            if worker.state.namespace == namespace and worker.state.name == name:
                return worker.state
        return None

    async def start(self) -> None:
        require_root()
        network = self.network or network_from_config(self.config)
        self.network = network
        records = HostRecords(self.config.data_dir)
        ipam = IPAM(self.config.run_dir / "ipam", network.pod_network, network.gateway)
        ipam.reset()  # a (re)started node has no running pods: every old lease is stale
        NODE_NAME["value"] = self.config.node_name
        self.ctx = NodeContext(
            registry=self.registry,
            node_name=self.config.node_name,
            network=network,
            ipam=ipam,
            records=records,
            images=ImageMap(self.config.data_dir),
            pods_dir=self.config.pods_dir,
            ca_file=self.config.pki_dir / "ca.crt",
            hidden_dirs=(self.config.data_dir.resolve(),),
        )
        pods, _ = await self.registry.list("pods")
        self._clean_orphan_pod_dirs({p["metadata"]["uid"] for p in pods})
        agent = NodeAgent(self.registry, self.config.node_name, network.gateway, network.pod_cidr)
        await agent.register()
        self._proxy = ServiceProxy(self.registry, network, self.ctx.services, self._services_changed)
        scheduler = Scheduler(self.registry, self.config.node_name)
        for name, coro in (
            ("node heartbeat", agent.heartbeat()),
            ("service proxy", self._proxy.run()),
            ("scheduler", scheduler.run()),
            ("pod sync", self._sync_pods()),
        ):
            self._tasks.append(asyncio.create_task(coro, name=name))
        with contextlib.suppress(AttributeError):
            self.registry.pod_io = self.pod_io  # type: ignore[attr-defined]

    def _clean_orphan_pod_dirs(self, live_uids: set[str]) -> None:
        """Dirs of pods deleted while the node was down go; the others keep logs and emptyDirs (as a
        rebooted node keeps them) but lose the regenerated runtime files."""
        if not self.config.pods_dir.exists():
            return
        for pod_dir in self.config.pods_dir.iterdir():
            if pod_dir.name not in live_uids:
                shutil.rmtree(pod_dir, ignore_errors=True)
                continue
            for sub in ("containers", "etc", "network.json"):
                path = pod_dir / sub
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)

    def _services_changed(self) -> None:
        for worker in self.workers.values():
            try:
                worker.refresh_hosts()
            except OSError as exc:
                log.debug("hosts refresh of %s failed: %s", worker.state.name, exc)

    async def _sync_pods(self) -> None:
        while True:
            try:
                async with contextlib.aclosing(self.registry.watch("pods")) as pods:
                    async for etype, pod in pods:
                        await self._on_pod(etype, pod)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("pod watch restarted: %s", exc)
                await asyncio.sleep(0.2)

    async def _on_pod(self, etype: str, pod: Obj) -> None:
        assert self.ctx is not None
        if (pod.get("spec") or {}).get("nodeName") != self.config.node_name:
            return
        uid = pod["metadata"]["uid"]
        worker = self.workers.get(uid)
        if etype == "DELETED":
            if worker is not None:
                self.workers.pop(uid, None)
                if worker.task is not None and not worker.task.done():
                    worker.task.cancel()  # force-deleted: kill at once, as a kubelet does for orphans
                    await asyncio.wait({worker.task})
                shutil.rmtree(worker.state.dir, ignore_errors=True)
            return
        if worker is not None:
            worker.update(pod)
            return
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            return  # finished before this kubelet started: nothing to run
        worker = PodWorker(self.ctx, pod)
        self.workers[uid] = worker
        worker.update(pod)
        worker.start()
        assert worker.task is not None
        worker.task.add_done_callback(functools.partial(self._worker_done, uid))

    def _worker_done(self, uid: str, _task: object = None) -> None:
        worker = self.workers.get(uid)
        if worker is not None and worker.task is not None and worker.task.done():
            self.workers.pop(uid, None)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT)
        self._tasks.clear()
        workers = list(self.workers.values())
        tasks = [w.task for w in workers if w.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            _, stuck = await asyncio.wait(tasks, timeout=STOP_TIMEOUT)
            for worker in workers:  # belt and braces: nothing of a pod may outlive the node
                if worker.task in stuck:
                    log.error(
                        "pod worker %s/%s did not stop; killing its processes",
                        worker.state.namespace,
                        worker.state.name,
                    )
                    await worker.kill_now()
        self.workers.clear()
        if self._proxy is not None:
            await self._proxy.close()
        if self.ctx is not None:
            self.ctx.ipam.reset()

    @property
    def data_dir(self) -> Path:
        return self.config.data_dir
