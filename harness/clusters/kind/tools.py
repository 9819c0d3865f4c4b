"""Running ``kind``, ``docker`` and ``kubectl``, strictly, and where the kind fixtures are.

* every failure raises ``KindToolError`` carrying the command, exit code and stderr (pytest-kind-ng's
  ``KindCluster`` lets ``CalledProcessError`` escape with stderr already gone to the terminal);
* tools are never downloaded (``KindCluster`` would fetch kind v0.17, which cannot run current node
  images); a missing tool is a ``ClusterError`` saying what to install.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from harness.clusters.base import ClusterError
from harness.fixtures import fixtures_dir

FIXTURES_DIR = fixtures_dir()
KIND_CONFIG = FIXTURES_DIR / "kind" / "cluster.yaml"
IMAGES_DIR = FIXTURES_DIR / "images"
MISSING_FIXTURES = "the harness package was built without its fixtures (see setup.py)"
STDERR_TAIL_LINES = 40


class KindToolError(ClusterError):
    """A ``kind``, ``docker`` or ``kubectl`` command failed; the message shows what ran and what it said."""

    def __init__(self, command: Sequence[str], returncode: int, stderr: str, stdout: str = "") -> None:
        self.command = list(command)
        self.returncode = returncode
        self.stderr = stderr
        self.stdout = stdout
        tail = "\n".join(stderr.rstrip().splitlines()[-STDERR_TAIL_LINES:]) or "(empty)"
        super().__init__(
            f"command failed with exit code {returncode}: {shlex.join(self.command)}\nstderr:\n{tail}"
        )


def run_tool(command: Sequence[str], *, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """Run one tool command, capturing its output, and raise ``KindToolError`` when it fails."""
    try:
        proc = subprocess.run(
            list(command), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except FileNotFoundError as exc:
        raise ClusterError(f"{command[0]} not found: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr or ""
        raise KindToolError(command, -1, f"timed out after {timeout}s\n{stderr}") from exc
    if proc.returncode != 0:
        raise KindToolError(command, proc.returncode, proc.stderr, proc.stdout)
    return proc


def find_tool(name: str, install_hint: str) -> Path:
    """The tool's path on PATH; the kind backend never downloads tools behind the user's back."""
    found = shutil.which(name)
    if found is None:
        raise ClusterError(f"the kind backend needs `{name}` on PATH: {install_hint}")
    return Path(found)
