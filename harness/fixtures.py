"""Where the repository's ``fixtures/`` (Dockerfiles, kind config) are, installed or not.

The wheel ships them as ``harness/_fixtures`` (see ``setup.py``), so the kind backend works from a
plain ``pip install`` (the nox e2e session, another repository using the plugin).  A source checkout
or an editable install has no ``_fixtures``: there they are ``fixtures/`` beside the package.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
#: Where the wheel puts the fixtures (relative to the ``harness`` package).
PACKAGED_DIRNAME = "_fixtures"


def fixtures_dir(package_dir: Path = _PACKAGE_DIR) -> Path:
    """The fixtures shipped in the installed package, else the checkout's ``fixtures/``.

    Never the working directory: a ``fixtures/`` there may belong to another project.
    """
    packaged = package_dir / PACKAGED_DIRNAME
    if packaged.is_dir():
        return packaged
    return package_dir.parent / "fixtures"
