"""A KubeSpawner source tree under test (--kubespawner-source): its version, its content key, and how
the option, the version gates, the restarts and each backend's hub image follow from them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.clusters.base import ClusterError, HubVersions
from harness.clusters.embedded import backend as embedded_backend
from harness.clusters.embedded import envs
from harness.clusters.existing import ExistingBackend
from harness.clusters.kind.images import IMAGES_DIR, hub_recipe_for
from harness.clusters.source_tree import SourceTree, SourceTreeError, label_of
from harness.options import HarnessOptions, OptionsError
from harness.scenario.fields import UNDER_TEST, admits
from harness.steps.restart_hub import target_versions

HATCH_PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "jupyterhub-kubespawner"
dependencies = [
    "jupyterhub>=4.0.0",
]
dynamic = ["version"]

[tool.hatch.version]
path = "kubespawner/_version.py"
"""


def make_tree(root: Path, version: str = "7.1.0") -> Path:
    """A tree laid out as KubeSpawner's: hatch reads the version from kubespawner/_version.py."""
    (root / "kubespawner").mkdir(parents=True)
    (root / "pyproject.toml").write_text(HATCH_PYPROJECT)
    (root / "kubespawner" / "_version.py").write_text(f'__version__ = "{version}"\n')
    (root / "kubespawner" / "spawner.py").write_text("class KubeSpawner: pass\n")
    return root


# -- the version the tree is -------------------------------------------------------------------


def test_the_version_is_read_from_the_file_hatch_reads(tmp_path: Path) -> None:
    tree = SourceTree.read(make_tree(tmp_path / "ks", "7.1.1.dev0"))
    assert tree.version == "7.1.1.dev0"
    assert tree.label == "7.1.1.dev0+source"


def test_an_sdist_says_its_version_in_pkg_info_first(tmp_path: Path) -> None:
    """hatchling builds an sdist's wheel with PKG-INFO's metadata, whatever _version.py says since."""
    root = make_tree(tmp_path / "ks", "0.0.0")
    (root / "PKG-INFO").write_text("Metadata-Version: 2.3\nName: jupyterhub-kubespawner\nVersion: 7.1.0\n")
    assert SourceTree.read(root).version == "7.1.0"


def test_a_static_project_version_counts(tmp_path: Path) -> None:
    root = tmp_path / "ks"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "8.0.0"\n')
    assert SourceTree.read(root).version == "8.0.0"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda root: None, "is not a directory"),
        (lambda root: root.mkdir(), "has no pyproject.toml or setup.py"),
        (lambda root: (root.mkdir(), (root / "setup.py").write_text("")), "cannot tell which KubeSpawner"),
    ],
)
def test_not_a_tree_is_a_clear_error(tmp_path: Path, setup: object, message: str) -> None:
    root = tmp_path / "ks"
    setup(root)  # type: ignore[operator]
    with pytest.raises(SourceTreeError, match=message):
        SourceTree.read(root)


def test_a_version_with_a_local_part_gets_the_mark_appended() -> None:
    assert label_of("7.1.0") == "7.1.0+source"
    assert label_of("7.1.1.dev3+g1234abc") == "7.1.1.dev3+g1234abc.source"


@pytest.mark.parametrize(
    ("gate", "admitted"),
    [(">=7", True), (">=7.1", True), ("<7.1", False), ("==7.1.0", True), ("<=7.1.0", True), ("<7", False)],
)
def test_version_gates_judge_a_source_build_as_its_version(gate: str, admitted: bool) -> None:
    assert admits(gate, None, "7.1.0+source", "6.1.1") is admitted


# -- the content key ---------------------------------------------------------------------------


def test_the_same_tree_elsewhere_has_the_same_key_and_an_edit_a_new_one(tmp_path: Path) -> None:
    one = SourceTree.read(make_tree(tmp_path / "one"))
    two = SourceTree.read(make_tree(tmp_path / "two"))
    assert one.content_key() == two.content_key()

    (two.path / "kubespawner" / "spawner.py").write_text("class KubeSpawner: fixed = True\n")
    assert one.content_key() != two.content_key()

    (two.path / "kubespawner" / "spawner.py").write_text("class KubeSpawner: pass\n")
    assert one.content_key() == two.content_key()
    (two.path / "kubespawner" / "spawner.py").chmod(0o755)
    assert one.content_key() != two.content_key(), "the exec bit is content too"


