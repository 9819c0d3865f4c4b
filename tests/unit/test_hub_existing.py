"""The existing backend and the existing-hub target: image templates, restart gating, reserved user names."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.clusters.base import ClusterError, HubVersions
from harness.clusters.existing import ExistingBackend, format_image
from harness.hub.target import ExistingHub
from harness.options import HarnessOptions

V = HubVersions(kubespawner="7.1.0", jupyterhub="6.1.1")


def _backend(**kw: object) -> ExistingBackend:
    return ExistingBackend(HarnessOptions(cluster="existing", kubeconfig=Path("/nonexistent"), **kw))  # type: ignore[arg-type]


def test_image_placeholders() -> None:
    assert format_image("r/hub:ks-{kubespawner}-jh-{jupyterhub}", V) == "r/hub:ks-7.1.0-jh-6.1.1"
    assert format_image("r/hub:{other}", V) == "r/hub:{other}"


def test_images_default_proxy_to_hub_and_need_hub_and_singleuser() -> None:
    images = _backend(hub_image="h:{kubespawner}", singleuser_image="s:1", image_pull_policy="Never").images(
        V
    )
    assert (images.hub, images.proxy, images.singleuser, images.pull_policy) == (
        "h:7.1.0",
        "h:7.1.0",
        "s:1",
        "Never",
    )
    with pytest.raises(ClusterError, match="--hub-image"):
        _backend(singleuser_image="s:1").images(V)


def test_restart_needs_permission_and_a_command() -> None:
    assert "--allow-cluster-restart" in (_backend().restart_unsupported_reason() or "")
    assert "--cluster-restart-command" in (
        _backend(allow_cluster_restart=True).restart_unsupported_reason() or ""
    )
    assert (
        _backend(allow_cluster_restart=True, cluster_restart_command="true").restart_unsupported_reason()
        is None
    )
    with pytest.raises(ClusterError):
        _backend().restart()


def test_start_explains_a_missing_kubeconfig() -> None:
    with pytest.raises(ClusterError, match="does not exist"):
        _backend().start()


def test_existing_hub_only_uses_reserved_user_names() -> None:
    hub = ExistingHub(url="http://hub", token="t", scenario_users=("alice", "al", "carol_x"))
    assert hub.user_name("alice") == "jhsc-alice"
    assert hub.user_name("jhsc-bob") == "jhsc-bob"
    assert hub.object_name("claim-alice--work") == "claim-jhsc-alice--work"
    assert hub.object_name("claim-al") == "claim-jhsc-al"
    assert hub.object_name("claim-jupyterhub-single") == "claim-jupyterhub-single"
    assert "restart_hub" in (hub.unsupported_reason("restart_hub") or "")
    assert "--hub-namespace" in (hub.unsupported_reason("expect_pvc") or "")
    assert hub.unsupported_reason("start") is None
