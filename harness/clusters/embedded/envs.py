"""Environments that stand in for container images on the embedded cluster.

Nothing can be pulled here, so "building an image" means building a Python environment (or an npm
prefix) once, keyed by exactly what it contains, and caching it like an image tag: a second run
finds it complete and builds nothing.  Pods run as uid 1000, so environments live in a
world-readable cache (never under /root) and are built from a world-readable interpreter.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.clusters.base import ClusterError
from harness.clusters.file_lock import file_lock
from harness.clusters.source_tree import SourceTree

#: The interpreter pod environments are built from: it must be executable by any uid.
POD_PYTHON = "/usr/bin/python3"


def cache_dir() -> Path:
    return Path(os.environ.get("JHSC_CACHE_DIR", "/var/cache/jupyterhub-storage-conformance"))


#: bumped whenever the way environments are built changes (it is part of every cache key)
BUILD_FORMAT = 3


@dataclass(frozen=True)
class EnvRecipe:
    """What an environment holds; its name (the cache key) is derived from it."""

    label: str
    kind: str  # "python" or "npm"
    requirements: tuple[str, ...]
    #: resolve as on that day (uv's --exclude-newer, an RFC 3339 timestamp): an image "of that date"
    exclude_newer: str | None = None
    #: a source tree installed with the requirements (a KubeSpawner checkout), keyed by its content
    source: SourceTree | None = None
    source_key: str = ""

    @property
    def key(self) -> str:
        # BUILD_FORMAT is part of the key so environments built the old (broken) way are never reused;
        # the date and the source only when set, so the keys of other environments stay what they were;
        # a source counts by its content key, never its path: an edit is a new environment
        dated = [self.exclude_newer] if self.exclude_newer else []
        sourced = [f"source:{self.source_key}"] if self.source is not None else []
        digest = hashlib.sha256(
            json.dumps([BUILD_FORMAT, self.kind, *self.requirements, *dated, *sourced]).encode()
        ).hexdigest()[:10]
        return f"{self.label}-{digest}"


def python_env(label: str, requirements: Sequence[str], *, exclude_newer: str | None = None) -> EnvRecipe:
    return EnvRecipe(
        label=label, kind="python", requirements=tuple(requirements), exclude_newer=exclude_newer
    )


def source_env(label: str, requirements: Sequence[str], tree: SourceTree) -> EnvRecipe:
    """``requirements`` plus ``tree`` installed from a snapshot of it, cached by the tree's content."""
    return EnvRecipe(
        label=label,
        kind="python",
        requirements=tuple(requirements),
        source=tree,
        source_key=tree.content_key(),
    )


def npm_env(label: str, packages: Sequence[str]) -> EnvRecipe:
    return EnvRecipe(label=label, kind="npm", requirements=tuple(packages))


_COMPLETE = ".jhsc-complete"


def ensure_env(recipe: EnvRecipe) -> list[Path]:
    """Build the environment unless a complete one is cached; return the dirs to put on PATH.

    Concurrent callers (pytest-xdist workers) serialise on a lock per environment, and a build
    happens in a scratch dir that is renamed into place only when it finished, so a killed build
    never leaves a half environment that looks complete.
    """
    envs = cache_dir() / "envs"
    envs.mkdir(parents=True, exist_ok=True)
    _world_readable(cache_dir())
    _world_readable(envs)
    target = envs / recipe.key
    with file_lock(envs / f".{recipe.key}.lock"):
        if not (target / _COMPLETE).exists():
            scratch = envs / f".{recipe.key}.building-{os.getpid()}"
            shutil.rmtree(scratch, ignore_errors=True)
            try:
                _build(recipe, scratch)
                (scratch / _COMPLETE).write_text(json.dumps(list(recipe.requirements)) + "\n")
                _world_readable_tree(scratch)
                shutil.rmtree(target, ignore_errors=True)
                scratch.rename(target)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
    return _path_dirs(recipe, target)


def _path_dirs(recipe: EnvRecipe, root: Path) -> list[Path]:
    if recipe.kind == "npm":
        node = shutil.which("node")
        dirs = [root / "node_modules" / ".bin"]
        if node:
            dirs.append(Path(node).resolve().parent)
        return dirs
    return [root / "bin"]


