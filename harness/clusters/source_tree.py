"""A KubeSpawner source tree (a git checkout, or an unpacked sdist) as the thing under test.

A pull request's KubeSpawner has no release to install, so the hub installs it from its directory.
Three facts about the tree matter and each has one place here:

- **which version it is** (``SourceTree.read``): what the package itself says (an sdist's PKG-INFO,
  a static ``[project] version``, the file hatch reads it from, ``kubespawner/_version.py``), because
  the scenarios' version gates (``kubespawner: ">=7"``) must judge the code that really runs, and
  the running hub reports that version;
- **what it holds** (``content_key``): a hash of its files, never its path, so an edit gives a new
  hub environment/image and the same tree, wherever it is checked out, reuses the cached one;
- **how its column reads** (``label``): the version marked as a source build (``7.1.0+source``, a
  PEP 440 local version, which version specifiers ignore), so a PR's column differs from the release's.

In a git work tree the files are git's (tracked plus untracked-but-not-ignored), so a build dir or a
virtualenv inside the checkout never changes the key; elsewhere a walk skips the usual junk.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

#: The local-version label of a source build: ``7.1.0+source``.
SOURCE_MARK = "source"
_SKIP_DIRS = frozenset(
    {".git", "__pycache__", ".nox", ".tox", ".venv", "venv", "build", "dist", "node_modules", ".eggs"}
    | {".pytest_cache", ".mypy_cache", ".ruff_cache"}
)
_SKIP_SUFFIXES = (".pyc", ".pyo")
_VERSION_ASSIGNMENT = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']""", re.MULTILINE)


class SourceTreeError(ValueError):
    """The directory is not a KubeSpawner source tree the harness can install; the message says why."""


@dataclass(frozen=True)
class SourceTree:
    """A KubeSpawner source directory and the version it says it is."""

    path: Path
    version: str

    @classmethod
    def read(cls, path: Path) -> SourceTree:
        path = Path(path).expanduser().resolve()
        if not path.is_dir():
            raise SourceTreeError(f"{path} is not a directory")
        if not any((path / name).is_file() for name in ("pyproject.toml", "setup.py")):
            raise SourceTreeError(
                f"{path} has no pyproject.toml or setup.py: not a Python project to install"
            )
        for reader in _VERSION_READERS:
            found = reader(path)
            if found:
                try:
                    Version(found)
                except InvalidVersion:
                    raise SourceTreeError(f"{path}: version {found!r} is not a PEP 440 version") from None
                return cls(path, found)
        raise SourceTreeError(
            f"{path}: cannot tell which KubeSpawner version it is (no PKG-INFO, no static [project] version, "
            "no kubespawner/_version.py)"
        )

    @property
    def label(self) -> str:
        """The version as a matrix column shows it: a source build, not the release of that number."""
        return label_of(self.version)

    def files(self) -> list[str]:
        """The tree's files (POSIX paths relative to it), sorted: what is hashed and what is installed."""
        listed = _git_files(self.path)
        names = listed if listed is not None else _walked_files(self.path)
        return sorted(name for name in names if (self.path / name).is_file())

    def content_key(self) -> str:
        """A hash of the files' names, exec bits and bytes: equal trees, equal keys, wherever they are."""
        sha = hashlib.sha256()
        for name in self.files():
            file = self.path / name
            executable = b"x" if file.stat().st_mode & 0o111 else b"-"
            sha.update(name.encode() + b"\0" + executable + file.read_bytes() + b"\0")
        return sha.hexdigest()[:16]

    def snapshot(self, into: Path) -> str:
        """Copy the files into ``into`` (created) and return the content key of what was copied.

        Installing from the copy, not the checkout, means an edit made during the build cannot mix
        into an environment cached under the key of the tree before it.
        """
        into.mkdir(parents=True)
        for name in self.files():
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.path / name, target)
        return SourceTree(into, self.version).content_key()


def label_of(version: str) -> str:
    """``7.1.0`` -> ``7.1.0+source``; a version with a local part already gets ``.source`` added."""
    return f"{version}.{SOURCE_MARK}" if "+" in version else f"{version}+{SOURCE_MARK}"


def _git_files(path: Path) -> list[str] | None:
    """Tracked plus untracked-not-ignored files under ``path``, or None when it is not in a git work tree."""
    try:
        proc = subprocess.run(
            ["git", "-C", str(path), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:  # no git on this machine: walk instead
        return None
    if proc.returncode != 0:
        return None
    return sorted({name for name in proc.stdout.decode().split("\0") if name})


def _walked_files(path: Path) -> list[str]:
    names = []
    for file in path.rglob("*"):
        parts = file.relative_to(path).parts
        if any(part in _SKIP_DIRS or part.endswith(".egg-info") for part in parts[:-1]):
            continue
        if file.is_file() and not file.name.endswith(_SKIP_SUFFIXES):
            names.append(file.relative_to(path).as_posix())
    return names


def _from_pkg_info(path: Path) -> str | None:
    info = path / "PKG-INFO"
    if not info.is_file():
        return None
    match = re.search(r"^Version:\s*(\S+)", info.read_text(encoding="utf-8", errors="replace"), re.MULTILINE)
    return match.group(1) if match else None


def _toml_string(path: Path, section: str, key: str) -> str | None:
    """``key = "value"`` in ``[section]`` of pyproject.toml, read without a TOML parser.

    Python 3.10 has no ``tomllib``, and only plain string keys of two sections are needed; anything
    fancier (a version computed some other way) falls through to the next reader.
    """
    try:
        text = (path / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    current = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            current = stripped.strip("[] ")
            continue
        if current == section:
            match = re.match(rf"""^{re.escape(key)}\s*=\s*["']([^"']+)["']""", stripped)
            if match:
                return match.group(1)
    return None


def _from_pyproject(path: Path) -> str | None:
    return _toml_string(path, "project", "version")


def _from_hatch_path(path: Path) -> str | None:
    file = _toml_string(path, "tool.hatch.version", "path")
    return _assigned_version(path / file) if file else None


def _from_version_module(path: Path) -> str | None:
    return _assigned_version(path / "kubespawner" / "_version.py")


def _assigned_version(file: Path) -> str | None:
    try:
        match = _VERSION_ASSIGNMENT.search(file.read_text(encoding="utf-8"))
    except OSError:
        return None
    return match.group(1) if match else None


#: What the install's metadata will say, first: an unpacked sdist's PKG-INFO (hatchling builds a wheel
#: of an sdist from it, even when _version.py was edited since), then what the build backend reads.
_VERSION_READERS: tuple[Callable[[Path], str | None], ...] = (
    _from_pkg_info,
    _from_pyproject,
    _from_hatch_path,
    _from_version_module,
)
