"""A hub whose KubeSpawner comes from a source tree (``--kubespawner-source``), end to end on embedded.

The tree is KubeSpawner 7.1.0's sdist from PyPI with its version (``_version.py`` and PKG-INFO)
bumped to 7.1.1.dev0, a version no release has: the hub can only report it (the deploy checks
``/hub/api/info``) if it really runs the tree. The scenario's version gates then judge 7.1.1.dev0
(a ``<7`` step that would fail is skipped, a ``>=7.1`` one runs) and the results column reads
``7.1.1.dev0+source``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.root]

SCENARIO = """\
name: source-build
description: A user's claim and files on a hub whose KubeSpawner is a source tree.
kubespawner:
  storage_pvc_ensure: true
  pvc_name_template: "claim-{username}--{servername}"
  storage_capacity: 1Gi
  volumes:
    - name: home
      persistentVolumeClaim: {claimName: "claim-{username}--{servername}"}
  volume_mounts:
    - {name: home, mountPath: /home/jovyan}
  working_dir: /home/jovyan
users:
  - name: carol_x
steps:
  - start: {user: carol_x}
  - expect_pvc: {name: claim-carol-x---7b77967e, phase: Bound}   # 7.x 'safe' slugs
    kubespawner: ">=7.1"
  - expect_pvc: {name: claim-carol-5fx, phase: Bound}            # 6.x slugs: would fail here
    kubespawner: "<7"
  - write_file: {user: carol_x, path: a.txt, content: "from the source build\\n"}
  - expect_file: {user: carol_x, path: a.txt, content: "from the source build\\n"}
finally:
  - delete_user: {user: carol_x}
"""


#: PyPI's simple API (PEP 691 JSON), which every PyPI mirror serves; the JSON API is not always there.
PYPI_PROJECT = "https://pypi.org/simple/jupyterhub-kubespawner/"
SDIST = "jupyterhub_kubespawner-7.1.0.tar.gz"


@pytest.fixture(scope="module")
def source_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """KubeSpawner 7.1.0's sdist, unpacked and bumped to 7.1.1.dev0; skipped when PyPI is out of reach."""
    where = tmp_path_factory.mktemp("sdist")
    # PyPI's simple API names the sdist; fetched with httpx (a core dependency): the session's venv
    # (made by uv) has no pip, so `pip download` would skip this test exactly where it must run
    accept = {"Accept": "application/vnd.pypi.simple.v1+json"}
    try:
        index = httpx.get(PYPI_PROJECT, headers=accept, timeout=60, follow_redirects=True)
        (url,) = [f["url"] for f in index.raise_for_status().json()["files"] if f["filename"] == SDIST]
        archive = where / SDIST
        archive.write_bytes(httpx.get(url, timeout=300, follow_redirects=True).raise_for_status().content)
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        pytest.skip(f"cannot download the jupyterhub-kubespawner 7.1.0 sdist from PyPI (offline?): {exc!r}")
    archives = [archive]
    with tarfile.open(archives[0]) as sdist:
        sdist.extractall(where, filter="data")
    tree = where / "jupyterhub_kubespawner-7.1.0"
    # the code's version (what the hub reports) and the sdist's metadata (what the install records)
    for name, old, new in (
        ("kubespawner/_version.py", '__version__ = "7.1.0"', '__version__ = "7.1.1.dev0"'),
        ("PKG-INFO", "\nVersion: 7.1.0\n", "\nVersion: 7.1.1.dev0\n"),
    ):
        text = (tree / name).read_text(encoding="utf-8")
        assert old in text, name
        (tree / name).write_text(text.replace(old, new), encoding="utf-8")
    return tree


def test_a_hub_runs_kubespawner_from_a_source_tree(source_tree: Path, tmp_path: Path) -> None:
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "source-build.yaml").write_text(SCENARIO, encoding="utf-8")
    (scenarios / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    reports = tmp_path / "reports"
    command = [
        sys.executable, "-m", "pytest", str(scenarios), "-c", str(scenarios / "pytest.ini"),
        "--rootdir", str(scenarios), "-p", "no:cacheprovider", "-v", "--storage-scenarios", str(scenarios),
        "--kubespawner-source", str(source_tree), "--reports-dir", str(reports),
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, check=False, timeout=1500)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert "source-build[kubespawner-7.1.1.dev0-source-jupyterhub-6.1.1-embedded] PASSED" in run.stdout
    results = json.loads(
        (reports / "results" / "kubespawner-7.1.1.dev0-source-jupyterhub-6.1.1-embedded.json").read_text()
    )
    assert results["kubespawner"] == "7.1.1.dev0+source"
    (cell,) = results["cells"]
    assert (cell["kubespawner"], cell["verdict"]) == ("7.1.1.dev0+source", "PASS")
    status = {step["label"]: (step["status"], step["note"]) for step in cell["steps"]}
    assert status["expect_pvc claim-carol-x---7b77967e"][0] == "passed"  # >=7.1 ran
    assert status["expect_pvc claim-carol-5fx"] == (
        "gated",
        "not for kubespawner 7.1.1.dev0+source: kubespawner <7",
    )
    assert "KubeSpawner 7.1.1.dev0+source" in (reports / "summary.md").read_text(encoding="utf-8")
