"""Container lifecycle hooks (postStart, preStop) with exec or httpGet handlers, as the kubelet runs them.

A failed postStart hook kills the container (it then restarts per restartPolicy); a failed preStop hook
is reported and the stop goes on. Error texts follow the kubelet's ``FailedPostStartHook`` /
``FailedPreStopHook`` events.
"""

from __future__ import annotations

from typing import Any

from .probes import ExecFn, probe_once

Obj = dict[str, Any]


async def run_hook(hook: Obj, container: Obj, pod_ip: str, exec_fn: ExecFn, timeout: float) -> str | None:
    """Run one hook handler; return None on success or the kubelet's error text."""
    if "exec" in hook:
        command = list(hook["exec"].get("command") or [])
        code, output = await exec_fn(command, timeout)
        if code == 0:
            return None
        text = output.decode(errors="replace")
        return (
            f'Exec lifecycle hook ({command}) for Container "{container["name"]}" failed - error: '
            f"command '{' '.join(command)}' exited with {code}: {text}, message: \"{text}\""
        )
    if "httpGet" in hook:
        ok, message = await probe_once(
            {"httpGet": hook["httpGet"], "timeoutSeconds": timeout}, container, pod_ip, exec_fn
        )
        return (
            None
            if ok
            else f"HTTP lifecycle hook ({hook['httpGet'].get('path', '/')}) for Container "
            f'"{container["name"]}" failed - error: {message}'
        )
    return None
