"""configMap/secret projection through the kubelet's atomic writer layout (..data swap)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.clusters.embedded.kubelet import atomic_writer


def test_update_swaps_data_dir_removes_gone_keys_and_leaves_open_files_alone(tmp_path: Path) -> None:
    assert atomic_writer.write(tmp_path, {"a": (b"1", 0o644), "sub/b": (b"2", 0o600)})
    assert os.readlink(tmp_path / "a") == "..data/a" and os.readlink(tmp_path / "sub") == "..data/sub"
    first = os.readlink(tmp_path / "..data")
    assert first.startswith("..") and (tmp_path / "sub" / "b").stat().st_mode & 0o777 == 0o600
    held = (tmp_path / "a").resolve()  # what a subPath bind mount holds on to
    with open(held, "rb") as bound:
        assert not atomic_writer.write(tmp_path, {"a": (b"1", 0o644), "sub/b": (b"2", 0o600)})
        assert os.readlink(tmp_path / "..data") == first  # nothing changed, nothing written
        assert atomic_writer.write(tmp_path, {"a": (b"new", 0o644)})
        assert (tmp_path / "a").read_bytes() == b"new" and not (tmp_path / "sub").exists()
        assert bound.read() == b"1"
    assert not (tmp_path / first).exists()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("..20")) == ["..data", "a"]
    with pytest.raises(ValueError, match="must not start with"):
        atomic_writer.write(tmp_path, {"..x": (b"", 0o644)})
