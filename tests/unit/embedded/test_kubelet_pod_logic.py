"""Kubelet logic that reads the API: env resolution, volumes, scheduling checks, status, commands.

The registry here is a small in-memory fake of the ``RegistryLike`` surface (the code under test talks
to nothing else); 404s are raised the way the real ``ApiError`` carries them (``.code``).
"""

from __future__ import annotations

import asyncio
import base64
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from harness.clusters.embedded.images import ImageEntry
from harness.clusters.embedded.kubelet.envvars import EnvError, container_env, expand
from harness.clusters.embedded.kubelet.identity import container_identity
from harness.clusters.embedded.kubelet.runtime import ContainerStartError, command_argv, find_executable
from harness.clusters.embedded.kubelet.scheduler import Scheduler, Unschedulable, WaitingForVolume
from harness.clusters.embedded.kubelet.service_env import service_env
from harness.clusters.embedded.kubelet.status import ContainerRecord, pod_status
from harness.clusters.embedded.kubelet.volumes import VolumeError, VolumeManager, container_mounts

Obj = dict[str, Any]


class NotFound(Exception):
    code = 404


class FakeRegistry:
    def __init__(self, *objects: tuple[str, Obj]) -> None:
        self.objects: dict[tuple[str, str, str], Obj] = {}
        self.patches: list[tuple[str, str, object]] = []
        for resource, obj in objects:
            meta = obj["metadata"]
            self.objects[(resource, meta.get("namespace", ""), meta["name"])] = obj

    async def get(self, resource: str, namespace: str | None, name: str) -> Obj:
        try:
            return self.objects[(resource, namespace or "", name)]
        except KeyError:
            raise NotFound(name) from None

    async def patch(self, resource: str, namespace: str | None, name: str, patch: object, **_: Any) -> Obj:
        self.patches.append((resource, name, patch))
        return {}

    async def service_account_token(self, namespace: str, name: str) -> str:
        if ("serviceaccounts", namespace, name) not in self.objects:
            raise NotFound(name)
        return f"token-{namespace}-{name}"


def _pod(**spec: Any) -> Obj:
    return {
        "metadata": {"name": "p", "namespace": "ns", "uid": "u-1", "labels": {"app": "x"}},
        "spec": {"containers": [{"name": "c", "image": "img"}], "serviceAccountName": "default", **spec},
        "status": {"podIP": "10.213.1.9"},
    }


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


SECRET = ("secrets", {"metadata": {"name": "s", "namespace": "ns"}, "data": {"token": _b64("t0p")}})
CONFIGMAP = (
    "configmaps",
    {"metadata": {"name": "cm", "namespace": "ns"}, "data": {"a.py": "print(1)", "b": "2"}},
)


def test_env_precedence_and_value_from() -> None:
    registry = FakeRegistry(SECRET, CONFIGMAP)
    container = {
        "name": "c",
        "envFrom": [{"configMapRef": {"name": "cm"}, "prefix": "CM_"}],
        "env": [
            {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "token"}}},
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {
                "name": "MEM",
                "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}},
            },
            {"name": "GREETING", "value": "hi $(APP) $$(APP)"},
            {"name": "OPT", "valueFrom": {"secretKeyRef": {"name": "missing", "key": "k", "optional": True}}},
            {"name": "PATH", "value": "/custom"},
        ],
        "resources": {"limits": {"memory": "512Mi"}},
    }
    env = asyncio.run(container_env(registry, _pod(), container, {"PATH": "/image/bin", "BASE": "1"}))  # type: ignore[arg-type]
    assert env["FROM_SECRET"] == "t0p" and env["POD_IP"] == "10.213.1.9" and env["APP"] == "x"
    assert env["MEM"] == "512" and env["CM_a.py"] == "print(1)" and env["BASE"] == "1"
    assert env["GREETING"] == "hi x $(APP)"
    assert "OPT" not in env and env["PATH"] == "/custom"


def test_missing_secret_is_a_config_error_with_the_kubelet_message() -> None:
    container = {
        "name": "c",
        "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "nope", "key": "k"}}}],
    }
    with pytest.raises(EnvError, match='secret "nope" not found'):
        asyncio.run(container_env(FakeRegistry(), _pod(), container, {}))  # type: ignore[arg-type]
    assert expand("$(UNKNOWN)", {}) == "$(UNKNOWN)"


