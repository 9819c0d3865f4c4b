"""The session: source, suite venv, images, cluster, pytest; the cluster always stops, the work dir
always goes, also on failure, Ctrl-C or SIGTERM."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from harness.clusters.base import ClusterError
from harness.clusters.embedded import envs
from harness.clusters.embedded.cluster import EmbeddedCluster
from harness.clusters.embedded.images import ImageMap

from . import images
from .cli import SuiteArgs, UsageError, day_after, parse_args
from .source import SuiteSource, suite_source

#: how long pytest gets to finish its own teardown (delete its namespaces) after Ctrl-C
INTERRUPT_GRACE = 90.0


def log(message: str) -> None:
    print(f"kubespawner-suite: {message}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
    except UsageError as e:
        print(f"kubespawner-suite: {e}", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("kubespawner-suite: must run as root (the embedded cluster makes namespaces and mounts)")
        return 1
    try:
        with _sigterm_as_interrupt():
            return run(args)
    except ClusterError as e:
        print(f"kubespawner-suite: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        log("interrupted; the cluster was stopped")
        return 130


def run(args: SuiteArgs) -> int:
    work = Path(tempfile.mkdtemp(prefix="jhsc-kssuite-", dir="/var/tmp"))
    try:
        source = suite_source(args.source, args.ref, work / "kubespawner")
        exclude_newer = _exclude_newer(args, source)
        log(f"KubeSpawner {source.version} suite from {source.root}; packages as on {exclude_newer}")
        python = _suite_venv(source, exclude_newer, work / "venv")
        built = images.build(exclude_newer)
        with EmbeddedCluster(work / "cluster") as cluster:
            for ref, entry in images.load(ImageMap(cluster.config.data_dir), built).items():
                log(f"image {ref}: PATH {':'.join(entry.path) or '(the node)'}")
            return _pytest(python, source, cluster.kubeconfig, args.pytest_args)
    finally:
        if args.keep:
            log(f"kept {work} (cluster data dir: {work / 'cluster'})")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _exclude_newer(args: SuiteArgs, source: SuiteSource) -> str:
    if args.exclude_newer:
        return args.exclude_newer
    if source.commit_date is None:
        raise ClusterError(
            f"{source.root} is not a git work tree, so the tag's date is unknown: give --exclude-newer DATE"
        )
    return day_after(source.commit_date)


def _suite_venv(source: SuiteSource, exclude_newer: str, into: Path) -> Path:
    """KubeSpawner from the source with its test extras, as upstream's CI installs it (``-e .[test]``)."""
    uv = envs.uv_executable()
    for argv in (
        [uv, "venv", "--quiet", "--python", sys.executable, str(into)],
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(into / "bin" / "python"),
            "--exclude-newer",
            exclude_newer,
            "-e",
            f"{source.root}[test]",
        ],
    ):
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise ClusterError(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stderr.strip()[-3000:]}")
    return into / "bin" / "python"


def _pytest(python: Path, source: SuiteSource, kubeconfig: Path, pytest_args: Sequence[str]) -> int:
    env = {
        **os.environ,
        "KUBECONFIG": str(kubeconfig),
        # a checkout the user gave stays as it was: no __pycache__ in it
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.pop("VIRTUAL_ENV", None)
    argv = [str(python), "-m", "pytest", "-p", "no:cacheprovider", *pytest_args]
    log(f"running {' '.join(argv[1:])} in {source.root}")
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    # its own session: a Ctrl-C reaches pytest once, from us, and the cluster's stop waits for it
    proc = subprocess.Popen(argv, cwd=source.root, env=env, start_new_session=True)
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        _interrupt(proc)
        raise
    # the suite's spawn tests give a server ~4 s to answer: how busy the machine was goes with the result
    log(
        f"pytest exited {code} after {time.monotonic() - started:.0f} s (wall); load average "
        f"{load_before:.1f} at its start, {os.getloadavg()[0]:.1f} at its end, {os.cpu_count()} CPUs"
    )
    return code


def _interrupt(proc: subprocess.Popen[bytes]) -> None:
    """Pass Ctrl-C (or SIGTERM) on to pytest as one SIGINT, so its session teardown deletes its
    namespaces; kill it after INTERRUPT_GRACE or at a second Ctrl-C, so the cluster can stop."""
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=INTERRUPT_GRACE)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
