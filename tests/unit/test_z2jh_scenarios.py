"""z2jh chart values as scenario input: loading (inline and values_file), releases, config layering,
the harness's essentials over the chart's, and the upgrade_chart step against a fake target."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness import runner
from harness.clusters.base import HubVersions
from harness.hub import deploy
from harness.hub.config import HubConfigInput, merged_config
from harness.hub.config_diff import diff_configs
from harness.hub.settings import ConfigChange
from harness.scenario import ScenarioError, load_scenario, parse_scenario
from harness.steps import upgrade_chart
from harness.steps.chart import chart_settings, chart_versions
from harness.steps.context import StepContext

MATRIX = HubVersions("7.1.0", "6.1.1")

SCENARIO = """\
name: chart
description: chart 3.3.8 then 4.4.0
z2jh:
  chart: "3.3.8"
  values:
    hub: {allowNamedServers: true}
    singleuser:
      storage: {capacity: 1Gi}
kubespawner:
  working_dir: /home/jovyan
  storage_capacity: 2Gi
users: [{name: alice}]
steps:
  - start: {user: alice}
  - upgrade_chart: {chart: "4.4.0", values_file: values/prod.yaml, kubespawner: under-test}
"""

PROD = """\
hub:
  allowNamedServers: true
  config:
    JupyterHub: {authenticator_class: github}
    KubeSpawner: {image: "quay.io/jupyter/base-notebook:x", delete_pvc: false}
singleuser:
  storage: {capacity: 1Gi}