def test_build_junk_outside_git_does_not_change_the_key(tmp_path: Path) -> None:
    tree = SourceTree.read(make_tree(tmp_path / "ks"))
    before = tree.content_key()
    for junk in ("__pycache__/x.pyc", "kubespawner/__pycache__/spawner.cpython-311.pyc", ".venv/bin/python"):
        (tree.path / junk).parent.mkdir(parents=True, exist_ok=True)
        (tree.path / junk).write_text("junk")
    assert tree.content_key() == before
    (tree.path / "kubespawner" / "new_module.py").write_text("")
    assert tree.content_key() != before


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_in_a_git_checkout_the_files_are_gits(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "ks")
    (root / ".gitignore").write_text("ignored/\n")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t"}
    env["GIT_COMMITTER_EMAIL"] = "t@t"
    subprocess.run(["git", "init", "-q", str(root)], check=True, env=env)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(root), "commit", "-qm", "x"], check=True, env=env)
    tree = SourceTree.read(root)
    before = tree.content_key()
    (root / "ignored").mkdir()
    (root / "ignored" / "big.bin").write_text("not part of the tree")
    assert tree.content_key() == before
    assert ".gitignore" in tree.files() and not any(name.startswith(".git/") for name in tree.files())
    (root / "untracked.py").write_text("x = 1\n")  # untracked but not ignored: part of what is installed
    assert tree.content_key() != before


def test_a_snapshot_holds_the_same_content(tmp_path: Path) -> None:
    tree = SourceTree.read(make_tree(tmp_path / "ks"))
    assert tree.snapshot(tmp_path / "copy") == tree.content_key()
    assert (tmp_path / "copy" / "kubespawner" / "_version.py").is_file()


# -- the option --------------------------------------------------------------------------------


def test_the_option_and_its_env_twin_make_a_source_row(tmp_path: Path) -> None:
    make_tree(tmp_path / "ks")
    for cli, env in (({"kubespawner_source": "ks"}, {}), ({}, {"JHSC_KUBESPAWNER_SOURCE": "ks"})):
        options = HarnessOptions.resolve(cli, env, base_dir=tmp_path)
        assert options.kubespawner_version == "7.1.0+source"
        assert options.jupyterhub_version == "6.1.1"  # 7.1.0's pairing
        versions = options.versions
        assert versions.kubespawner == "7.1.0+source"
        assert versions.kubespawner_reported == "7.1.0"
        assert versions.kubespawner_source == SourceTree((tmp_path / "ks").resolve(), "7.1.0")
        assert options.results_session == "kubespawner-7.1.0-source-jupyterhub-6.1.1-embedded"
        assert HarnessOptions(**options.__dict__) == options  # rebuilt from its fields, as tests do


def test_a_release_that_contradicts_the_source_is_refused(tmp_path: Path) -> None:
    make_tree(tmp_path / "ks")
    assert HarnessOptions.resolve(
        {"kubespawner_source": "ks", "kubespawner_version": "7.1.0"}, {}, base_dir=tmp_path
    ).versions.kubespawner_source
    with pytest.raises(
        OptionsError, match=r"--kubespawner-version 6.2.0 and --kubespawner-source .* disagree"
    ):
        HarnessOptions.resolve(
            {"kubespawner_source": "ks", "kubespawner_version": "6.2.0"}, {}, base_dir=tmp_path
        )


def test_a_bad_source_names_the_option(tmp_path: Path) -> None:
    with pytest.raises(OptionsError, match=r"^--kubespawner-source: .*missing is not a directory"):
        HarnessOptions.resolve({"kubespawner_source": "missing"}, {}, base_dir=tmp_path)


# -- restarts keep the source --------------------------------------------------------------------


def test_restart_hub_under_test_restarts_with_the_source(tmp_path: Path) -> None:
    source = HubVersions.of_source(SourceTree.read(make_tree(tmp_path / "ks")), "6.1.1")
    old = HubVersions("6.2.0", "5.5.4")
    body = SimpleNamespace(kubespawner=UNDER_TEST, jupyterhub=None)
    assert target_versions(body, old, source) == source
    body = SimpleNamespace(kubespawner=None, jupyterhub="5.5.4")
    assert target_versions(body, source, source) == HubVersions.of_source(source.kubespawner_source, "5.5.4")  # type: ignore[arg-type]
    body = SimpleNamespace(kubespawner="6.2.0", jupyterhub=None)
    assert target_versions(body, source, source) == old


# -- each backend's hub image ----------------------------------------------------------------------


def test_the_embedded_hub_env_is_keyed_by_content_not_path(tmp_path: Path) -> None:
    one = HubVersions.of_source(SourceTree.read(make_tree(tmp_path / "one")), "6.1.1")
    two = HubVersions.of_source(SourceTree.read(make_tree(tmp_path / "two")), "6.1.1")
    recipe = embedded_backend.hub_recipe(one)
    assert recipe.key == embedded_backend.hub_recipe(two).key
    assert recipe.key.startswith("hub-ks-7.1.0-source-jh-6.1.1-")
    assert recipe.requirements == ("jupyterhub==6.1.1",)
    assert recipe.key != embedded_backend.hub_recipe(HubVersions("7.1.0", "6.1.1")).key
    (tmp_path / "two" / "kubespawner" / "spawner.py").write_text("class KubeSpawner: changed = 1\n")
    assert embedded_backend.hub_recipe(two).key != recipe.key


