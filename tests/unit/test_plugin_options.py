"""HarnessOptions: command line over environment over defaults, and errors that name their source."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import clusters
from harness.clusters import SessionCluster, backend_class
from harness.clusters.base import ClusterError
from harness.options import OPTION_SPECS, HarnessOptions, OptionsError, default_kubespawner_version
from harness.versions import KUBESPAWNER_MATRIX, default_jupyterhub_for


def test_defaults(tmp_path: Path) -> None:
    options = HarnessOptions.resolve({}, {}, base_dir=tmp_path)
    assert options.cluster == "embedded"
    assert options.keep_cluster is False
    assert options.kubespawner_version == default_kubespawner_version()
    assert options.jupyterhub_version == default_jupyterhub_for(options.kubespawner_version)
    assert options.reports_dir == tmp_path / "reports"
    assert options.scenario_paths == ()


def test_default_kubespawner_is_installed_or_newest_in_matrix() -> None:
    from harness.options import installed_kubespawner

    expected = installed_kubespawner() or KUBESPAWNER_MATRIX[-1]
    assert default_kubespawner_version() == expected


def test_environment_twins(tmp_path: Path) -> None:
    env = {
        "JHSC_CLUSTER": "existing",
        "JHSC_KEEP_CLUSTER": "yes",
        "JHSC_KUBESPAWNER_VERSION": "6.2.0",
        "JHSC_STORAGE_SCENARIOS": "a:/abs/b",
        "JHSC_KUBECONFIG": "kc",
        "JHSC_HUB_URL": "http://hub",
        "JHSC_HUB_TOKEN": "t",
        "JHSC_ALLOW_CLUSTER_RESTART": "0",
    }
    options = HarnessOptions.resolve({}, env, base_dir=tmp_path)
    assert options.cluster == "existing"
    assert options.keep_cluster is True
    assert options.versions.slug == "kubespawner-6.2.0-jupyterhub-5.5.4"
    assert options.scenario_paths == (tmp_path / "a", Path("/abs/b"))
    assert options.kubeconfig == tmp_path / "kc"
    assert options.allow_cluster_restart is False


def test_command_line_beats_environment(tmp_path: Path) -> None:
    env = {"JHSC_CLUSTER": "kind", "JHSC_KUBESPAWNER_VERSION": "6.2.0", "JHSC_JUPYTERHUB_VERSION": "5.0.0"}
    cli = {"cluster": "embedded", "kubespawner_version": "7.0.0", "keep_cluster": None}
    options = HarnessOptions.resolve(cli, env, base_dir=tmp_path)
    assert (options.cluster, options.kubespawner_version, options.jupyterhub_version) == (
        "embedded",
        "7.0.0",
        "5.0.0",
    )


@pytest.mark.parametrize(
    ("cli", "env", "message"),
    [
        (
            {},
            {"JHSC_CLUSTER": "minikube"},
            "JHSC_CLUSTER='minikube': 'minikube' is not one of embedded, kind",
        ),
        ({"cluster": "minikube"}, {}, "--cluster: 'minikube' is not one of"),
        ({}, {"JHSC_KEEP_CLUSTER": "maybe"}, "JHSC_KEEP_CLUSTER='maybe': expected one of 1/true/yes/on"),
        ({"kubespawner_version": "latest"}, {}, "--kubespawner-version: 'latest' is not a version"),
        ({"hub_url": "http://hub", "cluster": "existing"}, {}, "--hub-url and --hub-token go together"),
        ({"hub_url": "http://hub", "hub_token": "t"}, {}, "--hub-url drives a hub on a cluster you run"),
        ({}, {"JHSC_IMAGE_PULL_POLICY": "Sometimes"}, "JHSC_IMAGE_PULL_POLICY='Sometimes'"),
    ],
)
def test_invalid_values_name_their_source(cli: dict[str, str], env: dict[str, str], message: str) -> None:
    with pytest.raises(OptionsError, match=message.replace("(", r"\(").replace("?", r"\?")):
        HarnessOptions.resolve(cli, env)


def test_every_option_has_a_field_flag_and_env_twin() -> None:
    fields = set(HarnessOptions.__dataclass_fields__)
    for spec in OPTION_SPECS:
        assert spec.field in fields
        assert spec.flag.startswith("--")
        assert spec.env == "JHSC_" + spec.flag[2:].upper().replace("-", "_")


def test_options_are_frozen() -> None:
    options = HarnessOptions()
    with pytest.raises(AttributeError):
        options.cluster = "kind"  # type: ignore[misc]


# --------------------------------------------------------------------------------- session cluster
class _Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[str] = []
        self.fail = fail

    def factory(self, options: HarnessOptions) -> _RecordingCluster:
        self.calls.append("make")
        return _RecordingCluster(self)


class _RecordingCluster:
    """Stands in for a backend: SessionCluster only calls start/stop."""

    def __init__(self, recorder: _Recorder) -> None:
        self.recorder = recorder

    def start(self) -> None:
        self.recorder.calls.append("start")
        if self.recorder.fail:
            raise ClusterError("no bridge")

    def stop(self) -> None:
        self.recorder.calls.append("stop")


def test_session_cluster_starts_once_and_stops_once() -> None:
    recorder = _Recorder()
    session = SessionCluster(HarnessOptions(), recorder.factory)  # type: ignore[arg-type]
    assert session.started is None
    first = session.get()
    assert session.get() is first and session.started is first
    session.close()
    session.close()
    assert recorder.calls == ["make", "start", "stop"]


def test_session_cluster_kept_when_asked() -> None:
    recorder = _Recorder()
    session = SessionCluster(HarnessOptions(keep_cluster=True), recorder.factory)  # type: ignore[arg-type]
    session.get()
    session.close()
    assert recorder.calls == ["make", "start"]


def test_session_cluster_never_started_is_not_stopped() -> None:
    recorder = _Recorder()
    SessionCluster(HarnessOptions(), recorder.factory).close()  # type: ignore[arg-type]
    assert recorder.calls == []


def test_failed_start_is_cleaned_up_and_remembered() -> None:
    recorder = _Recorder(fail=True)
    session = SessionCluster(HarnessOptions(), recorder.factory)  # type: ignore[arg-type]
    with pytest.raises(ClusterError, match="no bridge"):
        session.get()
    with pytest.raises(ClusterError, match="failed to start earlier: no bridge"):
        session.get()
    session.close()
    assert recorder.calls == ["make", "start", "stop"]


def test_unknown_or_unavailable_backend_is_a_cluster_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ClusterError, match="unknown cluster backend 'nope'"):
        backend_class("nope")
    monkeypatch.setitem(clusters.BACKENDS, "kind", "harness_no_such_module:KindBackend")
    with pytest.raises(ClusterError, match=r"backend 'kind' is not available: .*\[kind\]"):
        backend_class("kind")


def test_backends_resolve_to_cluster_classes() -> None:
    assert backend_class("embedded").__name__ == "EmbeddedBackend"
    assert backend_class("existing").backend == "existing"


def test_backend_names_are_listed_once() -> None:
    """--cluster's choices are the backend table's names, and each class calls itself by its name."""
    from harness.options import BACKENDS

    assert BACKENDS == tuple(clusters.BACKENDS) == ("embedded", "kind", "existing")
    pytest.importorskip("pytest_kind")
    assert {name: backend_class(name).backend for name in clusters.BACKENDS} == {n: n for n in BACKENDS}


def test_readme_documents_every_option() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for spec in OPTION_SPECS:
        assert f"| `{spec.flag}" in readme, f"README options table lacks {spec.flag}"
        assert f"`{spec.env}`" in readme, f"README options table lacks {spec.env}"
