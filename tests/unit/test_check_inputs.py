"""``jhsc check`` input handling: every bad input is one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.check import cli
from harness.check.inputs import CheckInputError, read_traits, read_values


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _bad(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert cli.main(["check", *argv]) == cli.BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_values_not_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = _write(tmp_path, "v.yaml", "hub:\n  allowNamedServers: [true\n")
    err = _bad(capsys, ["--values", str(values), "--reports-dir", str(tmp_path / "r")])
    assert f"{values}:3:1: not valid YAML" in err


def test_values_not_a_mapping(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = _write(tmp_path, "v.yaml", "- a\n- b\n")
    assert "expected z2jh chart values" in _bad(capsys, ["--values", str(values)])


def test_unknown_chart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = _write(tmp_path, "v.yaml", "{}\n")
    err = _bad(capsys, ["--values", str(values), "--chart", "9.9.9"])
    assert "--chart '9.9.9': unknown z2jh chart release; known: 3.3.8, 4.0.0, 4.4.0" in err
    assert "--upgrade-to-chart '5.0.0'" in _bad(
        capsys, ["--values", str(values), "--upgrade-to-chart", "5.0.0"]
    )


def test_values_the_chart_rejects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    values = _write(tmp_path, "v.yaml", "singleuser:\n  storage:\n    tpye: static\n")
    err = _bad(capsys, ["--values", str(values)])
    assert str(values) in err and "singleuser.storage.tpye" in err and "z2jh chart 4.4.0" in err


def test_unknown_trait(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _write(tmp_path, "storage.py", "c = get_config()\nc.KubeSpawner.storage_clas = 'fast'\n")
    err = _bad(capsys, ["--kubespawner-config", str(config)])
    assert f"{config}:2: unknown KubeSpawner trait 'storage_clas' (did you mean 'storage_class'?)" in err


def test_value_kubespawner_rejects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("kubespawner")
    config = _write(tmp_path, "storage.yaml", "storage_pvc_ensure: 'yes'\n")
    err = _bad(capsys, ["--kubespawner-config", str(config)])
    assert (
        "storage_pvc_ensure: KubeSpawner rejects it: The 'storage_pvc_ensure' trait expected a boolean" in err
    )


def test_python_config_is_read_not_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "ran"
    config = _write(
        tmp_path,
        "storage.py",
        f"open({str(marker)!r}, 'w')\nc.KubeSpawner.storage_capacity = compute()\n",
    )
    err = _bad(capsys, ["--kubespawner-config", str(config)])
    assert f"{config}:2: c.KubeSpawner.storage_capacity is not a literal value" in err
    assert not marker.exists()


def test_python_syntax_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _write(tmp_path, "storage.py", "c.KubeSpawner.storage_capacity = '1Gi\n")
    assert f"{config}:1: not valid Python" in _bad(capsys, ["--kubespawner-config", str(config)])


def test_missing_file_and_wrong_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "no such file" in _bad(capsys, ["--values", str(tmp_path / "nope.yaml")])
    values = _write(tmp_path, "v.yaml", "{}\n")
    assert "--kubespawner/--upgrade-to go with --kubespawner-config" in _bad(
        capsys, ["--values", str(values), "--upgrade-to", "7.1.0"]
    )
    config = _write(tmp_path, "s.yaml", "storage_capacity: 1Gi\n")
    assert "not a version" in _bad(capsys, ["--kubespawner-config", str(config), "--kubespawner", "seven"])


def test_python_config_traits_and_hub_config(tmp_path: Path) -> None:
    config = _write(
        tmp_path,
        "storage.py",
        "c = get_config()  # noqa\n"
        "c.KubeSpawner.pvc_name_template = 'claim-{user_server}'\n"
        "c.KubeSpawner.volumes = [{'name': 'home', 'persistentVolumeClaim': {'claimName': '{pvc_name}'}}]\n"
        "c.JupyterHub.allow_named_servers = True\n"
        "x = 3\n",
    )
    source = read_traits(config, "7.0.0", "7.1.0")
    assert source.kubespawner_traits["pvc_name_template"] == "claim-{user_server}"
    assert source.kubespawner_traits["volumes"][0]["persistentVolumeClaim"]["claimName"] == "{pvc_name}"
    assert source.hub_config == {"JupyterHub.allow_named_servers": True}
    assert (source.kubespawner, source.upgrade_to) == ("7.0.0", "7.1.0")


def test_yaml_traits_accept_class_prefixes(tmp_path: Path) -> None:
    config = _write(
        tmp_path, "s.yaml", "KubeSpawner.storage_capacity: 2Gi\nJupyterHub.allow_named_servers: true\n"
    )
    source = read_traits(config, None, None)
    assert source.kubespawner_traits == {"storage_capacity": "2Gi"}
    assert source.hub_config == {"JupyterHub.allow_named_servers": True}


def test_values_map_through_the_chart(tmp_path: Path) -> None:
    values = _write(tmp_path, "v.yaml", "hub:\n  allowNamedServers: true\n")
    source = read_values(values, "3.3.8", "4.4.0")
    assert source.kubespawner == "6.2.0"
    assert source.config.kubespawner["pvc_name_template"] == "claim-{username}{servername}"
    with pytest.raises(CheckInputError, match="unknown z2jh chart"):
        read_values(values, "1.0.0", None)
