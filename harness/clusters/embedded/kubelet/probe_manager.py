"""The probes of one running container and what their results do, as the kubelet's prober manager
(prober/prober_manager.go, worker.go).

A startup probe runs first; readiness and liveness probes start once it succeeded (or at once when there
is none). Startup success marks the container started (and ready when it has no readiness probe);
readiness flips ``ready``; a startup or liveness probe that crosses its failure threshold kills the
container, which then restarts per restartPolicy. Every failed attempt says Unhealthy.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .api import Obj
from .pod_state import PodState
from .probes import Prober
from .runtime import ContainerProcess
from .status import ContainerRecord
from .status_manager import StatusManager


class ProbeManager:
    def __init__(self, state: PodState, status: StatusManager) -> None:
        self.state = state
        self.status = status
        self._background: set[asyncio.Task[Any]] = set()

    def start(self, spec: Obj, record: ContainerRecord, proc: ContainerProcess) -> list[asyncio.Task[Any]]:
        """Start the container's probe loops; the caller cancels them when the container exits."""
        state = self.state
        assert state.sandbox.network is not None
        tasks: list[asyncio.Task[Any]] = []
        startup, readiness, liveness = (
            spec.get(k) for k in ("startupProbe", "readinessProbe", "livenessProbe")
        )
        started = asyncio.Event()
        exec_fn = state.exec_fn(spec["name"])

        async def on_startup(ok: bool, message: str, crossed: bool) -> None:
            if not ok:
                await self._unhealthy(spec, "Startup", message)
                if crossed:
                    await self._kill_for_probe(spec, proc, "startup")
            elif crossed:
                record.started = True
                started.set()
                if not readiness:
                    record.ready = True
                await self.status.push()

        async def on_readiness(ok: bool, message: str, crossed: bool) -> None:
            if not ok:
                await self._unhealthy(spec, "Readiness", message)
            if crossed and record.running:
                record.ready = ok
                await self.status.push()

        async def on_liveness(ok: bool, message: str, crossed: bool) -> None:
            if not ok:
                await self._unhealthy(spec, "Liveness", message)
                if crossed:
                    await self._kill_for_probe(spec, proc, "liveness")

        async def after_startup(kind: str, probe: Obj, callback: Any) -> None:
            await started.wait()
            await Prober(kind, probe, spec, state.pod_ip or "", exec_fn, callback).run()

        if startup:
            tasks.append(
                asyncio.create_task(
                    Prober("startup", startup, spec, state.sandbox.network.ip, exec_fn, on_startup).run()
                )
            )
        else:
            record.started = True
            started.set()
            record.ready = not readiness
        if readiness:
            tasks.append(asyncio.create_task(after_startup("readiness", readiness, on_readiness)))
        if liveness:
            tasks.append(asyncio.create_task(after_startup("liveness", liveness, on_liveness)))
        return tasks

    async def _unhealthy(self, spec: Obj, kind: str, message: str) -> None:
        await self.state.container_event(
            spec["name"], "Unhealthy", f"{kind} probe failed: {message}", warning=True
        )

    async def _kill_for_probe(self, spec: Obj, proc: ContainerProcess, kind: str) -> None:
        await self.state.container_event(
            spec["name"], "Killing", f"Container {spec['name']} failed {kind} probe, will be restarted"
        )
        # the probe loop that calls this is cancelled when the container exits: stop in its own task
        grace = float(spec.get("terminationGracePeriodSeconds") or self.state.termination_grace())
        task = asyncio.create_task(proc.stop(grace))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