def test_the_installed_version_is_read_from_the_env_metadata(tmp_path: Path) -> None:
    site = tmp_path / "env" / "lib" / "python3.11" / "site-packages"
    (site / "jupyterhub_kubespawner-7.1.0.dist-info").mkdir(parents=True)
    (site / "jupyterhub_kubespawner-7.1.0.dist-info" / "METADATA").write_text("Name: x\nVersion: 7.1.0\n")
    assert envs.installed_version(tmp_path / "env", "jupyterhub-kubespawner") == "7.1.0"
    assert envs.installed_version(tmp_path / "env", "jupyterhub") is None
    tree = SourceTree(tmp_path, "7.2.0")
    with pytest.raises(ClusterError, match=r"installed as version 7\.1\.0, but the tree says 7\.2\.0"):
        embedded_backend._check_installed(tree, [tmp_path / "env" / "bin"])


def test_kind_builds_the_hub_from_a_copy_of_the_tree(tmp_path: Path) -> None:
    versions = HubVersions.of_source(SourceTree.read(make_tree(tmp_path / "ks")), "6.1.1")
    key = versions.kubespawner_source.content_key()  # type: ignore[union-attr]
    with hub_recipe_for(versions) as recipe:
        context = recipe.context
        assert recipe.tag == f"jhsc/hub:ks-7.1.0-source-{key}-jh-6.1.1"
        assert (context / "kubespawner-source" / "kubespawner" / "_version.py").is_file()
        assert (context / "Dockerfile").read_text() == (IMAGES_DIR / "hub-source" / "Dockerfile").read_text()
        assert recipe.build_args == (("JUPYTERHUB_VERSION", "6.1.1"),)
        assert re.findall(r"^ARG (\w+)", (context / "Dockerfile").read_text(), flags=re.M) == [
            "JUPYTERHUB_VERSION"
        ]
        digest = recipe.digest
    assert not context.exists(), "the build context is temporary"
    (tmp_path / "ks" / "kubespawner" / "spawner.py").write_text("class KubeSpawner: changed = 1\n")
    with hub_recipe_for(versions) as edited:
        assert edited.digest != digest and edited.tag != recipe.tag
    with hub_recipe_for(HubVersions("7.1.0", "6.1.1")) as release:
        assert release.tag == "jhsc/hub:ks-7.1.0-jh-6.1.1"


def test_existing_needs_a_hub_image_for_a_source_build(tmp_path: Path) -> None:
    make_tree(tmp_path / "ks")
    options = HarnessOptions.resolve(
        {"cluster": "existing", "kubespawner_source": "ks", "singleuser_image": "u"}, {}, base_dir=tmp_path
    )
    with pytest.raises(ClusterError, match="--kubespawner-source on the existing backend needs --hub-image"):
        ExistingBackend(options).images(options.versions)
    options = HarnessOptions.resolve(
        {
            "cluster": "existing",
            "kubespawner_source": "ks",
            "singleuser_image": "u",
            "hub_image": "h:{kubespawner}",
        },
        {},
        base_dir=tmp_path,
    )
    assert ExistingBackend(options).images(options.versions).hub == "h:7.1.0-source"


# -- jhsc check --kubespawner-source -----------------------------------------------------------------


def test_jhsc_check_runs_the_chart_values_on_the_source(tmp_path: Path) -> None:
    from harness.check import cli

    make_tree(tmp_path / "ks")
    values = tmp_path / "values.yaml"
    values.write_text("singleuser:\n  storage:\n    type: dynamic\n", encoding="utf-8")
    argv = ["--values", str(values), "--users", "alice", "--no-library", "--reports-dir", str(tmp_path / "r")]
    args = cli.parser().parse_args([*argv, "--kubespawner-source", str(tmp_path / "ks")])
    source, derived, directory = cli.prepare(args)
    assert derived and all(item.data["z2jh"]["kubespawner"] == UNDER_TEST for item in derived)
    command = cli.pytest_command(args, source, directory)
    assert command[command.index("--kubespawner-source") + 1] == str((tmp_path / "ks").resolve())
    assert "--kubespawner-version" not in command


def test_jhsc_check_refuses_a_release_and_a_source_and_a_bad_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.check import cli

    config = tmp_path / "c.py"
    config.write_text("c.KubeSpawner.storage_capacity = '1Gi'\n", encoding="utf-8")
    base = ["check", "--kubespawner-config", str(config), "--reports-dir", str(tmp_path / "r")]
    assert cli.main([*base, "--kubespawner", "7.1.0", "--kubespawner-source", str(tmp_path)]) == cli.BAD_INPUT
    assert "--kubespawner and --kubespawner-source: give one" in capsys.readouterr().err
    assert cli.main([*base, "--kubespawner-source", str(tmp_path / "nope")]) == cli.BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("jhsc check: --kubespawner-source: ") and "is not a directory" in err
