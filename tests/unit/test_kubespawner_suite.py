"""The kubespawner-suite session's own logic: its arguments, the day its packages are of, the source
it accepts, and the image map it gives the node."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from harness.clusters.embedded.images import ImageMap
from harness.kubespawner_suite import images
from harness.kubespawner_suite.cli import DEFAULT_REF, DEFAULT_SOURCE, day_after, parse_args
from harness.kubespawner_suite.source import SourceError, suite_source


def test_defaults_clone_the_tag_and_leave_pytest_alone() -> None:
    args = parse_args([])
    assert (args.source, args.ref, args.exclude_newer, args.pytest_args, args.keep) == (
        DEFAULT_SOURCE,
        DEFAULT_REF,
        None,
        (),
        False,
    )
    assert DEFAULT_REF == "7.1.0"


def test_unknown_arguments_go_to_pytest_in_order() -> None:
    args = parse_args(["--ks-source", "/src", "-k", "spawn_start", "-x", "--", "tests/test_spawner.py"])
    assert args.source == "/src"
    assert args.pytest_args == ("-k", "spawn_start", "-x", "--", "tests/test_spawner.py")
    assert parse_args(["--", "-x"]).pytest_args == ("-x",)


def test_an_abbreviation_of_ours_is_not_taken_from_pytest_options() -> None:
    # argparse would otherwise read "--ks" as --ks-source/--ks-ref (ambiguous) or "--keep" from "--kee"
    assert parse_args(["--kee"]).pytest_args == ("--kee",)


def test_exclude_newer_day_means_its_start_in_utc() -> None:
    assert parse_args(["--exclude-newer", "2026-07-17"]).exclude_newer == "2026-07-17T00:00:00Z"
    stamp = "2026-07-17T12:00:00+02:00"
    assert parse_args(["--exclude-newer", stamp]).exclude_newer == stamp


def test_exclude_newer_that_is_no_date_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse_args(["--exclude-newer", "last tuesday"])
    assert exc.value.code == 2
    assert "not a date (YYYY-MM-DD) or RFC 3339 timestamp: 'last tuesday'" in capsys.readouterr().err


def test_the_tag_day_includes_the_whole_utc_day_of_the_commit() -> None:
    # 7.1.0: committed 2026-07-16 13:24 +03:00 -> everything released on 2026-07-16 (UTC) counts
    assert day_after(datetime.fromisoformat("2026-07-16T13:24:28+03:00")) == "2026-07-17T00:00:00Z"
    # late in the evening west of UTC is already the next UTC day
    assert day_after(datetime.fromisoformat("2026-07-16T23:30:00-05:00")) == "2026-07-18T00:00:00Z"


def _checkout(root: Path, version: str = "7.1.0") -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "tests" / "conftest.py").write_text("")
    (root / "kubespawner").mkdir()
    (root / "kubespawner" / "_version.py").write_text(f'# tbump\n__version__ = "{version}"\n')
    return root


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def test_a_checkout_is_used_as_it_is_with_its_commit_date(tmp_path: Path) -> None:
    root = _checkout(tmp_path / "ks")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    env_date = "2026-07-16T13:24:28+03:00"
    subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
        check=True,
        env={"GIT_COMMITTER_DATE": env_date, "GIT_AUTHOR_DATE": env_date, "PATH": "/usr/bin:/bin"},
    )
    source = suite_source(str(root), "ignored-for-a-checkout", tmp_path / "clone")
    assert (source.root, source.version) == (root, "7.1.0")
    assert source.commit_date == datetime.fromisoformat(env_date)
    assert not (tmp_path / "clone").exists()


def test_a_copy_without_its_own_git_has_no_date(tmp_path: Path) -> None:
    # e.g. an unpacked tarball inside some other repository: that repository's date is not the tag's
    _git(tmp_path, "init", "-q")
    source = suite_source(str(_checkout(tmp_path / "ks")), DEFAULT_REF, tmp_path / "clone")
    assert source.commit_date is None


def test_a_git_repository_is_cloned_at_the_ref(tmp_path: Path) -> None:
    repo = _checkout(tmp_path / "upstream", version="7.1.0")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "7.1.0")
    _git(repo, "tag", "7.1.0")
    (repo / "kubespawner" / "_version.py").write_text('__version__ = "7.2.0.dev"\n')
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "dev")
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True)
    source = suite_source(str(bare), "7.1.0", tmp_path / "clone")
    assert (source.root, source.version) == (tmp_path / "clone", "7.1.0")


def test_a_missing_ref_names_the_source_and_the_ref(tmp_path: Path) -> None:
    repo = _checkout(tmp_path / "upstream")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x")
    with pytest.raises(SourceError, match=rf"(?s)cloning 9.9.9 from {repo}/.git failed: .*9\.9\.9 not found"):
        suite_source(str(repo / ".git"), "9.9.9", tmp_path / "clone")


def test_a_dir_without_the_suite_says_the_sdist_has_no_tests(tmp_path: Path) -> None:
    (tmp_path / "sdist" / "kubespawner").mkdir(parents=True)
    with pytest.raises(SourceError, match=r"not a git repository.*the PyPI sdist has no tests/"):
        suite_source(str(tmp_path / "sdist"), DEFAULT_REF, tmp_path / "clone")


def _built() -> images.SuiteEnvs:
    return images.SuiteEnvs(
        hub=[Path("/envs/hub/bin")],
        proxy=[Path("/envs/chp/node_modules/.bin"), Path("/usr/bin")],
        singleuser=[Path("/envs/su/bin")],
    )


def test_the_node_gets_exactly_the_three_images_the_suite_names() -> None:
    assert set(images.entries(_built())) == {
        "quay.io/jupyterhub/jupyterhub:latest",
        "python:3.12-slim",
        "quay.io/jupyterhub/singleuser:latest",
    }


def test_the_hub_image_is_root_in_srv_jupyterhub_with_the_proxy_after_its_env() -> None:
    hub = images.entries(_built())[images.HUB]
    assert hub.path == ["/envs/hub/bin", "/envs/chp/node_modules/.bin", "/usr/bin"]
    assert (hub.user, hub.passwd_user, hub.workdir) == (None, None, "/srv/jupyterhub")
    assert hub.command == ["jupyterhub"]


def test_the_exec_image_is_the_nodes_python_as_root() -> None:
    exec_image = images.entries(_built())[images.EXEC]
    assert (exec_image.path, exec_image.user, exec_image.command) == ([], None, ["python3"])


def test_the_singleuser_image_is_jovyan_in_his_home() -> None:
    server = images.entries(_built())[images.SINGLEUSER]
    assert server.path == ["/envs/su/bin"]
    assert (server.user, server.passwd_user, server.workdir) == ("1000:100", "jovyan", "/home/jovyan")
    assert server.env["HOME"] == "/home/jovyan" and server.command == ["jupyterhub-singleuser"]


def test_the_singleuser_env_keeps_what_the_real_image_has_and_is_of_the_tag_day() -> None:
    hub, singleuser = images.recipes("2026-07-17T00:00:00Z")
    # base-notebook's mamba install (jupyterhub-singleuser jupyterlab nbclassic notebook>=7.2.2) + jupyterhub:
    # jupyterlab is what makes "/" redirect, which the suite asserts (302)
    assert set(singleuser.requirements) >= {"jupyterhub", "jupyterlab", "nbclassic", "notebook>=7.2.2"}
    assert hub.exclude_newer == singleuser.exclude_newer == "2026-07-17T00:00:00Z"
    assert images.recipes("2026-08-01T00:00:00Z")[1].key != singleuser.key, "another day, another env"


def test_load_puts_the_entries_in_the_nodes_image_map(tmp_path: Path) -> None:
    made = images.load(ImageMap(tmp_path), _built())
    node = ImageMap(tmp_path)
    for ref, entry in made.items():
        assert node.find(ref) == entry
    assert node.find("quay.io/jupyterhub/singleuser") == made[images.SINGLEUSER]  # ":latest" implied
