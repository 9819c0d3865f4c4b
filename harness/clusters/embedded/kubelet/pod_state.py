"""What the jobs that run one pod share: the pod as last seen, its sandbox, volumes, container records
and processes, its phase.

The sandbox, volume, container, probe and status jobs (``pod_sandbox``, ``pod_volumes``,
``container_lifecycle``, ``probe_manager``, ``status_manager``, ``pod_sync``) each read and change this
one object, as the real kubelet's pod worker, runtime cache and status manager share their per-pod
facts. It also satisfies ``exec.RunningContainers``, so ``kubectl exec`` and the logs backend
(``pod_io``) read it without knowing the worker.
"""

from __future__ import annotations

import asyncio

from .api import Obj
from .container_spec import ContainerLaunch
from .context import NodeContext
from .exec import exec_capture
from .pod_sandbox import PodSandbox
from .probes import ExecFn
from .recorder import container_field_path, emit
from .runtime import ContainerProcess, now_rfc3339
from .status import ContainerRecord
from .volumes import PodVolume


class PodState:
    def __init__(self, ctx: NodeContext, pod: Obj) -> None:
        self.ctx = ctx
        #: the pod as last seen: from the watch, a status write's answer or a re-read while mounting
        self.pod = pod
        meta = pod["metadata"]
        self.namespace, self.name, self.uid = meta["namespace"], meta["name"], meta["uid"]
        self.dir = ctx.pods_dir / self.uid
        self.sandbox = PodSandbox(ctx, self.uid, self.dir)
        self.volumes: dict[str, PodVolume] = {}
        spec = pod["spec"]
        previous = {c["name"]: c for c in (pod.get("status") or {}).get("containerStatuses") or []}
        # the kubelet's default waiting reason for a container not created yet: PodInitializing for
        # every container (init ones too) of a pod that has init containers, else ContainerCreating
        waiting = "PodInitializing" if spec.get("initContainers") else "ContainerCreating"
        self.init = [ContainerRecord.waiting_for(c, waiting) for c in spec.get("initContainers") or []]
        self.containers = [ContainerRecord.waiting_for(c, waiting) for c in spec.get("containers") or []]
        for record in self.containers:  # after a node restart, restarts keep counting
            old = previous.get(record.name)
            if old and (old.get("containerID") or old.get("restartCount")):
                record.restart_count = int(old.get("restartCount", 0)) + 1
        self.procs: dict[str, ContainerProcess] = {}
        self.launches: dict[str, ContainerLaunch] = {}
        self.phase = "Pending"
        self.initialized = not self.init
        self.start_time = (pod.get("status") or {}).get("startTime") or now_rfc3339()
        self.deleting = asyncio.Event()

    @property
    def pod_ip(self) -> str | None:
        return self.sandbox.ip

    def restart_policy(self) -> str:
        return str(self.pod["spec"].get("restartPolicy") or "Always")

    def termination_grace(self) -> float:
        """The pod's ``terminationGracePeriodSeconds`` (default 30)."""
        return float(self.pod["spec"].get("terminationGracePeriodSeconds", 30))

    def exec_fn(self, container: str) -> ExecFn:
        """How exec probes and exec hooks of ``container`` run a command in it."""

        async def exec_fn(command: list[str], timeout: float) -> tuple[int, bytes]:
            return await exec_capture(self, container, command, timeout)

        return exec_fn

    async def container_event(self, name: str, reason: str, message: str, *, warning: bool = False) -> None:
        """An Event about one container of this pod: ``involvedObject.fieldPath`` names it (init or app
        container), as real."""
        await emit(
            self.ctx.registry,
            self.pod,
            reason,
            message,
            type="Warning" if warning else "Normal",
            field_path=container_field_path(self.pod, name),
        )
