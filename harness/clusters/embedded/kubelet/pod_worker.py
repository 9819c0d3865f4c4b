"""One pod on the node, from its first status to its deletion, as the kubelet's pod workers (pod_workers.go).

A ``PodWorker`` runs as one asyncio task per pod: it reports the pod, mounts its volumes
(``pod_volumes``), runs it (``pod_sync``: sandbox, init containers, containers, probes) and finishes a
graceful deletion itself (``container_lifecycle.stop_all``: preStop, SIGTERM, grace period, SIGKILL;
then sandbox teardown and a delete with grace 0). What those jobs share is the pod's ``PodState``; its
status goes to the API through the ``StatusManager``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil

from .api import Obj, is_not_found
from .container_lifecycle import ContainerLifecycle
from .context import NodeContext
from .pod_state import PodState
from .pod_sync import PodSync
from .pod_volumes import PodVolumes
from .probe_manager import ProbeManager
from .status_manager import StatusManager

log = logging.getLogger(__name__)


class PodWorker:
    def __init__(self, ctx: NodeContext, pod: Obj) -> None:
        self.state = PodState(ctx, pod)
        self.task: asyncio.Task[None] | None = None
        self._status = StatusManager(self.state)
        self._volumes = PodVolumes(self.state)
        self._containers = ContainerLifecycle(self.state, self._status)
        self._sync = PodSync(
            self.state, self._status, self._containers, ProbeManager(self.state, self._status)
        )

    def start(self) -> None:
        state = self.state
        self.task = asyncio.create_task(self.run(), name=f"pod {state.namespace}/{state.name}")

    def update(self, pod: Obj) -> None:
        if _differs_semantically(
            self.state.pod, pod
        ):  # the kubelet syncs the pod, remounting its API volumes
            self._volumes.sync_wanted.set()
        self.state.pod = pod
        if pod["metadata"].get("deletionTimestamp"):
            self.state.deleting.set()

    def refresh_hosts(self) -> None:
        """(Re)write the pod's /etc/hosts in place from the current Services."""
        self.state.sandbox.refresh_hosts(self.state.pod)

    async def run(self) -> None:
        """Run the pod until it is deleted. Cancellation (node shutdown) kills it at once.

        ``asyncio.wait`` is used on the inner tasks, never ``await task`` under a suppress: that would
        swallow this task's own cancellation and hang the node's shutdown.
        """
        state = self.state
        lifecycle = asyncio.create_task(self._lifecycle())
        deleting = asyncio.create_task(state.deleting.wait())
        try:
            await asyncio.wait({lifecycle, deleting}, return_when=asyncio.FIRST_COMPLETED)
            if lifecycle.done() and not state.deleting.is_set():
                if not lifecycle.cancelled() and lifecycle.exception() is not None:
                    log.error("pod %s/%s failed: %r", state.namespace, state.name, lifecycle.exception())
                await state.sandbox.release()  # a finished pod keeps its status but not its IP
                await asyncio.wait({deleting})
            lifecycle.cancel()
            await asyncio.wait({lifecycle})
            await self._containers.stop_all(self._grace_seconds())
            await state.sandbox.release()
            await self._finish_deletion()
        except asyncio.CancelledError:
            lifecycle.cancel()
            await asyncio.shield(self.kill_now())
            raise
        except Exception:
            log.exception("pod worker %s/%s failed", state.namespace, state.name)
        finally:
            deleting.cancel()

    async def kill_now(self) -> None:
        """Node shutdown: kill every process of the pod and remove its sandbox (no status, no API calls)."""
        for proc in self.state.procs.values():
            proc.kill()
        for proc in self.state.procs.values():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(proc.wait(), 5)
        await self.state.sandbox.release()

    def _grace_seconds(self) -> float:
        grace = self.state.pod["metadata"].get("deletionGracePeriodSeconds")
        return float(grace) if grace is not None else self.state.termination_grace()

    async def _lifecycle(self) -> None:
        await self._status.push()
        await self._volumes.setup()
        resync = asyncio.create_task(self._volumes.resync(), name=f"volume resync {self.state.name}")
        try:
            await self._sync.run()
        finally:
            resync.cancel()
            await asyncio.wait({resync})

    async def _finish_deletion(self) -> None:
        state = self.state
        try:
            await state.ctx.registry.delete("pods", state.namespace, state.name, grace_period_seconds=0)
        except Exception as exc:
            if not is_not_found(exc):
                raise
        shutil.rmtree(state.dir, ignore_errors=True)


def _differs_semantically(old: Obj, new: Obj) -> bool:
    """What makes the kubelet's pod config deliver an UPDATE (config.go podsDifferSemantically)."""
    keys = ("labels", "annotations", "deletionTimestamp", "deletionGracePeriodSeconds")
    return old.get("spec") != new.get("spec") or any(
        (old.get("metadata") or {}).get(k) != (new.get("metadata") or {}).get(k) for k in keys
    )
