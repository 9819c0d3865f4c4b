"""The existing backend and the existing-hub target: image templates, restart gating, reserved user names."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from kube_fakes import WatchOnce

from harness.clusters.base import ClusterError, HubVersions
from harness.clusters.existing import ExistingBackend
from harness.clusters.images_common import format_image
from harness.clusters.kube import WaitTimeout
from harness.clusters.nodes import nodes_problem, ready_heartbeats
from harness.hub import slugs
from harness.hub.existing import ExistingHub
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


def _node(ready: str, heartbeat: str = "t0") -> dict[str, Any]:
    condition = {"type": "Ready", "status": ready, "lastHeartbeatTime": heartbeat}
    return {"metadata": {"name": "n"}, "status": {"conditions": [condition]}}


@pytest.mark.parametrize(
    ("nodes", "before", "problem"),
    [
        ([], None, "no nodes registered"),
        ([_node("True"), _node("False")], None, "n not Ready"),
        ([_node("True")], None, None),
        ([_node("True", "t0")], {"n": "t0"}, "kubelet has not reported since the restart"),  # stale Ready
        ([_node("True", "t1")], {"n": "t0"}, None),  # the kubelet's report after the restart
        ([_node("Unknown", "t1")], {"n": "t0"}, "n not Ready"),
    ],
)
def test_nodes_are_back_when_all_are_ready_with_a_fresh_report(
    nodes: list[dict[str, Any]], before: dict[str, str | None] | None, problem: str | None
) -> None:
    found = nodes_problem(nodes, before)
    assert found == problem if problem is None else problem in (found or "")
    assert ready_heartbeats([_node("True", "t9")]) == {"n": "t9"}


class _RestartingKube(WatchOnce):
    """The API refuses once after the restart; nodes carry ``heartbeats`` in turn (before, after)."""

    def __init__(self, heartbeats: list[str]) -> None:
        self.heartbeats, self.refusals = heartbeats, 1
        self.core = self

    def list_namespace(self, limit: int) -> None:
        if self.refusals:
            self.refusals -= 1
            raise ConnectionRefusedError("down")

    def list(self, kind: str, namespace: str | None = None, selector: str | None = None) -> list[Any]:
        beat = self.heartbeats.pop(0) if len(self.heartbeats) > 1 else self.heartbeats[0]
        return [_node("True", beat)]


def _restart(kube: _RestartingKube) -> list[_RestartingKube]:
    backend = _backend(allow_cluster_restart=True, cluster_restart_command="true")
    clients: list[_RestartingKube] = []

    def new_client(*args: Any) -> _RestartingKube:
        clients.append(kube)
        return kube

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("harness.clusters.existing.Kube.from_kubeconfig", new_client)
        mp.setattr("harness.clusters.kube.time.sleep", lambda s: None)
        backend.restart()
    return clients


def test_restart_polls_only_for_the_api_server_then_watches_for_fresh_node_reports() -> None:
    """A restarted API server that refuses at first gets a new client; the nodes are watched."""
    kube = _RestartingKube(["t0", "t1"])
    clients = _restart(kube)
    assert len(clients) == 3, "one client before the restart, the refused one, its replacement"
    what = "the API server and every node to report Ready again after the restart"
    assert kube.watched == [(what, "node", None)]


def test_a_node_still_ready_from_before_the_restart_is_not_back() -> None:
    """A restart command that returns at once leaves the old Ready condition: it must not count."""
    with pytest.raises(WaitTimeout, match="kubelet has not reported since the restart"):
        _restart(_RestartingKube(["t0"]))


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
    hub = ExistingHub(url="http://hub", token="t", versions=V, scenario_users=("alice", "al", "carol_x"))
    assert hub.user_name("alice") == "jhsc-alice"
    assert hub.user_name("jhsc-bob") == "jhsc-bob"
    assert hub.object_name("claim-alice--work") == "claim-jhsc-alice--work"
    assert hub.object_name("claim-al") == "claim-jhsc-al"
    assert hub.object_name("claim-jupyterhub-single") == "claim-jupyterhub-single"
    assert "restart_hub" in (hub.unsupported_reason("restart_hub") or "")
    assert "--namespace" in (hub.unsupported_reason("expect_pvc") or "")
    assert hub.unsupported_reason("start") is None


# ------------------------------------------------------------------------ KubeSpawner name slugs
NAMES = ["alice", "jhsc-alice", "carol_x", "jhsc-carol_x", "Bob", "a--b", "9lives", "é", "x" * 60, ""]
SERVERS = ["", "work", "Work", "my server", "s" * 40]


def _kubespawner_expand(user: str, server: str, scheme: str) -> dict[str, str]:
    """KubeSpawner's own template expansion, called on a stand-in with just what it reads."""
    kubespawner = pytest.importorskip("kubespawner")
    fake = SimpleNamespace(
        slug_scheme=scheme,
        name=server,
        user=SimpleNamespace(name=user, id=1),
        _namespace_default=lambda: "ns",
    )
    out = kubespawner.KubeSpawner._expand_user_properties(fake, "{username}|{servername}|{user_server}")
    return dict(zip(("username", "servername", "user_server"), out.split("|"), strict=True))


@pytest.mark.parametrize("scheme", slugs.SCHEMES)
def test_template_values_match_kubespawner(scheme: str) -> None:
    for user in [n for n in NAMES if n]:
        for server in SERVERS:
            assert slugs.template_values(user, server, scheme) == _kubespawner_expand(user, server, scheme), (
                user,
                server,
            )