def test_service_link_variables_match_docker_links() -> None:
    svc = {
        "metadata": {"name": "proxy-api"},
        "spec": {"clusterIP": "10.213.2.7", "ports": [{"name": "http", "port": 8001, "protocol": "TCP"}]},
    }
    env = service_env(svc)
    assert env["PROXY_API_SERVICE_HOST"] == "10.213.2.7" and env["PROXY_API_SERVICE_PORT"] == "8001"
    assert env["PROXY_API_SERVICE_PORT_HTTP"] == "8001"
    assert env["PROXY_API_PORT"] == "tcp://10.213.2.7:8001"
    assert env["PROXY_API_PORT_8001_TCP_ADDR"] == "10.213.2.7"
    assert (
        service_env({"metadata": {"name": "h"}, "spec": {"clusterIP": "None", "ports": [{"port": 1}]}}) == {}
    )


def test_volumes_project_keys_modes_token_and_fs_group(tmp_path: Path) -> None:
    registry = FakeRegistry(
        SECRET, CONFIGMAP, ("serviceaccounts", {"metadata": {"name": "default", "namespace": "ns"}})
    )
    ca = tmp_path / "ca.crt"
    ca.write_text("CA")
    pod = _pod(
        securityContext={"fsGroup": 4242},
        volumes=[
            {
                "name": "cfg",
                "configMap": {
                    "name": "cm",
                    "items": [{"key": "a.py", "path": "sub/x.py"}],
                    "defaultMode": 0o600,
                },
            },
            {"name": "sec", "secret": {"secretName": "s"}},
            {"name": "scratch", "emptyDir": {}},
            {
                "name": "api",
                "projected": {
                    "sources": [
                        {"serviceAccountToken": {"path": "token"}},
                        {
                            "configMap": {
                                "name": "kube-root-ca.crt",
                                "items": [{"key": "ca.crt", "path": "ca.crt"}],
                            }
                        },
                        {
                            "downwardAPI": {
                                "items": [
                                    {"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}
                                ]
                            }
                        },
                    ]
                },
            },
        ],
    )
    volumes = asyncio.run(VolumeManager(registry, tmp_path / "pod", ca).setup(pod))  # type: ignore[arg-type]
    cfg = volumes["cfg"][0]
    assert (cfg / "sub" / "x.py").read_text() == "print(1)" and not (cfg / "b").exists()
    assert stat.S_IMODE((cfg / "sub" / "x.py").stat().st_mode) & 0o700 == 0o600
    assert (volumes["sec"][0] / "token").read_text() == "t0p"
    api = volumes["api"][0]
    assert (api / "token").read_text() == "token-ns-default"
    assert (api / "ca.crt").read_text() == "CA" and (api / "namespace").read_text() == "ns"
    scratch = volumes["scratch"][0]
    if os.geteuid() == 0:
        assert scratch.stat().st_gid == 4242 and scratch.stat().st_mode & stat.S_ISGID
    mounts = container_mounts(
        {"volumeMounts": [{"name": "scratch", "mountPath": "/w", "subPath": "a/b", "readOnly": True}]},
        volumes,
        None,
    )
    assert (
        mounts[0].source == str(scratch / "a" / "b") and mounts[0].readonly and (scratch / "a" / "b").is_dir()
    )
    with pytest.raises(VolumeError):
        container_mounts(
            {"volumeMounts": [{"name": "scratch", "mountPath": "/w", "subPath": "../x"}]}, volumes, None
        )
    # API data volumes mount read-only whatever the volumeMount says; others as asked
    assert [v.read_only for v in volumes.values()] == [True, True, False, True]
    (ro,) = container_mounts(
        {"volumeMounts": [{"name": "cfg", "mountPath": "/c", "readOnly": False}]}, volumes, None
    )
    assert ro.readonly


def test_missing_configmap_and_unbound_pvc_are_mount_errors(tmp_path: Path) -> None:
    manager = VolumeManager(FakeRegistry(), tmp_path, tmp_path / "ca.crt")  # type: ignore[arg-type]
    with pytest.raises(
        VolumeError, match=r'MountVolume\.SetUp failed for volume "v" : configmap "gone" not found'
    ):
        asyncio.run(manager.setup(_pod(volumes=[{"name": "v", "configMap": {"name": "gone"}}])))
    with pytest.raises(VolumeError, match='persistentvolumeclaim "c" not found'):
        asyncio.run(manager.setup(_pod(volumes=[{"name": "v", "persistentVolumeClaim": {"claimName": "c"}}])))


def _pvc(phase: str, sc: str | None = None) -> tuple[str, Obj]:
    spec = {"storageClassName": sc} if sc else {}
    return (
        "persistentvolumeclaims",
        {"metadata": {"name": "home", "namespace": "ns"}, "spec": spec, "status": {"phase": phase}},
    )


def test_scheduler_volume_checks_say_what_kube_scheduler_says() -> None:
    pod = _pod(volumes=[{"name": "h", "persistentVolumeClaim": {"claimName": "home"}}])
    sched = Scheduler(FakeRegistry(), "node")  # type: ignore[arg-type]
    with pytest.raises(Unschedulable, match=r'^persistentvolumeclaim "home" not found$'):
        asyncio.run(sched.check_volumes(pod))
    sched = Scheduler(FakeRegistry(_pvc("Pending")), "node")  # type: ignore[arg-type]
    with pytest.raises(Unschedulable, match="1 pod has unbound immediate PersistentVolumeClaims"):
        asyncio.run(sched.check_volumes(pod))
    wffc = ("storageclasses", {"metadata": {"name": "late"}, "volumeBindingMode": "WaitForFirstConsumer"})
    registry = FakeRegistry(_pvc("Pending", "late"), wffc)
    with pytest.raises(WaitingForVolume):
        asyncio.run(Scheduler(registry, "node").check_volumes(pod))  # type: ignore[arg-type]
    assert registry.patches == [
        (
            "persistentvolumeclaims",
            "home",
            {"metadata": {"annotations": {"volume.kubernetes.io/selected-node": "node"}}},
        )
    ]
    asyncio.run(Scheduler(FakeRegistry(_pvc("Bound")), "node").check_volumes(pod))  # type: ignore[arg-type]


def test_command_resolution_and_runtime_messages(tmp_path: Path) -> None:
    entry = ImageEntry(command=["jupyterhub"])
    assert command_argv({"args": ["a"]}, entry) == ["a"]
    assert command_argv({"command": ["x"], "args": ["y"]}, entry) == ["x", "y"]
    assert command_argv({}, entry) == ["jupyterhub"]
    with pytest.raises(ContainerStartError):
        command_argv({}, ImageEntry())
    with pytest.raises(ContainerStartError, match=r'exec: "nope": executable file not found in \$PATH'):
        find_executable("nope", str(tmp_path), 0, {0})
    tool = tmp_path / "tool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o700)
    assert find_executable("tool", str(tmp_path), 0, {0}) == str(tool)
    with pytest.raises(ContainerStartError):
        find_executable("tool", str(tmp_path), 1000, {100})  # owner-only: uid 1000 may not run it


def test_identity_defaults_from_image_user_and_security_context() -> None:
    jovyan = ImageEntry(passwd_user="jovyan")
    assert container_identity(_pod(), {"name": "c"}, jovyan) == (1000, 100, [100])
    # a uid the (stand-in) image passwd does not know gets gid 0, as with runc
    pod = _pod(securityContext={"runAsUser": 54321, "fsGroup": 100, "supplementaryGroups": [5]})
    assert container_identity(pod, {"name": "c"}, ImageEntry()) == (54321, 0, [0, 5, 100])
    assert container_identity(_pod(), {"name": "c"}, ImageEntry(user="1234:55")) == (1234, 55, [55])
    override = {"name": "c", "securityContext": {"runAsUser": 0, "runAsGroup": 0}}
    assert container_identity(pod, override, jovyan)[:2] == (0, 0)


def test_pod_status_conditions_follow_container_readiness() -> None:
    ready, waiting = ContainerRecord("a", "img"), ContainerRecord("b", "img")
    ready.set_running("id1", "2026-01-01T00:00:00Z")
    ready.ready = ready.started = True
    status = pod_status(
        _pod(),
        phase="Running",
        host_ip="10.213.1.1",
        pod_ip="10.213.1.9",
        start_time="t",
        init=[],
        containers=[ready, waiting],
        initialized=True,
    )
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["Ready"]["status"] == "False"
    assert conditions["Ready"]["message"] == "containers with unready status: [b]"
    assert conditions["Initialized"]["status"] == "True" and status["podIPs"] == [{"ip": "10.213.1.9"}]
    assert status["containerStatuses"][0]["containerID"] == "embedded://id1"
    assert status["containerStatuses"][1]["state"] == {"waiting": {"reason": "ContainerCreating"}}
    ready.set_terminated(0, "s", "f")
    assert ready.to_status()["state"]["terminated"]["reason"] == "Completed"


def test_node_selector_and_required_affinity_decide_schedulability() -> None:
    from harness.clusters.embedded.kubelet.scheduler import node_matches

    labels = {"kubernetes.io/hostname": "embedded-node", "kubernetes.io/os": "linux"}
    assert node_matches(_pod(), labels)
    assert node_matches(_pod(nodeSelector={"kubernetes.io/os": "linux"}), labels)
    assert not node_matches(_pod(nodeSelector={"hub.jupyter.org/node-purpose": "user"}), labels)

    def affinity(*terms: Obj) -> Obj:
        return {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}
            }
        }

    no = {"matchExpressions": [{"key": "hub.jupyter.org/node-purpose", "operator": "In", "values": ["user"]}]}
    yes = {"matchExpressions": [{"key": "kubernetes.io/os", "operator": "Exists"}]}
    assert not node_matches(_pod(affinity=affinity(no)), labels)
    assert node_matches(_pod(affinity=affinity(no, yes)), labels)  # terms are ORed
    preferred = {
        "nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": no}]}
    }
    assert node_matches(_pod(affinity=preferred), labels)


