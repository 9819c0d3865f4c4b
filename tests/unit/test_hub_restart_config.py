"""A restart with a config change: new ConfigMap and new image in ONE rollout; the config in force moves."""

from __future__ import annotations

from typing import Any

import pytest
from kube_fakes import WatchOnce

from harness.clusters.base import HubVersions, Images
from harness.hub import deploy, manifests
from harness.hub.config import HubConfigInput, render_hub_config
from harness.hub.deployed import DeployedHub
from harness.hub.settings import ConfigChange, HubSettings


class FakeApi:
    """Records patches; the hub pod is replaced once per patch/delete (as the Deployment would)."""

    def __init__(self, kube: FakeKube) -> None:
        self.kube = kube

    def patch_namespaced_config_map(self, name: str, namespace: str, body: dict[str, Any]) -> None:
        self.kube.calls.append(("configmap", name, body))

    def patch_namespaced_deployment(self, name: str, namespace: str, body: dict[str, Any]) -> None:
        self.kube.calls.append(("deployment", name, body))
        self.kube.generation += 1

    def delete_namespaced_pod(self, name: str, namespace: str) -> None:
        self.kube.calls.append(("delete pod", name, {}))
        self.kube.generation += 1


class FakeKube(WatchOnce):
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.generation = 0
        self.core = self.apps = FakeApi(self)

    def list(self, kind: str, namespace: str | None, selector: str | None = None) -> list[dict[str, Any]]:
        assert kind == "pod"
        return [{"metadata": {"name": "hub-x", "uid": f"uid-{self.generation}"}}]

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
        status = {"updatedReplicas": 1, "readyReplicas": 1, "replicas": 1, "observedGeneration": 1}
        return {"metadata": {"generation": 1}, "status": status}


def test_deploy_restart_with_config_and_image_is_one_deployment_patch() -> None:
    kube = FakeKube()
    deploy.restart_hub(kube, "ns", "hub:7.1.0", config_text="c = 1\n")  # type: ignore[arg-type]
    assert [c[0] for c in kube.calls] == ["configmap", "deployment"]
    assert kube.calls[0][2] == {"data": {"jupyterhub_config.py": "c = 1\n"}}
    template = kube.calls[1][2]["spec"]["template"]
    assert template["spec"]["containers"] == [{"name": "hub", "image": "hub:7.1.0"}]
    assert template["metadata"]["annotations"] == {
        manifests.CONFIG_SHA_ANNOTATION: manifests.config_sha("c = 1\n")
    }


def test_deploy_restart_config_only_rolls_by_the_checksum_and_plain_restart_deletes_the_pod() -> None:
    kube = FakeKube()
    deploy.restart_hub(kube, "ns", config_text="c = 2\n")  # type: ignore[arg-type]
    assert "spec" not in kube.calls[1][2]["spec"]["template"]
    kube.calls.clear()
    deploy.restart_hub(kube, "ns")  # type: ignore[arg-type]
    assert [c[0] for c in kube.calls] == ["delete pod"]


class FakeCluster:
    def images(self, versions: HubVersions) -> Images:
        return Images(hub=f"hub:{versions.kubespawner}", proxy="p", singleuser="s:old", reader="r")


def _deployed(monkeypatch: pytest.MonkeyPatch) -> tuple[DeployedHub, list[dict[str, Any]]]:
    restarts: list[dict[str, Any]] = []
    monkeypatch.setattr(
        deploy,
        "restart_hub",
        lambda kube, ns, image=None, config_text=None: restarts.append(
            {"image": image, "config": config_text}
        ),
    )
    hub = DeployedHub(
        cluster=FakeCluster(),  # type: ignore[arg-type]
        versions=HubVersions("6.2.0", "5.5.4"),
        kube_=None,  # type: ignore[arg-type]
        namespace_="ns",
        config=HubSettings({"storage_capacity": "1Gi"}, {}),
    )
    hub._config_input = HubConfigInput("ns", "s:old", "IfNotPresent", {"storage_capacity": "1Gi"}, {})
    hub.deployment = deploy.HubDeployment("ns", "token", render_hub_config(hub._config_input))
    monkeypatch.setattr(DeployedHub, "_check_versions", lambda self: None)
    return hub, restarts


def test_deployed_hub_restart_renders_the_changed_config_and_moves_the_config_in_force(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub, restarts = _deployed(monkeypatch)
    diffs = hub.restart_hub(
        HubVersions("7.1.0", "6.1.1"),
        ConfigChange(
            kubespawner_set={"pvc_name_template": "claim-{username}"}, kubespawner_unset=("storage_capacity",)
        ),
    )
    assert [d.text() for d in diffs] == [
        "set pvc_name_template: 'claim-{username}' (was not set)",
        "unset storage_capacity (was '1Gi')",
    ]
    assert len(restarts) == 1 and restarts[0]["image"] == "hub:7.1.0"
    text = restarts[0]["config"]
    assert "'pvc_name_template': 'claim-{username}'" in text and "storage_capacity" not in text
    assert "'image': 's:old'" in text  # the single-user image stays what was deployed
    assert hub.config.kubespawner == {"pvc_name_template": "claim-{username}"}
    assert hub.versions == HubVersions("7.1.0", "6.1.1")
    assert hub.deployment is not None and hub.deployment.config_text == text  # what diagnostics show
    # a second change starts from the first one's result
    hub.restart_hub(None, ConfigChange(kubespawner_set={"storage_capacity": "2Gi"}))
    assert hub.config.kubespawner == {"pvc_name_template": "claim-{username}", "storage_capacity": "2Gi"}
    assert restarts[1]["image"] is None and "'storage_capacity': '2Gi'" in restarts[1]["config"]


def test_a_restart_without_a_change_keeps_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    hub, restarts = _deployed(monkeypatch)
    assert hub.restart_hub(None, None) == []
    assert restarts == [{"image": None, "config": None}]
    assert hub.config.kubespawner == {"storage_capacity": "1Gi"}
