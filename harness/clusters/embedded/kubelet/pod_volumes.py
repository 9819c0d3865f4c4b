"""One pod's volumes over its life: mounted before its sandbox, retried while they cannot be, and
projected again at every pod sync.

As the kubelet's volume manager (WaitForAttachAndMount, which the pod's sync waits on) and its pod
syncs, which remount configMap/secret/downwardAPI/projected volumes: every sync period (syncFrequency,
jitter 0.5) and whenever the pod's spec, labels or annotations change (``sync_wanted``). A volume that
cannot be mounted says FailedMount, at most once a minute per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time

from .api import is_not_found
from .pod_state import PodState
from .recorder import emit
from .volumes import VolumeError, VolumeManager

log = logging.getLogger(__name__)
#: how long a volume that cannot be mounted waits before the next attempt
VOLUME_RETRY_SECONDS = 1.0


class PodVolumes:
    def __init__(self, state: PodState) -> None:
        self.state = state
        #: set when the pod changed so that the kubelet syncs it (and remounts its API volumes)
        self.sync_wanted = asyncio.Event()
        self._manager = VolumeManager(state.ctx.registry, state.dir, state.ctx.ca_file)
        self._mount_warnings: dict[str, float] = {}

    async def setup(self) -> None:
        """Mount every volume into ``state.volumes``; until that works, re-read the pod and try again."""
        while True:
            try:
                self.state.volumes = await self._manager.setup(self.state.pod)
                return
            except VolumeError as exc:
                await self._failed_mount(exc)
                await asyncio.sleep(VOLUME_RETRY_SECONDS)
                await self._refresh_pod()

    async def resync(self) -> None:
        """Project the API volumes again at every pod sync, for as long as the pod runs. A failure keeps
        the old files and says FailedMount."""
        state = self.state
        while True:
            period = state.ctx.sync_period * (1 + random.random() * 0.5)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.sync_wanted.wait(), period)
            self.sync_wanted.clear()
            try:
                await self._manager.refresh(state.pod)
            except VolumeError as exc:
                await self._failed_mount(exc)
            except OSError as exc:  # the pod dir went away under a deletion
                log.debug("volume resync of %s/%s: %s", state.namespace, state.name, exc)

    async def _failed_mount(self, exc: VolumeError) -> None:
        message = str(exc)
        last = self._mount_warnings.get(message, 0.0)
        if time.monotonic() - last > 60:
            self._mount_warnings[message] = time.monotonic()
            await emit(self.state.ctx.registry, self.state.pod, "FailedMount", message, type="Warning")

    async def _refresh_pod(self) -> None:
        state = self.state
        try:
            state.pod = await state.ctx.registry.get("pods", state.namespace, state.name)
        except Exception as exc:
            if not is_not_found(exc):
                raise