def test_mounts_go_shallow_first_keeping_ties_in_order() -> None:
    from harness.clusters.embedded.kubelet.container_spec import mount_order
    from harness.clusters.embedded.kubelet.volumes import Mount

    given = [
        Mount("/v/cfg", "/etc/jupyterhub/jupyterhub_config.py"),
        Mount("/v/etc", "/etc/"),
        Mount("/p/hosts", "/etc/hosts"),
        Mount("/p/resolv", "/etc/resolv.conf"),
    ]
    assert [m.target for m in mount_order(given)] == [
        "/etc/",
        "/etc/hosts",
        "/etc/resolv.conf",
        "/etc/jupyterhub/jupyterhub_config.py",
    ]


@pytest.mark.parametrize(
    ("source", "annotations", "managed"),
    [
        # an admin's static hostPath PV: the hostPath plugin applies no fsGroup (kubespawner#813)
        ("hostPath", {}, False),
        # the embedded provisioner's PVs stand for a cloud class's volumes, which do get fsGroup
        ("hostPath", {"pv.kubernetes.io/provisioned-by": "embedded.local/hostpath"}, True),
        ("hostPath", {"pv.kubernetes.io/provisioned-by": "kubernetes.io/host-path"}, False),
        # the local plugin applies fsGroup (SetVolumeOwnership on first mount)
        ("local", {}, True),
    ],
)
def test_fs_group_applies_to_a_claim_by_its_pv_plugin(
    tmp_path: Path, source: str, annotations: dict[str, str], managed: bool
) -> None:
    data = tmp_path / "pv"
    data.mkdir(mode=0o755)
    pv = {
        "metadata": {"name": "pv-1", "annotations": annotations},
        "spec": {source: {"path": str(data)}, "claimRef": {"name": "c", "namespace": "ns"}},
    }
    pvc = {
        "metadata": {"name": "c", "namespace": "ns"},
        "spec": {"volumeName": "pv-1"},
        "status": {"phase": "Bound"},
    }
    registry = FakeRegistry(("persistentvolumes", pv), ("persistentvolumeclaims", pvc))
    pod = _pod(
        securityContext={"fsGroup": 4242},
        volumes=[{"name": "v", "persistentVolumeClaim": {"claimName": "c"}}],
    )
    volumes = asyncio.run(VolumeManager(registry, tmp_path / "pod", tmp_path / "ca").setup(pod))  # type: ignore[arg-type]
    assert volumes["v"].managed is managed
    assert (data.stat().st_gid == 4242) is managed
    assert stat.S_IMODE(data.stat().st_mode) == (0o2775 if managed else 0o755)
