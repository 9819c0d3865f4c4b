"""The seam between the API server's ``pods/log`` and ``pods/exec`` endpoints and the kubelet.

The API server owns the HTTP side (query parsing, chunked log streaming, the websocket channel protocol
``v4/v5.channel.k8s.io`` and the channel-3 Status with the exit code); the kubelet owns the processes.
At startup the kubelet registers an object satisfying :class:`PodIO` with ``ApiServer.pod_io = ...``
(or ``Registry.pod_io``); until it does, log/exec answer 503 like an apiserver whose kubelet is unreachable.

Both methods may raise ``ApiError`` (``apiserver/errors.py``) to send a specific Status to the client
(e.g. ``errors.bad_request('container "x" in pod "y" is waiting to start: ContainerCreating')``).
The API server has already checked that the pod exists and that ``container`` is one of its containers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable


@runtime_checkable
class ExecProcess(Protocol):
    """A started exec session; ``asyncio.subprocess.Process`` satisfies it as is.

    ``stdin`` is None unless the exec asked for stdin; ``stderr`` is None when ``tty`` is true (a TTY merges
    stderr into stdout, as on a real kubelet).
    ``wait()`` returns the exit code (negative = killed by signal).
    ``kill()`` is called when the client goes away before the process ends.
    """

    stdin: asyncio.StreamWriter | None
    stdout: asyncio.StreamReader | None
    stderr: asyncio.StreamReader | None

    async def wait(self) -> int: ...

    def kill(self) -> None: ...


@runtime_checkable
class PodIO(Protocol):
    """Logs and exec for pods run by the kubelet."""

    def logs(
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
        """Yield the container's log bytes; with ``follow`` keep yielding until the container ends."""
        ...

    async def exec(
        self,
        namespace: str,
        pod: str,
        container: str,
        command: list[str],
        *,
        stdin: bool,
        tty: bool,
    ) -> ExecProcess:
        """Start ``command`` inside the container's namespaces and return the running process."""
        ...

    def resize(self, process: ExecProcess, width: int, height: int) -> None:
        """Apply a terminal resize (channel 4) to a TTY exec; may be a no-op for non-TTY sessions."""
        ...
