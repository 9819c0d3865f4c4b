"""Writes one pod's status to the API, as the kubelet's status manager does (status/status_manager.go).

``push`` assembles the status from the pod's ``PodState`` (``status.pod_status``) and writes it through
the ``pods/status`` subresource: one write at a time, only when it changed, and no more once the pod is
being deleted and its sandbox is gone. A pod already deleted (404) is no error.
"""

from __future__ import annotations

import asyncio
import logging

from .api import Obj, is_not_found
from .pod_state import PodState
from .status import pod_status

log = logging.getLogger(__name__)


class StatusManager:
    def __init__(self, state: PodState) -> None:
        self.state = state
        self._lock = asyncio.Lock()
        self._last_status: Obj | None = None

    async def push(self) -> None:
        state = self.state
        async with self._lock:
            if state.deleting.is_set() and not state.pod_ip:
                return
            status = pod_status(
                state.pod,
                phase=state.phase,
                host_ip=state.ctx.network.gateway,
                pod_ip=state.pod_ip or state.sandbox.last_ip,
                start_time=state.start_time,
                init=state.init,
                containers=state.containers,
                initialized=state.initialized,
            )
            if status == self._last_status:
                return
            body = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": state.name, "namespace": state.namespace},
                "status": status,
            }
            try:
                state.pod = await state.ctx.registry.update(
                    "pods", state.namespace, body, subresource="status"
                )
                self._last_status = status
            except Exception as exc:
                if not is_not_found(exc):
                    log.warning("status update of %s/%s failed: %s", state.namespace, state.name, exc)