def _build(recipe: EnvRecipe, into: Path) -> None:
    if recipe.source is not None:
        _build_with_source(recipe, into)
    elif recipe.kind == "python":
        _build_python(recipe, into, recipe.requirements)
    elif recipe.kind == "npm":
        _build_npm(recipe, into)
    else:
        raise ClusterError(f"unknown environment kind {recipe.kind!r}")


def _build_with_source(recipe: EnvRecipe, into: Path) -> None:
    """Install from a snapshot of the tree (removed afterwards), proven to be the tree that was keyed.

    A fresh snapshot path per build also keeps uv from reusing a wheel it built from an older state of
    the same directory (uv keys wheels of local directories by path and pyproject.toml's mtime).
    """
    assert recipe.source is not None
    snapshot = into.parent / f".{recipe.key}.source-{os.getpid()}"
    shutil.rmtree(snapshot, ignore_errors=True)
    try:
        copied = recipe.source.snapshot(snapshot)
        if copied != recipe.source_key:
            raise ClusterError(
                f"building environment {recipe.label!r}: {recipe.source.path} changed while it was being "
                "copied; run again once it is settled"
            )
        _build_python(recipe, into, (*recipe.requirements, str(snapshot)))
    finally:
        shutil.rmtree(snapshot, ignore_errors=True)


def _build_python(recipe: EnvRecipe, into: Path, requirements: Sequence[str]) -> None:
    uv = uv_executable()
    # --relocatable: the env is built in a scratch dir and renamed; absolute shebangs would point
    # at the scratch dir and every console script (jupyterhub, ...) would be "not found" in pods
    _run([uv, "venv", "--quiet", "--relocatable", "--python", POD_PYTHON, str(into)], recipe)
    # --compile-bytecode: as `pip install` in an image build does. Pods run as uid 1000 and cannot
    # write __pycache__ here, so without it every start recompiles jupyter_server & co (seconds
    # of CPU per spawn, enough to starve the hub's readiness probe on a 2-core machine).
    _run(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--compile-bytecode",
            "--python",
            str(into / "bin" / "python"),
            *(["--exclude-newer", recipe.exclude_newer] if recipe.exclude_newer else []),
            *requirements,
        ],
        recipe,
    )


def _build_npm(recipe: EnvRecipe, into: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise ClusterError(f"building environment {recipe.label!r} needs npm (and node) on PATH")
    into.mkdir(parents=True)
    _run(
        [
            npm,
            "install",
            "--prefix",
            str(into),
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            *recipe.requirements,
        ],
        recipe,
    )


def installed_version(root: Path, distribution: str) -> str | None:
    """The version an environment's package metadata gives ``distribution``, or None if not installed."""
    name = re.sub(r"[-_.]+", "_", distribution).lower()
    for metadata in sorted(root.glob("lib/python*/site-packages/*.dist-info/METADATA")):
        if metadata.parent.name.lower().startswith(f"{name}-"):
            match = re.search(r"^Version:\s*(\S+)", metadata.read_text(errors="replace"), re.MULTILINE)
            if match:
                return match.group(1)
    return None


def uv_executable() -> str:
    beside = Path(sys.executable).parent / "uv"
    if beside.exists():
        return str(beside)
    found = shutil.which("uv")
    if found is None:
        raise ClusterError("building pod environments needs `uv` (pip install uv)")
    return found


def _run(argv: list[str], recipe: EnvRecipe) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ClusterError(
            f"building environment {recipe.label!r} failed: {' '.join(argv)} exited {proc.returncode}\n"
            f"{proc.stderr.strip()[-4000:]}"
        )


def _world_readable(path: Path) -> None:
    mode = path.stat().st_mode
    path.chmod(mode | 0o755)


def _world_readable_tree(root: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            p = Path(dirpath, name)
            if not p.is_symlink():
                p.chmod(p.stat().st_mode | 0o755)
        for name in filenames:
            p = Path(dirpath, name)
            if not p.is_symlink():
                p.chmod(p.stat().st_mode | 0o444)
    root.chmod(root.stat().st_mode | 0o755)
