"""The container shim on its own (no API server): the isolation a pod's processes really get. Needs root."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.clusters.embedded.kubelet.runtime import SHIM

pytestmark = [
    pytest.mark.slow,
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="namespaces and mounts need root"),
]


@pytest.fixture
def netns() -> Iterator[str]:
    name = f"jhsc-test-{secrets.token_hex(4)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
    yield f"/run/netns/{name}"
    subprocess.run(["ip", "netns", "del", name], check=True)


def _spec(tmp_path: Path, netns: str, script: str, **extra: object) -> Path:
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    spec = {
        "netns": netns,
        "hostname": "shim-pod",
        "scratch": str(scratch),
        "pid_file": str(tmp_path / "pid"),
        "error_file": str(tmp_path / "error"),
        "argv": ["/bin/sh", "-c", script],
        "exec_path": "/bin/sh",
        "env": {"PATH": "/usr/bin:/bin"},
        "cwd": "/",
        "uid": 0,
        "gid": 0,
        "groups": [0],
        "mounts": [],
        **extra,
    }
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    return path


def _run(spec: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SHIM), "run", str(spec)], capture_output=True, text=True, timeout=30
    )


def test_fresh_home_and_tmp_volumes_and_no_writes_to_the_host(tmp_path: Path, netns: str) -> None:
    vol = tmp_path / "vol"
    vol.mkdir()
    marker = f"/etc/jhsc-shim-test-{secrets.token_hex(4)}"
    script = (
        'set -e; test -z "$(ls -A /tmp)"; ls -A /home; hostname; echo pid=$$; '
        f"echo data > /home/jovyan/f; mkdir -p {marker}/sub; ls {marker}; "
        "if touch /etc/ro/x 2>/dev/null; then echo writable; else echo readonly; fi"
    )
    spec = _spec(
        tmp_path,
        netns,
        script,
        mounts=[
            {"source": str(vol), "target": "/home/jovyan", "readonly": False},
            {"source": str(vol), "target": "/etc/ro", "readonly": True},
        ],
    )
    result = _run(spec)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["jovyan", "shim-pod", "pid=1", "sub", "readonly"]
    assert (vol / "f").read_text() == "data\n"
    assert not Path(marker).exists() and not Path("/etc/ro").exists()


def test_image_dirs_exist_owned_by_the_image_user(tmp_path: Path, netns: str) -> None:
    spec = _spec(
        tmp_path,
        netns,
        "stat -c '%u:%g %a' /home/jovyan; touch /home/jovyan/x",
        uid=1000,
        gid=100,
        groups=[100],
        image_dirs=[{"path": "/home/jovyan", "uid": 1000, "gid": 100, "mode": 0o2775}],
    )
    result = _run(spec)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1000:100", "2775"]


def test_missing_command_is_reported_in_the_error_file(tmp_path: Path, netns: str) -> None:
    spec = _spec(tmp_path, netns, "", argv=["/nonexistent"], exec_path="/nonexistent")
    result = _run(spec)
    assert result.returncode == 128
    assert "No such file" in (tmp_path / "error").read_text()


def test_killing_pid1_takes_the_whole_tree(tmp_path: Path, netns: str) -> None:
    spec = _spec(tmp_path, netns, "sleep 300 & sleep 300 & wait")
    shim = subprocess.Popen([sys.executable, str(SHIM), "run", str(spec)])
    try:
        deadline = time.monotonic() + 10
        while not (tmp_path / "pid").exists():
            assert time.monotonic() < deadline
            time.sleep(0.02)
        pid1 = int((tmp_path / "pid").read_text())
        time.sleep(0.2)
        children = Path(f"/proc/{pid1}/task/{pid1}/children").read_text().split()
        assert len(children) == 2
        os.kill(pid1, signal.SIGKILL)
        assert shim.wait(timeout=10) == 128 + signal.SIGKILL
        time.sleep(0.1)
        assert not any(Path(f"/proc/{c}").exists() for c in children)
    finally:
        shim.kill()
        shim.wait()
