"""Environments that stand in for images: built once, found complete the second time, never half-built."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness.clusters.base import ClusterError
from harness.clusters.embedded import envs

pytestmark = pytest.mark.slow


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("JHSC_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_python_env_is_built_once_and_usable(cache: Path) -> None:
    recipe = envs.python_env("six", ["six==1.17.0"])
    (bin_dir,) = envs.ensure_env(recipe)
    out = subprocess.run(
        [str(bin_dir / "python"), "-c", "import six; print(six.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "1.17.0"
    marker = bin_dir.parent / ".jhsc-complete"
    before = marker.stat().st_mtime_ns
    assert envs.ensure_env(recipe) == [bin_dir]
    assert marker.stat().st_mtime_ns == before, "a complete environment must not be rebuilt"
    assert bin_dir.parent.stat().st_mode & 0o005 == 0o005, "uid-1000 pods must be able to use it"


def test_failed_build_names_the_command_and_leaves_nothing(cache: Path) -> None:
    recipe = envs.python_env("broken", ["this-package-does-not-exist-jhsc==0.0.0"])
    with pytest.raises(ClusterError, match=r"building environment 'broken' failed: .*uv pip install"):
        envs.ensure_env(recipe)
    leftovers = [p.name for p in (cache / "envs").iterdir() if not p.name.endswith(".lock")]
    assert leftovers == []
