"""Ship the repository-root ``fixtures/`` inside the wheel as ``harness/_fixtures``.

Everything else is declared in ``pyproject.toml``.  The top-level layout keeps ``fixtures/`` beside
``harness/`` (docs and CI point there), and package data cannot reach outside a package, so
``build_py`` copies the tree into the built package; ``harness.fixtures.fixtures_dir`` finds it there,
or beside the package in a checkout / editable install (where nothing is copied).
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
FIXTURES = ROOT / "fixtures"


class BuildPyWithFixtures(build_py):
    """``build_py`` that also copies ``fixtures/`` to ``<build_lib>/harness/_fixtures``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's fixtures/ directly
        for source in sorted(p for p in FIXTURES.rglob("*") if p.is_file()):
            target = Path(self.build_lib) / "harness" / "_fixtures" / source.relative_to(FIXTURES)
            self.mkpath(str(target.parent))
            self.copy_file(str(source), str(target))


setup(cmdclass={"build_py": BuildPyWithFixtures})
