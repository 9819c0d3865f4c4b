"""The kubelet's side of ``pods/log`` and ``pods/exec`` (``apiserver/podio.py: PodIO``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from ..apiserver import errors
from ..apiserver.podio import ExecProcess
from . import exec as exec_mod
from .logs import log_files, read_log
from .pod_state import PodState


class KubeletPodIO:
    def __init__(self, find_pod: Callable[[str, str], PodState | None]) -> None:
        self.find_pod = find_pod

    def _pod(self, namespace: str, pod: str) -> PodState:
        state = self.find_pod(namespace, pod)
        if state is None:
            raise errors.bad_request(f'pod "{pod}" is not running on this node')
        return state

    async def logs(
        self,
        namespace: str,
        pod: str,
        container: str,
        *,
        follow: bool = False,
        tail_lines: int | None = None,
        previous: bool = False,
        timestamps: bool = False,
    ) -> AsyncIterator[bytes]:
        state = self._pod(namespace, pod)
        files = log_files(state.dir, container)
        if previous:
            if len(files) < 2:
                raise errors.bad_request(
                    f'previous terminated container "{container}" in pod "{pod}" not found'
                )
            path, live = files[-2], False
        else:
            if not files:
                record = next((r for r in state.init + state.containers if r.name == container), None)
                waiting = (record.state.get("waiting") or {}) if record else {}
                reason = waiting.get("reason") or "ContainerCreating"
                raise errors.bad_request(
                    f'container "{container}" in pod "{pod}" is waiting to start: {reason}'
                )
            path, live = files[-1], True
        proc = state.procs.get(container)

        def still_writing() -> bool:
            return live and proc is not None and proc.log_path == path and proc.running

        async for chunk in read_log(
            path, follow=follow, still_writing=still_writing, tail_lines=tail_lines, timestamps=timestamps
        ):
            yield chunk

    async def exec(
        self, namespace: str, pod: str, container: str, command: list[str], *, stdin: bool, tty: bool
    ) -> ExecProcess:
        state = self._pod(namespace, pod)
        if state.phase in ("Succeeded", "Failed"):
            raise errors.bad_request(
                f"cannot exec into a container in a completed pod; current phase is {state.phase}"
            )
        try:
            return await exec_mod.start_exec(state, container, command, stdin=stdin, tty=tty)
        except exec_mod.ExecError as exc:
            raise errors.bad_request(str(exc)) from None

    def resize(self, process: object, width: int, height: int) -> None:
        exec_mod.resize(process, width, height)
