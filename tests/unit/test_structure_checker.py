"""The structure checker that ``nox -s lint`` runs (tools/check_structure.py) finds what it claims to."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_structure", ROOT / "tools" / "check_structure.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_structure"] = module
    spec.loader.exec_module(module)
    return module


cs = _load()


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / "pkg" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for directory in [tmp_path / "pkg", *(p for p in (tmp_path / "pkg").rglob("*") if p.is_dir())]:
        (directory / "__init__.py").touch()
    return tmp_path


def _messages(root: Path, **kwargs: object) -> list[str]:
    return [v.message for v in cs.check(root, "pkg", allowed={}, allowed_cycles={}, **kwargs)]


def test_clean_tree_has_no_violations(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"a.py": "from . import b\n", "b.py": "import os\n"})
    assert _messages(root) == []


@pytest.mark.parametrize(
    "a_text",
    [
        "from . import b\n",  # relative, module level
        "from pkg.b import thing\n",  # absolute, a name of the module
        "def f():\n    from .b import thing\n",  # lazy import inside a function
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import thing\n",  # type-only
    ],
)
def test_every_kind_of_import_makes_a_cycle(tmp_path: Path, a_text: str) -> None:
    root = _tree(tmp_path, {"a.py": a_text, "b.py": "from . import a\n"})
    assert _messages(root) == ["import cycle: pkg.a <-> pkg.b"]


def test_cycle_through_a_subpackage_and_parent_relative_import(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"sub/x.py": "from .. import y\n", "y.py": "from .sub.x import z\n"})
    assert _messages(root) == ["import cycle: pkg.sub.x <-> pkg.y"]


def test_importing_a_submodule_is_not_importing_its_package(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"sub/__init__.py": "from .x import X\n", "sub/x.py": "from pkg.sub import y\n"})
    (tmp_path / "pkg" / "sub" / "y.py").write_text("X = 1\n")
    assert _messages(root) == []


def test_long_module_and_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(cs.MAX_FUNCTION_LINES))  # def line + 60 = 61
    fine = "\n".join(f"    y{i} = {i}" for i in range(cs.MAX_FUNCTION_LINES - 1))
    root = _tree(
        tmp_path,
        {
            "long.py": "\n" * cs.MAX_MODULE_LINES + "x = 1\n",
            "funcs.py": f"class C:\n    def m(self):\n    {body.replace(chr(10), chr(10) + '    ')}\n"
            f"def ok():\n{fine}\n",
        },
    )
    assert _messages(root) == [
        f"function C.m has {cs.MAX_FUNCTION_LINES + 1} lines (max {cs.MAX_FUNCTION_LINES})",
        f"module has {cs.MAX_MODULE_LINES + 1} lines (max {cs.MAX_MODULE_LINES})",
    ]


def test_allow_lists_exempt_and_stale_entries_are_noted(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "long.py": "\n" * cs.MAX_MODULE_LINES + "x = 1\n",
            "a.py": "from . import b\n",
            "b.py": "from . import a\n",
        },
    )
    notes: list[str] = []
    violations = cs.check(
        root,
        "pkg",
        allowed={"pkg/long.py": "why", "pkg/gone.py": "why"},
        allowed_cycles={frozenset({"pkg.a", "pkg.b"}): "why", frozenset({"pkg.x", "pkg.y"}): "why"},
        notes=notes,
    )
    assert violations == []
    assert notes == [
        "SIZE_ALLOWED entry 'pkg/gone.py' exempts nothing: remove it",
        "CYCLE_ALLOWED entry ['pkg.x', 'pkg.y'] is no longer a cycle: remove it",
    ]


def test_main_fails_naming_the_violation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _tree(tmp_path, {"a.py": "from . import b\n", "b.py": "from . import a\n"})
    (root / "harness").symlink_to(root / "pkg")
    assert cs.main(["--root", str(root)]) == 1
    assert "harness/a.py:1: import cycle: harness.a <-> harness.b" in capsys.readouterr().out
