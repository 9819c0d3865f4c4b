"""``fixtures_dir``: the copy shipped in the package wins; a checkout uses ``fixtures/`` beside it."""

from __future__ import annotations

from pathlib import Path

from harness.clusters import kind
from harness.fixtures import fixtures_dir


def test_packaged_fixtures_win(tmp_path: Path) -> None:
    package = tmp_path / "harness"
    (package / "_fixtures").mkdir(parents=True)
    (tmp_path / "fixtures").mkdir()
    assert fixtures_dir(package) == package / "_fixtures"


def test_checkout_uses_fixtures_beside_the_package(tmp_path: Path) -> None:
    package = tmp_path / "harness"
    package.mkdir()
    assert fixtures_dir(package) == tmp_path / "fixtures"


def test_this_checkout_resolves_the_kind_fixtures() -> None:
    assert kind.KIND_CONFIG.is_file()
    assert (kind.IMAGES_DIR / "proxy" / "Dockerfile").is_file()