def test_slug_functions_match_kubespawner() -> None:
    real = pytest.importorskip("kubespawner.slugs")
    for name in NAMES:
        assert slugs.escape_slug(name) == real.escape_slug(name), name
        if name:
            assert slugs.safe_slug(name) == real.safe_slug(name), name


def test_default_scheme_follows_the_kubespawner_major() -> None:
    assert slugs.default_scheme("6.2.0") == "escape"
    assert slugs.default_scheme("7.0.0") == "safe"
    assert slugs.default_scheme("7.1.0") == "safe"


def test_hashed_and_escaped_slugs_are_mapped() -> None:
    hub = ExistingHub(
        url="http://hub",
        token="t",
        versions=V,
        scenario_users=("carol_x", "alice"),
        scenario_servers=("", "work"),
    )
    carol, mapped = (
        _kubespawner_expand("carol_x", "", "safe"),
        _kubespawner_expand("jhsc-carol_x", "", "safe"),
    )
    assert carol["username"].startswith("carol-x---")
    assert hub.object_name(f"claim-{carol['username']}") == f"claim-{mapped['username']}"
    named = _kubespawner_expand("carol_x", "work", "safe")["user_server"]
    assert (
        hub.object_name(f"claim-{named}")
        == "claim-" + _kubespawner_expand("jhsc-carol_x", "work", "safe")["user_server"]
    )
    hub.slug_scheme = "escape"
    assert hub.object_name("claim-alice") == "claim-jhsc-2dalice"
    assert hub.object_name("claim-carol-5fx") == "claim-jhsc-2dcarol-5fx"
    assert hub.object_name("claim-alicex") == "claim-alicex"


class _StateHub:
    """Answers get_user like a hub whose spawner state records each server's PVC."""

    def __init__(self, pvcs: dict[str, str]) -> None:
        self.pvcs = pvcs

    def get_user(self, user: str, include_stopped: bool = False) -> dict[str, Any] | None:
        assert include_stopped
        if user not in self.pvcs:
            return None
        return {"name": user, "servers": {"": {"state": {"pvc_name": self.pvcs[user]}}}}


def test_resolve_name_learns_the_scheme_from_the_hub_and_explains_the_mapping() -> None:
    hub = ExistingHub(url="http://hub", token="t", versions=V, scenario_users=("alice",))
    assert hub.resolve_name("claim-alice").hub == "claim-jhsc-alice"  # no evidence yet: assumed 'safe'
    hub._client = _StateHub({"jhsc-alice": "claim-jhsc-2dalice"})  # type: ignore[assignment]
    name = hub.resolve_name("claim-alice")
    assert (name.scenario, name.hub, hub.slug_scheme) == ("claim-alice", "claim-jhsc-2dalice", "escape")
    note = name.failure_note()
    assert "claim-alice was mapped to claim-jhsc-2dalice" in note
    assert "'escape'" in note and "jhsc-alice/: claim-jhsc-2dalice" in note
    assert name.progress_note() == "; as claim-jhsc-2dalice (mapped from claim-alice)"
    unmapped = hub.resolve_name("claim-nobody").failure_note()
    assert unmapped.startswith(" [scenario name claim-nobody was used unmapped: it contains none"), unmapped
    assert "records PVC(s) jhsc-alice/: claim-jhsc-2dalice" in unmapped
    hub._client = None


# ------------------------------------------------------------------- diagnostics of someone's hub
def _obj(name: str, user: str | None = None, label_only: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if user is not None:
        meta["labels" if label_only else "annotations"] = {"hub.jupyter.org/username": user}
    return {"metadata": meta, "spec": {"containers": [{"name": "c"}]}, "status": {}}


class _BundleKube:
    """Lists a staging namespace: hub, the run's user, and a team member's server and PVC."""

    objects = {
        "pod": [_obj("hub"), _obj("jupyter-jhsc-alice", "jhsc-alice"), _obj("jupyter-staff", "staff")],
        "pvc": [
            _obj("hub-db"),
            _obj("claim-jhsc-alice", "jhsc-alice", True),
            _obj("claim-staff", "staff", True),
        ],
        "pv": [],
        "event": [],
    }

    def list(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        return self.objects[kind]

    def logs(self, namespace: str, pod: str, container: str, previous: bool = False) -> str:
        return f"log of {pod}"


def test_diagnostics_of_an_existing_hub_leave_other_users_out(tmp_path: Path) -> None:
    from harness.checks.pods import object_user
    from harness.reports import write_bundle

    hub = ExistingHub(url="http://hub", token="t", versions=V, scenario_users=("alice",))
    assert object_user(_obj("x", "jhsc-alice")) == "jhsc-alice" and object_user(_obj("hub")) is None
    bundle = write_bundle(
        tmp_path,
        summary="s",
        kube=_BundleKube(),  # type: ignore[arg-type]
        namespace="staging",
        include=lambda obj: hub.in_diagnostics(object_user(obj)),
    )
    logs = sorted(p.name for p in (bundle / "logs").iterdir())
    assert logs == ["hub_c.log", "jupyter-jhsc-alice_c.log"]
    pvcs = (bundle / "pvcs.yaml").read_text()
    assert "claim-jhsc-alice" in pvcs and "hub-db" in pvcs and "claim-staff" not in pvcs
