"""Atomic projection of configMap/secret/downwardAPI/projected files, as the kubelet's AtomicWriter does.

The files live in a timestamped dir ``..2006_01_02_15_04_05.<random>``; ``..data`` is a symlink to it
and every top-level user-visible name is a symlink into ``..data`` (``key -> ..data/key``). An update
writes a new timestamped dir, swaps ``..data`` with one rename (readers see the old set or the new
one, never a mix), drops names that went away and removes the old dir. So a container that mounted
the whole volume sees new content; one that bind-mounted a single file (subPath) keeps the old file's
inode and never sees an update, exactly as on a real node (pkg/volume/util/atomic_writer.go).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

DATA_DIR = "..data"
NEW_DATA_DIR = "..data_tmp"

#: relative path -> (content, mode)
Payload = dict[str, tuple[bytes, int]]


def _validate(path: str) -> str:
    clean = os.path.normpath(path)
    parts = PurePosixPath(clean).parts
    if not path or PurePosixPath(path).is_absolute():
        raise ValueError(f"invalid path: must be relative path: {path}")
    if ".." in parts:
        raise ValueError(f"invalid path: must not contain '..': {path}")
    if parts[0].startswith(".."):
        raise ValueError(f"invalid path: must not start with '..': {path}")
    return clean


def _unchanged(payload: Payload, old: Path) -> bool:
    for path, (content, _) in payload.items():
        try:
            if (old / path).read_bytes() != content:
                return False
        except OSError:
            return False
    return True


def _old_paths(old: Path) -> set[str]:
    return {str(p.relative_to(old)) for p in old.rglob("*")} if old.is_dir() else set()


def write(target: Path, payload: Payload) -> bool:
    """Project ``payload`` into ``target``; return whether anything changed."""
    clean = {_validate(path): value for path, value in payload.items()}
    target.mkdir(parents=True, exist_ok=True)
    data_link = target / DATA_DIR
    old_name = os.readlink(data_link) if data_link.is_symlink() else ""
    old = target / old_name if old_name else None
    wanted_tops = {path.split("/", 1)[0] for path in clean}
    removed = _old_paths(old) - _with_parents(clean) if old is not None else set()
    if old is not None and not removed and _unchanged(clean, old):
        return False
    stamp = time.strftime("..%Y_%m_%d_%H_%M_%S.", time.gmtime())
    new = Path(tempfile.mkdtemp(prefix=stamp, dir=target))
    new.chmod(0o755)  # group and other must be able to walk it, whatever the umask
    try:
        for path, (content, mode) in clean.items():
            file = new / path
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_bytes(content)
            file.chmod(mode)
        for top in wanted_tops:
            visible = target / top
            if not visible.is_symlink():
                visible.symlink_to(f"{DATA_DIR}/{top}")
        tmp_link = target / NEW_DATA_DIR
        tmp_link.unlink(missing_ok=True)
        tmp_link.symlink_to(new.name)
        tmp_link.replace(data_link)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    for top in (p for p in removed if "/" not in p):  # only the root's names are symlinks
        visible = target / top
        if visible.is_symlink():
            visible.unlink()
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return True


def _with_parents(paths: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for path in paths:
        parts = path.split("/")
        out.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return out
