"""The suite's source: a checkout the user gives, or a clone of the tag (the PyPI sdist has no tests/)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from harness.clusters.base import ClusterError


class SourceError(ClusterError):
    """The suite's source cannot be had; the message says why."""


@dataclass(frozen=True)
class SuiteSource:
    root: Path
    #: ``kubespawner/_version.py``'s __version__
    version: str
    #: the commit date of the checkout's HEAD, None when it is not a git work tree
    commit_date: datetime | None


def suite_source(source: str, ref: str, clone_into: Path) -> SuiteSource:
    """``source`` itself when it is a checkout with the suite, else a clone of ``ref`` from it."""
    path = Path(source)
    if path.is_dir() and (path / "tests").exists():
        return _describe(path.resolve())
    if path.is_dir() and not _is_git_repo(path):
        raise SourceError(
            f"--ks-source {source}: no tests/ there and not a git repository; give a KubeSpawner "
            "checkout or a git URL (the PyPI sdist has no tests/)"
        )
    proc = subprocess.run(
        ["git", "clone", "--quiet", "--branch", ref, "--single-branch", source, str(clone_into)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SourceError(
            f"cloning {ref} from {source} failed: {proc.stderr.strip()[-2000:]}\n"
            "(--ks-source takes a KubeSpawner checkout, or a repository that has the tag and can be reached)"
        )
    return _describe(clone_into)


def _is_git_repo(path: Path) -> bool:
    return (
        subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--git-dir"], capture_output=True, check=False
        ).returncode
        == 0
    )


def _describe(root: Path) -> SuiteSource:
    if not (root / "tests" / "conftest.py").is_file():
        raise SourceError(f"{root}: no tests/conftest.py; this is not KubeSpawner's test suite")
    return SuiteSource(root=root, version=_version(root), commit_date=_commit_date(root))


_VERSION = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']""", re.MULTILINE)


def _version(root: Path) -> str:
    try:
        found = _VERSION.search((root / "kubespawner" / "_version.py").read_text())
    except OSError:
        found = None
    if found is None:
        raise SourceError(f"{root}: kubespawner/_version.py has no __version__; not a KubeSpawner source")
    return found.group(1)


def _commit_date(root: Path) -> datetime | None:
    """Only of a work tree whose top is ``root``: a copy inside some other repository has no date."""
    top = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=False
    )
    if top.returncode != 0 or Path(top.stdout.strip()).resolve() != root.resolve():
        return None
    proc = subprocess.run(
        ["git", "-C", str(root), "log", "-1", "--format=%cI", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    return datetime.fromisoformat(proc.stdout.strip())
