"""Start and stop one pod's container runs, as the kubelet's runtime manager does (kuberuntime_container.go).

``start`` is ``startContainer``: pull the image (the container waits with ErrImagePull /
ImagePullBackOff while it cannot be had), build the launch (``container_spec``), spawn the shim, then
run the postStart hook before the next container starts. ``stop_all`` is ``killContainer`` for every
running container: preStop hooks, then SIGTERM, the grace period, SIGKILL, and the final terminated
records. Each step is told in an Event and in the container's record.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import time

from ..images import ImageEntry
from .api import Obj, pod_containers
from .container_spec import build_launch
from .envvars import EnvError
from .hooks import run_hook
from .pod_state import PodState
from .puller import PullFailed
from .runtime import ContainerProcess, ContainerStartError, now_rfc3339
from .status import ContainerRecord
from .status_manager import StatusManager
from .volumes import VolumeError

#: postStart hooks have no timeout of their own on a real kubelet; this only bounds a stuck hook
HOOK_TIMEOUT = 600.0
#: the PLEG relist period: a pod's first failed sync is retried this soon (its new sandbox is an event)
PLEG_RESYNC_SECONDS = 1.0


class ContainerLifecycle:
    def __init__(self, state: PodState, status: StatusManager) -> None:
        self.state = state
        self.status = status

    async def _pull(self, spec: Obj, record: ContainerRecord) -> ImageEntry:
        """The container's image, once the node has it: while it cannot be pulled the container waits
        (ErrImagePull / ImagePullBackOff / ErrImageNeverPull) and the pod sync is retried as the
        kubelet's pod worker does after a failed sync: 10-15s later (backOffPeriod, jitter 0.5). The
        first retry comes after 1s, when the new sandbox's PLEG event triggers another sync."""
        state = self.state
        retry = PLEG_RESYNC_SECONDS

        async def event(reason: str, message: str, warning: bool) -> None:
            await state.container_event(spec["name"], reason, message, warning=warning)

        while True:
            try:
                return await state.ctx.puller.ensure(state.pod, spec, event)
            except PullFailed as failed:
                record.set_waiting(failed.reason, failed.message)
                await self.status.push()
            await asyncio.sleep(retry)
            retry = state.ctx.backoff_base * (1 + random.random() * 0.5)

    async def start(self, spec: Obj, record: ContainerRecord) -> ContainerProcess | None:
        """Start one run of a container; on failure record the waiting reason and return None."""
        state, name = self.state, spec["name"]
        assert state.sandbox.network is not None
        entry = await self._pull(spec, record)
        try:
            launch = await build_launch(
                state.ctx, state.pod, spec, entry, state.sandbox.network, state.volumes, state.dir
            )
        except (EnvError, VolumeError) as exc:
            record.set_waiting("CreateContainerConfigError", str(exc))
            await state.container_event(name, "Failed", f"Error: {exc}", warning=True)
            return None
        except ContainerStartError as exc:
            record.set_waiting(exc.reason, exc.message)
            await state.container_event(name, "Failed", f"Error: {exc.message}", warning=True)
            return None
        state.launches[name] = launch
        run_dir = state.dir / "containers" / name / str(record.restart_count)
        shutil.rmtree(run_dir, ignore_errors=True)
        proc = ContainerProcess(run_dir, state.dir / "logs" / name / f"{record.restart_count}.log")
        await state.container_event(name, "Created", f"Created container {name}")
        # known before it exists: a deletion or node stop during the start must find (and kill) it
        state.procs[name] = proc
        try:
            await proc.start(launch.shim_spec(run_dir / "scratch"), on_spawn=state.ctx.records.add_process)
        except ContainerStartError as exc:
            record.container_id = proc.container_id
            record.set_terminated(128, proc.started_at, proc.finished_at, "StartError", exc.message)
            await state.container_event(name, "Failed", f"Error: {exc.message}", warning=True)
            return None
        record.set_running(proc.container_id, proc.started_at or now_rfc3339())
        await state.container_event(name, "Started", f"Started container {name}")
        await self._post_start(spec, proc)
        return proc

    async def _post_start(self, spec: Obj, proc: ContainerProcess) -> None:
        """Like the kubelet: the next container starts only after the hook returned; a failed hook
        kills the container (it then restarts per restartPolicy)."""
        state = self.state
        post_start = (spec.get("lifecycle") or {}).get("postStart")
        if not post_start:
            return
        error = await run_hook(
            post_start, spec, state.pod_ip or "", state.exec_fn(spec["name"]), HOOK_TIMEOUT
        )
        if error:
            await state.container_event(spec["name"], "FailedPostStartHook", error, warning=True)
            await state.container_event(spec["name"], "Killing", "FailedPostStartHook")
            await proc.stop(state.termination_grace())

    async def stop_all(self, grace: float) -> None:
        state = self.state
        running = [(name, proc) for name, proc in state.procs.items() if proc.running]
        started = time.monotonic()
        await asyncio.gather(*(self._pre_stop(name, grace) for name, _ in running))
        grace = max(grace - (time.monotonic() - started), 2.0)  # the kubelet grants 2s after a slow hook
        for name, _ in running:
            await state.container_event(name, "Killing", f"Stopping container {name}")
        await asyncio.gather(*(proc.stop(grace) for _, proc in running), return_exceptions=True)
        # the final status a kubelet reports before the object goes: containers terminated, not ready
        records = {r.name: r for r in state.init + state.containers}
        for name, proc in running:
            record = records.get(name)
            if record is not None and proc.exit_code is not None:
                record.set_terminated(proc.exit_code, proc.started_at, proc.finished_at)
        if running:
            await self.status.push()

    async def _pre_stop(self, name: str, grace: float) -> None:
        state = self.state
        spec = next((c for c in pod_containers(state.pod) if c["name"] == name), None)
        hook = ((spec or {}).get("lifecycle") or {}).get("preStop")
        if spec is None or not hook:
            return
        error = await run_hook(hook, spec, state.pod_ip or "", state.exec_fn(spec["name"]), grace)
        if error:
            await state.container_event(spec["name"], "FailedPreStopHook", error, warning=True)
