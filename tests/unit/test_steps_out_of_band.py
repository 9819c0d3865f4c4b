"""Out-of-band steps (delete_pvc, delete_pod, resize_pvc, create_pv, create_pvc) against a fake cluster:
manifests, argument handling, what each reports, and that teardown removes the PVs and node
directories a run made, and only those."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from kube_fakes import WatchOnce
from kubernetes.client.exceptions import ApiException

from harness.checks.errors import CheckFailed
from harness.clusters.base import MANAGED_BY_LABEL, MANAGED_BY_VALUE, HubVersions, Images
from harness.clusters.kube import WaitTimeout
from harness.hub import deploy, static_storage
from harness.hub.deployed import DeployedHub
from harness.hub.existing import ExistingHub
from harness.hub.static_storage import RUN_NAMESPACE_LABEL, StaticVolumes
from harness.hub.target import OUT_OF_BAND_STEPS, NameMapping
from harness.options import HarnessOptions, OptionsError
from harness.scenario.loader import parse_scenario
from harness.steps import RUNNERS, StepContext, StepSkipped

IMAGES = Images(hub="h", proxy="p", singleuser="s", reader="reader:1", pull_policy="Never")
NS = "jhsc-oob-abc123"


def _status(code: int, message: str) -> ApiException:
    exc = ApiException(status=code, reason="Forbidden" if code == 403 else "Invalid")
    exc.body = json.dumps({"kind": "Status", "message": message, "code": code})
    return exc


@dataclass
class FakeCore:
    """The CoreV1Api calls the steps make, recorded; objects live in ``kube.objects``."""

    kube: FakeKube
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    refuse_patch: ApiException | None = None

    def delete_namespaced_persistent_volume_claim(self, name: str, namespace: str) -> None:
        self.calls.append(("delete pvc", name))
        pvc = self.kube.objects[("pvc", name)]
        if self.kube.pvc_after_delete is not None:
            self.kube.objects[("pvc", name)] = self.kube.pvc_after_delete
        elif pvc["metadata"].get("finalizers") and self.kube.pvc_in_use:
            pvc["metadata"]["deletionTimestamp"] = "now"
        else:
            del self.kube.objects[("pvc", name)]

    def patch_namespaced_persistent_volume_claim(
        self, name: str, namespace: str, body: Any, _content_type: str = ""
    ) -> dict[str, Any]:
        self.calls.append(("patch pvc", name, body, _content_type))
        if self.refuse_patch is not None:
            raise self.refuse_patch
        pvc = self.kube.objects[("pvc", name)]
        pvc["spec"]["resources"]["requests"].update(body["spec"]["resources"]["requests"])
        return pvc

    def delete_namespaced_pod(self, name: str, namespace: str, **kwargs: Any) -> None:
        self.calls.append(("delete pod", name, kwargs))
        if self.kube.pod_after_delete is None:
            self.kube.objects.pop(("pod", name), None)
        else:
            self.kube.objects[("pod", name)] = self.kube.pod_after_delete
        self.kube.hub.stopped = True

    def create_persistent_volume(self, body: dict[str, Any]) -> None:
        self.calls.append(("create pv", body["metadata"]["name"]))
        self.kube.objects[("pv", body["metadata"]["name"])] = body

    def delete_persistent_volume(self, name: str) -> None:
        self.calls.append(("delete pv", name))
        pv = self.kube.objects[("pv", name)]
        if self.kube.pv_bound:  # the pv-protection finalizer keeps a Bound PV
            pv["status"] = {"phase": "Bound"}
        else:
            del self.kube.objects[("pv", name)]

    def create_namespaced_persistent_volume_claim(self, namespace: str, body: dict[str, Any]) -> None:
        self.calls.append(("create pvc", body["metadata"]["name"]))
        self.kube.objects[("pvc", body["metadata"]["name"])] = body


class FakeKube(WatchOnce):
    def __init__(self, hub: FakeHub | None = None) -> None:
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.core = FakeCore(self)
        self.pods_run: list[dict[str, Any]] = []
        self.pod_phase = "Succeeded"
        self.pvc_in_use = False
        self.pv_bound = False
        #: what the pod of a delete_pod is after the delete (None: gone)
        self.pod_after_delete: dict[str, Any] | None = None
        #: a claim of the same name (another uid) made right after a delete_pvc (None: none)
        self.pvc_after_delete: dict[str, Any] | None = None
        self.hub = hub or FakeHub()

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        return self.objects.get((kind, name))

    def list(self, kind: str, namespace: str | None = None, selector: str | None = None) -> list[Any]:
        return [obj for (k, _), obj in self.objects.items() if k == kind]

    def create(self, manifest: dict[str, Any], namespace: str | None = None) -> None:
        """Only one-shot pods are created this way: they 'run' at once."""
        self.pods_run.append(manifest)
        self.objects[("pod", manifest["metadata"]["name"])] = {
            **manifest,
            "status": {"phase": self.pod_phase},
        }

    def logs(self, namespace: str, pod: str, container: str | None = None) -> str:
        return "" if self.pod_phase == "Succeeded" else "mkdir: permission denied"

    def to_dict(self, obj: Any) -> Any:
        return obj


class FakeHub:
    def __init__(self) -> None:
        self.stopped = False

    def server(self, user: str, server: str = "") -> dict[str, Any] | None:
        if self.stopped:
            return None
        return {"ready": True, "state": {"pod_name": f"jupyter-{user}"}}


class FakeTarget:
    """What the step modules use of a HubTarget."""

    def __init__(self, kube: FakeKube, static: StaticVolumes | None = None) -> None:
        self.kube, self.namespace, self.static_volumes = kube, NS, static
        self.hub = kube.hub

    def unsupported_reason(self, kind: str) -> str | None:
        return None

    def resolve_name(self, name: str) -> NameMapping:
        return NameMapping(name, name)

    def user_name(self, name: str) -> str:
        return name


def _item(yaml_step: str) -> Any:
    """The step as the loader makes it (a volume_name needs a create_pv before it)."""
    before = "  - create_pv: {name: home, size: 1Gi}\n" if "volume_name" in yaml_step else ""
    text = f"name: x\ndescription: x\nusers: [{{name: alice}}]\nsteps:\n{before}  - {yaml_step}\n"
    return parse_scenario(text).steps[-1]


def _run(yaml_step: str, kube: FakeKube, static: StaticVolumes | None = None) -> str:
    item = _item(yaml_step)
    ctx = StepContext(scenario=None, run=None, target=FakeTarget(kube, static))  # type: ignore[arg-type]
    return RUNNERS[item.kind](item, ctx)


def _pvc(name: str = "claim-alice", phase: str = "Bound") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "uid": "u1", "finalizers": ["kubernetes.io/pvc-protection"]},
        "spec": {"volumeName": "pvc-u1", "resources": {"requests": {"storage": "1Gi"}}},
        "status": {"phase": phase},
    }


# ----------------------------------------------------------------------------------------- manifests
def test_pv_manifest_is_a_labelled_retained_hostpath_volume() -> None:
    pv = static_storage.pv_manifest(
        "jhsc-x-home", "jhsc-x", "/srv/d/jhsc-x/jhsc-x-home", "1Gi", ["ReadWriteMany"], ""
    )
    assert pv["metadata"]["labels"] == {
        MANAGED_BY_LABEL: MANAGED_BY_VALUE,
        static_storage.CREATED_BY_STEP_LABEL: "create_pv",
        RUN_NAMESPACE_LABEL: "jhsc-x",
    }
    assert pv["spec"] == {
        "capacity": {"storage": "1Gi"},
        "accessModes": ["ReadWriteMany"],
        "persistentVolumeReclaimPolicy": "Retain",
        "storageClassName": "",
        "volumeMode": "Filesystem",
        "hostPath": {"path": "/srv/d/jhsc-x/jhsc-x-home", "type": "Directory"},
    }


def test_pvc_manifest_storage_class_empty_none_and_volume_name() -> None:
    static = static_storage.pvc_manifest("home", "2Gi", ["ReadWriteOnce"], "", "jhsc-x-home")
    assert static["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "2Gi"}},
        "storageClassName": "",
        "volumeName": "jhsc-x-home",
    }
    assert static["metadata"]["labels"][MANAGED_BY_LABEL] == MANAGED_BY_VALUE
    dynamic = static_storage.pvc_manifest("home", "2Gi", ["ReadWriteOnce"], None, None)
    assert "storageClassName" not in dynamic["spec"] and "volumeName" not in dynamic["spec"]


def test_node_dir_pod_runs_as_root_with_the_path_as_an_argument() -> None:
    pod = static_storage.node_dir_pod("p", "/srv/d", 'rm -rf "$1"', "/host/jhsc-x", IMAGES)
    container = pod["spec"]["containers"][0]
    assert container["command"] == ["sh", "-c", 'rm -rf "$1"', "sh", "/host/jhsc-x"]
    assert container["securityContext"] == {"runAsUser": 0, "runAsGroup": 0}
    assert (container["image"], container["imagePullPolicy"]) == ("reader:1", "Never")
    assert pod["spec"]["volumes"] == [
        {"name": "host", "hostPath": {"path": "/srv/d", "type": "DirectoryOrCreate"}}
    ]
    assert pod["metadata"]["labels"][MANAGED_BY_LABEL] == MANAGED_BY_VALUE


# -------------------------------------------------------------------------------------- static volumes
def test_create_pv_makes_the_directory_then_a_namespaced_pv() -> None:
    kube = FakeKube()
    static = StaticVolumes(kube, NS, "/srv/d", IMAGES)  # type: ignore[arg-type]
    note = _run("create_pv: {name: home, size: 1Gi, access_modes: [ReadWriteMany]}", kube, static)
    assert note == f"as {NS}-home, hostPath /srv/d/{NS}/{NS}-home"
    (pod,) = kube.pods_run
    assert pod["spec"]["containers"][0]["command"][-1] == f"/host/{NS}/{NS}-home"
    assert "chmod 0777" in pod["spec"]["containers"][0]["command"][2]
    pv = kube.objects[("pv", f"{NS}-home")]
    assert pv["spec"]["hostPath"]["path"] == f"/srv/d/{NS}/{NS}-home"
    assert static.created == [f"{NS}-home"]
    assert ("pod", pod["metadata"]["name"]) not in kube.objects  # the one-shot pod is deleted


def test_create_pv_fails_with_the_pods_log_when_the_directory_cannot_be_made() -> None:
    kube = FakeKube()
    kube.pod_phase = "Failed"
    static = StaticVolumes(kube, NS, "/srv/d", IMAGES)  # type: ignore[arg-type]
    with pytest.raises(CheckFailed, match="permission denied"):
        _run("create_pv: {name: home, size: 1Gi}", kube, static)
    assert static.created == []


def test_create_pvc_maps_volume_name_to_the_runs_pv() -> None:
    kube = FakeKube()
    static = StaticVolumes(kube, NS, "/srv/d", IMAGES)  # type: ignore[arg-type]
    _run("create_pv: {name: home, size: 1Gi}", kube, static)
    note = _run("create_pvc: {name: shared, size: 1Gi, volume_name: home}", kube, static)
    assert note == f"volumeName {NS}-home"
    assert kube.objects[("pvc", "shared")]["spec"]["volumeName"] == f"{NS}-home"


def test_create_pvc_of_a_pv_that_was_not_created_is_skipped() -> None:
    with pytest.raises(StepSkipped, match="its PV home was not created"):
        _run("create_pvc: {name: shared, size: 1Gi, volume_name: home}", FakeKube(), None)


def test_teardown_deletes_only_the_runs_labelled_pvs_and_its_directory() -> None:
    kube = FakeKube()
    static = StaticVolumes(kube, NS, "/srv/d", IMAGES)  # type: ignore[arg-type]
    static.create("a", "1Gi", ["ReadWriteOnce"], "")
    static.create("b", "1Gi", ["ReadWriteOnce"], "")
    kube.pods_run.clear()
    static.remove_dirs()
    (pod,) = kube.pods_run
    assert pod["spec"]["containers"][0]["command"][2:] == ['rm -rf "$1"', "sh", f"/host/{NS}"]
    kube.objects[("pv", f"{NS}-b")]["metadata"]["labels"][RUN_NAMESPACE_LABEL] = "someone-else"
    with pytest.raises(RuntimeError, match=f"refusing to delete PV {NS}-b"):
        static.delete_volumes(timeout=1)
    assert ("delete pv", f"{NS}-a") in kube.core.calls
    assert ("delete pv", f"{NS}-b") not in kube.core.calls


def test_teardown_watches_each_pv_until_it_is_gone_and_names_one_that_stays() -> None:
    kube = FakeKube()
    static = StaticVolumes(kube, NS, "/srv/d", IMAGES)  # type: ignore[arg-type]
    static.create("a", "1Gi", ["ReadWriteOnce"], "")
    static.delete_volumes(timeout=7)
    assert kube.watched[-1] == (f"PV {NS}-a to be deleted", "pv", f"{NS}-a")
    assert ("pv", f"{NS}-a") not in kube.objects and static.created == []
    kube.pv_bound = True
    static.create("b", "1Gi", ["ReadWriteOnce"], "")
    with pytest.raises(WaitTimeout) as timed_out:
        static.delete_volumes(timeout=7)
    assert str(timed_out.value) == (
        f"timed out after 7s waiting for PV {NS}-b to be deleted; last seen: {{'phase': 'Bound'}}"
    )


def test_nothing_created_means_no_node_pod_at_teardown() -> None:
    kube = FakeKube()
    static = StaticVolumes(kube, NS, "/srv/d", IMAGES)  # type: ignore[arg-type]
    static.remove_dirs()
    static.delete_volumes()
    assert kube.pods_run == [] and kube.core.calls == []


def test_an_unsafe_namespace_is_refused() -> None:
    with pytest.raises(ValueError, match="unsafe namespace"):
        StaticVolumes(FakeKube(), "../etc", "/srv/d", IMAGES)  # type: ignore[arg-type]


def test_deployed_hub_teardown_order_survives_a_failing_namespace_delete(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log: list[str] = []

    class Static:
        created = ["x"]

        def remove_dirs(self) -> None:
            log.append("remove dirs")

        def delete_volumes(self) -> None:
            log.append("delete pvs")

    def fail_namespace(*args: Any, **kwargs: Any) -> None:
        log.append("delete namespace")
        raise RuntimeError("namespace stuck")

    monkeypatch.setattr(deploy, "delete_workloads", lambda *a, **k: log.append("delete workloads"))
    monkeypatch.setattr(deploy, "delete_namespace", fail_namespace)
    hub = DeployedHub(
        cluster=None,  # type: ignore[arg-type]
        versions=HubVersions("7.1.0", "6.1.1"),
        kube_=FakeKube(),  # type: ignore[arg-type]
        namespace_=NS,
    )
    hub.static_volumes = Static()  # type: ignore[assignment]
    with pytest.raises(RuntimeError, match="namespace stuck"):
        hub.teardown(keep=False)
    assert log == ["delete workloads", "remove dirs", "delete namespace", "delete pvs"]
    log.clear()
    hub.teardown(keep=True)
    assert log == []


# --------------------------------------------------------------------------------------------- targets
def test_existing_hub_skips_every_out_of_band_step() -> None:
    hub = ExistingHub(url="http://hub", token="t", versions=HubVersions("7.1.0", "6.1.1"), namespace_="jh")
    for kind in OUT_OF_BAND_STEPS:
        reason = hub.unsupported_reason(kind)
        assert reason is not None and "needs a hub the harness deployed" in reason, kind


def test_deployed_hub_without_a_node_directory_skips_create_pv() -> None:
    class NoDir:
        backend = "existing"

    hub = DeployedHub(
        cluster=NoDir(),  # type: ignore[arg-type]
        versions=HubVersions("7.1.0", "6.1.1"),
        kube_=FakeKube(),  # type: ignore[arg-type]
        namespace_=NS,
    )
    assert "--host-path-dir" in str(hub.unsupported_reason("create_pv"))
    assert hub.unsupported_reason("create_pvc") is None


def test_host_path_dir_must_be_absolute() -> None:
    with pytest.raises(OptionsError, match="--host-path-dir: 'srv/x' is not an absolute path"):
        HarnessOptions(host_path_dir="srv/x")
    options = HarnessOptions.resolve({}, {"JHSC_HOST_PATH_DIR": "/srv/x"})
    assert options.host_path_dir == "/srv/x"


# ---------------------------------------------------------------------------------------- delete_pvc
def test_delete_pvc_waits_until_it_is_gone() -> None:
    kube = FakeKube()
    kube.objects[("pvc", "claim-alice")] = _pvc()
    assert _run("delete_pvc: {name: claim-alice}", kube) == "gone (was bound to pvc-u1)"
    assert ("pvc", "claim-alice") not in kube.objects
    assert kube.watched == [("PVC claim-alice to be deleted", "pvc", "claim-alice")]


def test_delete_pvc_counts_a_new_claim_of_the_same_name_as_the_old_one_gone() -> None:
    kube = FakeKube()
    kube.objects[("pvc", "claim-alice")] = _pvc()
    kube.pvc_after_delete = {**_pvc(), "metadata": {"name": "claim-alice", "uid": "u2"}}
    assert _run("delete_pvc: {name: claim-alice}", kube) == "gone (was bound to pvc-u1)"


def test_delete_pvc_in_use_says_who_holds_it() -> None:
    kube = FakeKube()
    kube.pvc_in_use = True
    kube.objects[("pvc", "claim-alice")] = _pvc()
    kube.objects[("pod", "jupyter-alice")] = {
        "metadata": {"name": "jupyter-alice"},
        "spec": {
            "nodeName": "n",
            "volumes": [{"name": "home", "persistentVolumeClaim": {"claimName": "claim-alice"}}],
        },
        "status": {"phase": "Running"},
    }
    note = _run("delete_pvc: {name: claim-alice, wait: false}", kube)
    assert note == (
        "Terminating: the kubernetes.io/pvc-protection finalizer keeps it while pod(s) jupyter-alice use it"
    )
    kube.objects[("pvc", "claim-alice")] = _pvc()
    with pytest.raises(CheckFailed) as failed:
        _run("delete_pvc: {name: claim-alice, timeout: 0.1}", kube)
    assert str(failed.value) == (
        "PVC claim-alice is still Terminating after 0s: the kubernetes.io/pvc-protection finalizer keeps it "
        "while pod(s) jupyter-alice use it (write `wait: false` to delete a claim in use)"
    )


def test_delete_pvc_of_a_missing_claim_fails_as_kubectl_does() -> None:
    with pytest.raises(CheckFailed, match='persistentvolumeclaims "claim-bob" not found'):
        _run("delete_pvc: {name: claim-bob}", FakeKube())


# ---------------------------------------------------------------------------------------- resize_pvc
RESIZE_403 = (
    'persistentvolumeclaims "claim-alice" is forbidden: only dynamically provisioned pvc can be resized '
    "and the storageclass that provisions the pvc must support resize"
)


def test_resize_pvc_sends_a_strategic_merge_patch_and_reports_acceptance() -> None:
    kube = FakeKube()
    kube.objects[("pvc", "claim-alice")] = _pvc()
    assert _run("resize_pvc: {name: claim-alice, size: 2Gi}", kube) == (
        "accepted: requests 2Gi, status.capacity None"
    )
    assert kube.core.calls == [
        (
            "patch pvc",
            "claim-alice",
            {"spec": {"resources": {"requests": {"storage": "2Gi"}}}},
            "application/strategic-merge-patch+json",
        )
    ]


def test_resize_pvc_rejected_matches_the_status_message() -> None:
    kube = FakeKube()
    kube.objects[("pvc", "claim-alice")] = _pvc()
    kube.core.refuse_patch = _status(403, RESIZE_403)
    note = _run('resize_pvc: {name: claim-alice, size: 2Gi, rejected: "only dynamically provisioned"}', kube)
    assert note == f"refused as expected (403): {RESIZE_403}"
    with pytest.raises(CheckFailed, match=r"refused, but with .*, expected a message containing 'shrink'"):
        _run('resize_pvc: {name: claim-alice, size: 2Gi, rejected: "shrink"}', kube)
    with pytest.raises(CheckFailed, match=r"to 2Gi was refused \(403\): persistentvolumeclaims"):
        _run("resize_pvc: {name: claim-alice, size: 2Gi}", kube)
    kube.core.refuse_patch = None
    with pytest.raises(CheckFailed, match="was accepted, expected a refusal containing 'only'"):
        _run('resize_pvc: {name: claim-alice, size: 2Gi, rejected: "only"}', kube)


# ---------------------------------------------------------------------------------------- delete_pod
def test_delete_pod_uses_the_default_grace_period_and_waits_for_the_hub() -> None:
    kube = FakeKube()
    kube.objects[("pod", "jupyter-alice")] = {"metadata": {"name": "jupyter-alice", "uid": "p1"}}
    note = _run("delete_pod: {user: alice}", kube)
    assert note.startswith("pod jupyter-alice gone after ") and "the hub noticed after" in note
    assert kube.core.calls == [("delete pod", "jupyter-alice", {})]  # no grace_period_seconds: the pod's own


def test_delete_pod_watches_the_pod_and_a_replacement_counts_as_gone() -> None:
    kube = FakeKube()
    kube.objects[("pod", "jupyter-alice")] = {"metadata": {"name": "jupyter-alice", "uid": "p1"}}
    kube.pod_after_delete = {"metadata": {"name": "jupyter-alice", "uid": "p2"}}
    _run("delete_pod: {user: alice}", kube)
    assert kube.watched == [("pod jupyter-alice to be deleted", "pod", "jupyter-alice")]


def test_delete_pod_that_stays_times_out_naming_it() -> None:
    kube = FakeKube()
    pod = {"metadata": {"name": "jupyter-alice", "uid": "p1"}}
    kube.objects[("pod", "jupyter-alice")] = kube.pod_after_delete = pod
    with pytest.raises(
        WaitTimeout, match=r"^timed out after 3s waiting for pod jupyter-alice to be deleted$"
    ):
        _run("delete_pod: {user: alice, timeout: 3}", kube)


def test_delete_pod_of_a_server_that_is_not_running_fails() -> None:
    kube = FakeKube()
    kube.hub.stopped = True
    with pytest.raises(CheckFailed, match="server alice is not running"):
        _run("delete_pod: {user: alice}", kube)


# -------------------------------------------------------------------------------------------- models
def test_body_defaults_and_an_explicit_null_storage_class() -> None:
    pvc = _item("create_pvc: {name: a, size: 1Gi}").body
    assert (pvc.storage_class, pvc.access_modes, pvc.volume_name) == ("", ["ReadWriteOnce"], None)
    assert _item("create_pvc: {name: a, size: 1Gi, storage_class: null}").body.storage_class is None
    pv = _item("create_pv: {name: a, size: 500Mi}").body
    assert (pv.storage_class, pv.access_modes) == ("", ["ReadWriteOnce"])
    delete = _item("delete_pvc: {name: a}").body
    assert (delete.wait, delete.timeout) == (True, 60.0)
    assert _item("delete_pod: {user: alice}").body.timeout == 120.0
    assert _item("resize_pvc: {name: a, size: 2Gi}").body.rejected is None
