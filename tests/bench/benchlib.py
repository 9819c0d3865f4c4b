"""What the pod and spawn benchmarks share: summary statistics, the bare-host baselines, the report file.

The numbers that matter are ratios (embedded cluster vs the same command started bare on the host,
measured in the same run), because the CPU is shared with whatever else runs on the machine.  The
baselines therefore live here, so both benchmarks measure "bare" exactly the same way.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "reports"
#: the trivial workload of the pod benchmark: prints one line, then idles like a long-running server.
TRIVIAL_COMMAND = ["/bin/sh", "-c", "echo up; exec sleep 3600"]
#: uid/gid the singleuser pods run as (KubeSpawner's uid/fs_gid in the harness defaults).
POD_UID, POD_GID = 1000, 100
POLL_S = 0.02


def summary(samples: Sequence[float]) -> dict[str, Any]:
    """Median, p90 (nearest rank), min, max and N of ``samples`` (seconds), rounded to 0.1 ms."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    p90 = ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]
    return {
        "n": len(ordered),
        "median_s": round(statistics.median(ordered), 4),
        "p90_s": round(p90, 4),
        "min_s": round(ordered[0], 4),
        "max_s": round(ordered[-1], 4),
        "samples_s": [round(s, 4) for s in samples],
    }


def ratio(cluster: Sequence[float], bare: Sequence[float]) -> float:
    """How many times slower the cluster path is than bare, on medians."""
    return round(statistics.median(cluster) / statistics.median(bare), 2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def http_ok(url: str, headers: dict[str, str] | None = None, timeout: float = 2.0) -> bool:
    """True when ``url`` answers 200 (anything else, including refused connections, is False)."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def poll(what: str, probe: Callable[[], bool], timeout: float, interval: float = POLL_S) -> float:
    """Call ``probe`` until True; return ``time.perf_counter()`` when it first was."""
    deadline = time.monotonic() + timeout
    while True:
        if probe():
            return time.perf_counter()
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def jupyter_server_command(port: int, token: str, ip: str) -> list[str]:
    """``jupyter-server`` as the pods and the bare baseline both start it.

    ``jupyterhub-singleuser`` cannot start standalone: its extension blocks in ``check_hub_version``
    until a hub API answers, so without a hub we start the Jupyter server of the same environment.
    """
    return [
        "jupyter-server",
        f"--ip={ip}",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        "--ServerApp.open_browser=False",
    ]


def status_url(base: str) -> str:
    """An endpoint that needs the token: a 200 proves the server is up and serving requests."""
    return f"{base}/api/status"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"token {token}"}


@contextlib.contextmanager
def _stopping(proc: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    """Our own child and its process group go away however the measurement ends."""
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def _as_pod_user() -> None:
    os.setgid(POD_GID)
    os.setgroups([POD_GID])
    os.setuid(POD_UID)


def bare_trivial_start() -> float:
    """Seconds from fork/exec of ``TRIVIAL_COMMAND`` on the host to its first line on stdout."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(TRIVIAL_COMMAND, stdout=subprocess.PIPE, start_new_session=True)
    with _stopping(proc):
        assert proc.stdout is not None
        line = proc.stdout.readline()
        elapsed = time.perf_counter() - t0
    if line.strip() != b"up":
        raise RuntimeError(f"bare trivial command printed {line!r}")
    return elapsed


def _timed_start_as_pod_user(
    what: str,
    argv: Sequence[str],
    env_bin: Sequence[str],
    extra_env: dict[str, str],
    answers: Callable[[], bool],
    timeout: float,
) -> float:
    """Seconds from starting ``argv`` on the host as the pod would (uid 1000, a fresh HOME as working
    directory, ``env_bin`` first on PATH) until ``answers()``: the one way both bare baselines start."""
    home = Path(tempfile.mkdtemp(prefix="bench-bare-home-"))
    try:
        os.chown(home, POD_UID, POD_GID)
        env = {"PATH": ":".join([*env_bin, "/usr/bin", "/bin"]), "HOME": str(home), "USER": "jovyan"}
        env.update(extra_env)
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            list(argv),
            env=env,
            cwd=home,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_as_pod_user if os.geteuid() == 0 else None,
        )
        with _stopping(proc):

            def up() -> bool:
                if proc.poll() is not None:
                    raise RuntimeError(f"{what} exited with {proc.returncode}")
                return answers()

            return poll(what, up, timeout) - t0
    finally:
        shutil.rmtree(home, ignore_errors=True)


def bare_jupyter_start(env_bin: Sequence[str], timeout: float = 120.0) -> float:
    """Seconds from starting ``jupyter-server`` of ``env_bin`` on the host (as uid 1000, like the pod,
    with a fresh HOME) until it answers an authenticated request on 127.0.0.1."""
    port, token = free_port(), secrets.token_hex(16)
    url = status_url(f"http://127.0.0.1:{port}")
    return _timed_start_as_pod_user(
        "bare jupyter-server",
        jupyter_server_command(port, token, "127.0.0.1"),
        env_bin,
        {},
        lambda: http_ok(url, auth(token)),
        timeout,
    )


def http_answers(url: str, timeout: float = 2.0) -> bool:
    """True when ``url`` gives any answer below 500: JupyterHub's own test that a server is up
    (``jupyterhub.utils.wait_for_http_server``, redirects not followed)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=timeout) as resp:
            return bool(resp.status < 500)
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (urllib.error.URLError, OSError):
        return False


def bare_singleuser_start(
    env_bin: Sequence[str], argv: Sequence[str], pod_env: dict[str, str], hub_url: str, timeout: float = 120.0
) -> float:
    """Seconds from starting ``jupyterhub-singleuser`` on the host, as the hub started it in its pod
    (``argv`` and the pod's ``JUPYTERHUB_*`` environment, the hub reached at ``hub_url`` instead of
    ``http://hub:8081``, listening on 127.0.0.1), until it answers the hub's readiness request.

    It talks to the real hub (its version check at start, activity reports), so it must run while the
    hub's server of the same token is up: the hub revokes the token when that server stops.
    """
    port = free_port()
    prefix = pod_env.get("JUPYTERHUB_SERVICE_PREFIX", "/")
    env = {
        k: v.replace("http://hub:8081", hub_url) for k, v in pod_env.items() if k.startswith("JUPYTERHUB_")
    }
    env["JUPYTERHUB_SERVICE_URL"] = f"http://127.0.0.1:{port}{prefix}"
    url = f"http://127.0.0.1:{port}{prefix}api"
    return _timed_start_as_pod_user(
        "bare jupyterhub-singleuser", argv, env_bin, env, lambda: http_answers(url), timeout
    )


def write_report(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")


#: one table line: name, cluster summary, bare summary, ratio of medians
Row = tuple[str, dict[str, Any], dict[str, Any], float]


def print_table(rows: Sequence[Row]) -> None:
    """Cluster median/p90/N, bare median/p90/N and the ratio, one line per measurement."""
    head = (
        f"{'measurement':<36} {'median s':>9} {'p90 s':>8} {'N':>3}  "
        f"{'bare med':>9} {'bare p90':>9} {'N':>3} {'ratio':>7}"
    )
    print(head)
    print("-" * len(head))
    for name, it, bare, r in rows:
        print(
            f"{name:<36} {it['median_s']:>9.4f} {it['p90_s']:>8.4f} {it['n']:>3}  "
            f"{bare['median_s']:>9.4f} {bare['p90_s']:>9.4f} {bare['n']:>3} {r:>7.1f}"
        )
