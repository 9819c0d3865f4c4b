"""Run a pod once its volumes are mounted, as the kubelet's SyncPod does (kuberuntime_manager.go).

Create the sandbox, then run the init containers one after another until each succeeded, then every
app container at once. Each container is restarted per restartPolicy with the kubelet's container
back-off (CrashLoopBackOff: immediately, then 10s, 20s, ... up to 300s, reset after 10 minutes of a
good run); the phase follows from how they ended.
"""

from __future__ import annotations

import asyncio
import time

from .api import Obj
from .container_lifecycle import ContainerLifecycle
from .pod_state import PodState
from .probe_manager import ProbeManager
from .status import ContainerRecord
from .status_manager import StatusManager

#: a container that ran this long without failing gets its back-off reset
BACKOFF_RESET_SECONDS = 600.0


class PodSync:
    def __init__(
        self, state: PodState, status: StatusManager, containers: ContainerLifecycle, probes: ProbeManager
    ) -> None:
        self.state = state
        self.status = status
        self.containers = containers
        self.probes = probes

    async def run(self) -> None:
        state = self.state
        await state.sandbox.create(state.pod)
        await self.status.push()
        if not await self._run_init_containers():
            state.phase = "Failed"
            await self.status.push()
            return
        state.initialized = True
        await asyncio.gather(*(self._supervise(c) for c in state.pod["spec"]["containers"]))
        codes = [r.terminated["exitCode"] if r.terminated else 1 for r in state.containers]
        state.phase = "Succeeded" if all(code == 0 for code in codes) else "Failed"
        await self.status.push()

    async def _backoff(self, spec: Obj, record: ContainerRecord, delay: float) -> float:
        """Wait before a restart and return the next delay: the first restart is immediate, then
        10s, 20s, ... up to 300s (the kubelet's container back-off), shown as CrashLoopBackOff."""
        state = self.state
        if delay <= 0:
            return state.ctx.backoff_base
        message = (
            f"back-off {int(delay)}s restarting failed container={spec['name']} "
            f"pod={state.name}_{state.namespace}({state.uid})"
        )
        record.set_waiting("CrashLoopBackOff", message)
        await self.status.push()
        await state.container_event(
            spec["name"], "BackOff", "Back-off restarting failed container", warning=True
        )
        await asyncio.sleep(delay)
        return min(delay * 2, state.ctx.backoff_max)

    async def _run_init_containers(self) -> bool:
        state = self.state
        delay = 0.0
        for spec, record in zip(state.pod["spec"].get("initContainers") or [], state.init, strict=True):
            ran = False
            while True:
                if ran:  # restartCount counts new instances of a container that did run, as the kubelet's
                    record.restart_count += 1
                proc = await self.containers.start(spec, record)
                ran = proc is not None
                if proc is not None:
                    await self.status.push()
                    code = await proc.wait()
                    record.set_terminated(code, proc.started_at, proc.finished_at)
                    state.procs.pop(spec["name"], None)
                    await self.status.push()
                    if code == 0:
                        break
                else:
                    await self.status.push()
                if state.restart_policy() == "Never":
                    return False
                delay = await self._backoff(spec, record, delay)
        return True

    async def _supervise(self, spec: Obj) -> None:
        state = self.state
        record = next(r for r in state.containers if r.name == spec["name"])
        delay = 0.0
        ran = False
        while True:
            if ran:
                record.restart_count += 1
            proc = await self.containers.start(spec, record)
            ran = proc is not None
            if proc is None:
                await self.status.push()
                if state.restart_policy() == "Never":
                    if not record.terminated:
                        record.set_terminated(
                            128, None, None, "StartError", record.state["waiting"].get("message")
                        )
                    return
            else:
                started = time.monotonic()
                state.phase = "Running"  # the pod runs once one of its containers does
                probes = self.probes.start(spec, record, proc)
                await self.status.push()
                try:
                    code = await proc.wait()
                finally:
                    for task in probes:
                        task.cancel()
                record.set_terminated(code, proc.started_at, proc.finished_at)
                await self.status.push()
                policy = state.restart_policy()
                if policy == "Never" or (policy == "OnFailure" and code == 0):
                    return
                if time.monotonic() - started > BACKOFF_RESET_SECONDS:
                    delay = 0.0
            delay = await self._backoff(spec, record, delay)