proxy: {secretToken: x}
"""


def _load(tmp_path: Path, text: str = SCENARIO, prod: str = PROD) -> Any:
    (tmp_path / "values").mkdir(exist_ok=True)
    (tmp_path / "values" / "prod.yaml").write_text(prod)
    (tmp_path / "chart.yaml").write_text(text)
    return load_scenario(tmp_path / "chart.yaml", display="scenarios/chart.yaml")


def test_inline_values_are_mapped_by_the_loader(tmp_path: Path) -> None:
    scenario = _load(tmp_path)
    assert scenario.z2jh.values_source == "inline values"
    config = scenario.z2jh.config
    assert config.chart == "3.3.8"
    assert config.kubespawner["pvc_name_template"] == "claim-{username}{servername}"
    assert config.kubespawner["storage_capacity"] == "1Gi"
    assert config.hub_config["JupyterHub.allow_named_servers"] is True


def test_values_file_is_read_relative_to_the_scenario_file(tmp_path: Path) -> None:
    step = _load(tmp_path).steps[1]
    assert step.kind == "upgrade_chart"
    assert step.body.values_source == "values_file scenarios/values/prod.yaml"
    assert step.body.config.kubespawner["volumes"]["volume-{user_server}"]["persistentVolumeClaim"] == {
        "claimName": "{pvc_name}"
    }
    assert step.body.config.ignored == ("proxy",)


def test_errors_in_a_values_file_name_that_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        _load(tmp_path, prod="singleuser:\n  storage:\n    capcity: 1Gi\n")
    assert str(info.value) == (
        "scenarios/values/prod.yaml:3:5: singleuser.storage.capcity: unknown key (did you mean 'capacity'?)"
    )


def test_a_null_or_empty_values_file_means_the_chart_defaults(tmp_path: Path) -> None:
    assert (
        _load(tmp_path, prod="# nothing\n").steps[1].body.config.hub_config["JupyterHub.allow_named_servers"]
        is False
    )


def test_a_scenario_without_values_uses_the_chart_defaults() -> None:
    scenario = parse_scenario(
        "name: d\ndescription: d\nz2jh: {chart: '4.0.0'}\nusers: [{name: a}]\nsteps: [{stop: {user: a}}]\n"
    )
    assert scenario.z2jh.values_source == "inline values"
    assert "pvc_name_template" not in scenario.z2jh.config.kubespawner  # 4.x: KubeSpawner's own default


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({}, HubVersions("6.2.0", "4.1.6"), id="the-chart-pins"),
        pytest.param({"kubespawner": "under-test"}, HubVersions("7.1.0", "4.1.6"), id="ks-under-test"),
        pytest.param({"kubespawner": "under-test", "jupyterhub": "under-test"}, MATRIX, id="both-under-test"),
        pytest.param({"jupyterhub": "5.5.4"}, HubVersions("6.2.0", "5.5.4"), id="exact-jupyterhub"),
    ],
)
def test_chart_versions(fields: dict[str, str], expected: HubVersions) -> None:
    spec = parse_scenario(
        "name: v\ndescription: v\nz2jh: {chart: '3.3.8'}\nusers: [{name: a}]\nsteps: [{stop: {user: a}}]\n"
    ).z2jh
    assert chart_versions(spec.model_copy(update=fields), MATRIX) == expected


def test_the_deploy_runs_the_chart_releases_and_needs_a_harness_hub(tmp_path: Path) -> None:
    scenario = _load(tmp_path)
    ctx = SimpleNamespace(versions=MATRIX)
    assert runner.initial_versions(scenario, ctx) == HubVersions("6.2.0", "4.1.6")  # type: ignore[arg-type]
    assert runner.not_applicable_reason(scenario, MATRIX) is None
    reason = runner.not_applicable_reason(scenario, MATRIX, existing_hub=True)
    assert reason == "chart configures the hub from z2jh chart 3.3.8 values: needs a hub the harness deploys"


def test_the_scenario_config_goes_on_top_and_the_harness_essentials_win(tmp_path: Path) -> None:
    scenario = _load(tmp_path)
    step = scenario.steps[1].body
    settings = chart_settings(step, scenario)
    assert settings.kubespawner["storage_capacity"] == "2Gi"  # the scenario's, over the chart's 1Gi
    assert settings.kubespawner["working_dir"] == "/home/jovyan"
    assert settings.kubespawner["delete_pvc"] is False  # hub.config.KubeSpawner passes through
    assert "image" not in settings.kubespawner
    assert "JupyterHub.authenticator_class" not in settings.hub_config
    assert settings.kept == (
        "KubeSpawner.image = 'quay.io/jupyter/base-notebook:x'",
        "JupyterHub.authenticator_class = 'github'",
    )
    effective = merged_config(
        HubConfigInput("ns", "harness/singleuser:1", "Never", settings.kubespawner, settings.hub_config)
    )
    assert effective["JupyterHub"]["authenticator_class"] == "jupyterhub.auth.DummyAuthenticator"
    assert effective["KubeSpawner"]["image"] == "harness/singleuser:1"
    assert effective["JupyterHub"]["allow_named_servers"] is True  # the chart's value, not only by default
    assert effective["JupyterHub"]["upgrade_db"] is True  # the chart's --upgrade-db for sqlite-pvc


def test_the_charts_default_hub_config_does_not_replace_the_harness_authenticator() -> None:
    scenario = parse_scenario(
        "name: d\ndescription: d\nz2jh: {chart: '3.3.8'}\nusers: [{name: a}]\nsteps: [{stop: {user: a}}]\n"
    )
    settings = chart_settings(scenario.z2jh, scenario)
    assert settings.kept == ("JupyterHub.authenticator_class = 'dummy'",)
    assert settings.hub_config["JupyterHub.admin_access"] is True  # harmless: passes through
    assert settings.hub_config["JupyterHub.allow_named_servers"] is False  # the chart's default wins


def test_diff_names_the_changed_leaves() -> None:
    before = {
        "KubeSpawner": {
            "pvc_name_template": "claim-{username}{servername}",
            "common_labels": {"chart": "jupyterhub-3.3.8", "heritage": "jupyterhub"},
            "volumes": [{"name": "home", "persistentVolumeClaim": {"claimName": "claim-{username}"}}],
            "uid": 1000,
        },
        "JupyterHub": {"allow_named_servers": False},
    }
    after = {
        "KubeSpawner": {
            "common_labels": {"chart": "jupyterhub-4.4.0", "app.kubernetes.io/name": "jupyterhub"},
            "volumes": [{"name": "home", "persistentVolumeClaim": {"claimName": "{pvc_name}"}}],
            "uid": 1000,
        },
        "JupyterHub": {"allow_named_servers": True},
    }
    assert diff_configs(before, after) == [
        "JupyterHub.allow_named_servers: False -> True",
        "common_labels.chart: 'jupyterhub-3.3.8' -> 'jupyterhub-4.4.0'",
        "common_labels.heritage: 'jupyterhub' -> not set",
        "common_labels['app.kubernetes.io/name']: not set -> 'jupyterhub'",
        "pvc_name_template: 'claim-{username}{servername}' -> not set",
        "volumes[0].persistentVolumeClaim.claimName: 'claim-{username}' -> '{pvc_name}'",
    ]
    assert diff_configs(before, before) == []


class _Target:
    """What upgrade_chart uses of a hub target: versions, effective config, one restart."""

    def __init__(self, versions: HubVersions, kubespawner: dict[str, Any], hub_config: dict[str, Any]):
        self.versions, self.description = versions, "fake hub"
        self.input = HubConfigInput("ns", "s", "Never", kubespawner, hub_config)
        self.restarts: list[tuple[HubVersions | None, dict[str, Any], dict[str, Any]]] = []
        self.hub = SimpleNamespace(get_user=lambda name: {"servers": {}})

    def effective_config(self) -> dict[str, dict[str, Any]]:
        return merged_config(self.input)

    def restart_hub(self, versions: HubVersions | None, change: ConfigChange | None = None) -> list[Any]:
        assert change is not None and change.replace is not None
        kubespawner_config, hub_config = dict(change.replace.kubespawner), dict(change.replace.hub_config)
        self.restarts.append((versions, kubespawner_config, hub_config))
        self.input = HubConfigInput("ns", "s", "Never", kubespawner_config, hub_config)
        if versions is not None:
            self.versions = versions
        return []

    def user_name(self, name: str) -> str:
        return name


def test_upgrade_chart_restarts_once_with_the_new_mapping_and_releases(tmp_path: Path) -> None:
    scenario = _load(tmp_path)
    first = chart_settings(scenario.z2jh, scenario)
    target = _Target(HubVersions("6.2.0", "4.1.6"), first.kubespawner, first.hub_config)
    run = SimpleNamespace(versions=MATRIX)
    ctx = StepContext(scenario=scenario, run=run, target=target)  # type: ignore[arg-type]
    note = upgrade_chart.run(scenario.steps[1], ctx)
    [(versions, kubespawner, _)] = target.restarts
    assert versions == HubVersions("7.1.0", "5.5.0")  # under-test KubeSpawner, the new chart's JupyterHub
    assert target.versions == versions  # gates after the step follow the new releases
    home = kubespawner["volumes"]["volume-{user_server}"]
    assert home["persistentVolumeClaim"]["claimName"] == "{pvc_name}"
    assert "releases: kubespawner 6.2.0 -> 7.1.0, jupyterhub 4.1.6 -> 5.5.0" in note
    assert "pvc_name_template: 'claim-{username}{servername}' -> not set" in note
    assert "KubeSpawner.delete_pvc" not in note and "delete_pvc: not set -> False" in note
    assert (
        "harness essentials kept over the chart's KubeSpawner.image = 'quay.io/jupyter/base-notebook:x', "
        "JupyterHub.authenticator_class = 'github'"
    ) in note
    assert note.endswith("running after restart: none")


class _Api:
    def __init__(self, calls: list[tuple[str, Any]]) -> None:
        self.calls = calls

    def __getattr__(self, name: str) -> Any:
        return lambda *args: self.calls.append((name, args[-1]))


def test_restart_with_a_new_config_updates_the_configmap_and_rolls_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[str, Any]] = []
    kube = SimpleNamespace(core=_Api(calls), apps=_Api(calls))
    monkeypatch.setattr(deploy, "hub_pod_uids", lambda kube, ns: {"old"})
    monkeypatch.setattr(deploy, "wait_hub_pods_gone", lambda *args, **kw: None)
    monkeypatch.setattr(deploy, "wait_deployment_ready", lambda *args, **kw: None)
    deploy.restart_hub(kube, "ns", "hub:7", config_text="c = 1\n")  # type: ignore[arg-type]
    [(configmap_call, data), (deployment_call, patch)] = calls
    assert configmap_call == "patch_namespaced_config_map"
    assert data == {"data": {"jupyterhub_config.py": "c = 1\n"}}
    assert deployment_call == "patch_namespaced_deployment"
    template = patch["spec"]["template"]
    assert template["spec"]["containers"] == [{"name": "hub", "image": "hub:7"}]
    assert set(template["metadata"]["annotations"]) == {"jupyterhub-storage-conformance/config-sha"}


def test_readme_z2jh_example_is_a_valid_scenario() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    [example] = [block.split("```", 1)[0] for block in readme.split("```yaml\n")[1:] if "\nz2jh:\n" in block]
    scenario = parse_scenario(example, "README.md")
    assert scenario.z2jh.config.chart == "3.3.8"
    assert {step.kind for step in scenario.steps} >= {"upgrade_chart", "expect_file", "expect_pvc"}
