"""The wheel carries the fixtures, and the kind backend finds them in an installed copy.

Built from a copy of the sources in a temp dir, so parallel runs never share setuptools' ``build/``
and the checkout's ``fixtures/`` cannot be what the installed package finds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from harness.clusters.embedded.envs import uv_executable

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "harness", "fixtures"]

pytestmark = pytest.mark.slow


def _fixture_files() -> list[str]:
    fixtures = ROOT / "fixtures"
    return sorted(p.relative_to(fixtures).as_posix() for p in fixtures.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, src / name)
    out = work / "dist"
    # uv, not pip: nox's uv-made venvs (CI's) have no pip, and uv is a dependency anyway.
    subprocess.run(
        [uv_executable(), "build", "--quiet", "--wheel", "--out-dir", str(out), str(src)],
        check=True,
        timeout=600,
    )
    (built,) = out.glob("*.whl")
    return built


def test_wheel_ships_the_fixtures_as_package_data(wheel: Path) -> None:
    expected = _fixture_files()
    assert "kind/cluster.yaml" in expected
    assert "images/proxy/Dockerfile" in expected
    prefix = "harness/_fixtures/"
    with zipfile.ZipFile(wheel) as archive:
        shipped = sorted(name[len(prefix) :] for name in archive.namelist() if name.startswith(prefix))
        assert shipped == expected
        for name in expected:
            assert archive.read(prefix + name) == (ROOT / "fixtures" / name).read_bytes()


def test_installed_kind_backend_finds_its_fixtures(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [
            uv_executable(),
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--python",
            sys.executable,
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    probe = (
        "from harness.clusters import kind; "
        "print(kind.KIND_CONFIG.is_file(), kind.IMAGES_DIR.is_dir(), kind.KIND_CONFIG)"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    # cwd: a dir without fixtures/ (and without the checkout on sys.path)
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    config_ok, images_ok, config = result.stdout.split()
    assert (config_ok, images_ok) == ("True", "True")
    assert Path(config).is_relative_to(site / "harness" / "_fixtures")


def test_wheel_ships_the_report_schema_and_assets(wheel: Path) -> None:
    """The plugin builds the HTML report and validates results files from an installed copy too."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for name in ("results.schema.json", "assets/report.css", "assets/report.js"):
        assert f"harness/report/{name}" in names
