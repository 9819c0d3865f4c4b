"""What a container sees on the embedded kubelet, checked against what a real 1.20 node gives it.

Each test names the real behaviour it holds the embedded kubelet to (kubelet / containerd source of the
release the node reports). Needs root.
"""

# kubernetes>=35 types every model field as Optional; asserting on them is the point of these tests.
# mypy: disable-error-code="union-attr,index,arg-type,operator"

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from embedded_images import load_images
from kube_waits import wait_for
from kubernetes import client
from test_kubelet import cluster, core, finished, kubectl, ns, pod, running  # noqa: F401 - fixtures, helpers

from harness.clusters.base import HubVersions
from harness.clusters.embedded.backend import singleuser_image
from harness.clusters.embedded.cluster import EmbeddedCluster
from harness.clusters.embedded.images import ImageMap
from harness.versions import default_jupyterhub_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="the embedded kubelet needs root"),
]


def test_subpath_under_a_dir_missing_on_the_host_keeps_the_pods_etc_files(
    core: client.CoreV1Api,  # noqa: F811
    ns: str,  # noqa: F811
) -> None:
    """containerd sorts a container's mounts by depth (the kubelet's /etc/hosts among them), so a
    deeper volume mount never hides /etc/hosts, resolv.conf or hostname, wherever its mount point is."""
    assert not os.path.exists("/etc/jupyterhub"), "the test needs a dir the host does not have"
    core.create_namespaced_service(ns, {"metadata": {"name": "hub"}, "spec": {"ports": [{"port": 8081}]}})
    core.create_namespaced_config_map(
        ns, {"metadata": {"name": "hub-config"}, "data": {"jupyterhub_config.py": "c.X = 1\n"}}
    )
    script = (
        "head -1 /etc/hosts; cat /etc/hostname; "
        f"grep -c 'search {ns}.svc.cluster.local' /etc/resolv.conf; "
        "getent hosts hub | cut -d' ' -f1; cat /etc/jupyterhub/jupyterhub_config.py"
    )
    core.create_namespaced_pod(
        ns,
        pod(
            "subpath-etc",
            ["sh", "-c", script],
            volumes=[{"name": "config", "configMap": {"name": "hub-config"}}],
            container={
                "volumeMounts": [
                    {
                        "name": "config",
                        "mountPath": "/etc/jupyterhub/jupyterhub_config.py",
                        "subPath": "jupyterhub_config.py",
                    }
                ]
            },
            restartPolicy="Never",
        ),
    )
    done = finished(core, ns, "subpath-etc")
    log = core.read_namespaced_pod_log("subpath-etc", ns)
    assert done.status.phase == "Succeeded", log
    cluster_ip = core.read_namespaced_service("hub", ns).spec.cluster_ip
    assert log.splitlines() == [
        "# Kubernetes-managed hosts file (embedded kubelet).",
        "subpath-etc",
        "1",
        cluster_ip,
        "c.X = 1",
    ]
    assert not os.path.exists("/etc/jupyterhub"), "the mount point is made in the container, not on the host"


def test_api_data_volumes_are_read_only_even_for_root(core: client.CoreV1Api, ns: str) -> None:  # noqa: F811
    """configMap, secret, downwardAPI and projected volumes are mounted read-only whatever the
    volumeMount says (their plugins' GetAttributes().ReadOnly, kubelet makeMounts' mustMountRO),
    subPath mounts of them included: a write fails with EROFS."""
    core.create_namespaced_config_map(ns, {"metadata": {"name": "cm"}, "data": {"k": "v"}})
    core.create_namespaced_secret(ns, {"metadata": {"name": "sec"}, "stringData": {"k": "v"}})
    downward = {"items": [{"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]}
    volumes = [
        {"name": "cm", "configMap": {"name": "cm"}},
        {"name": "sec", "secret": {"secretName": "sec"}},
        {"name": "down", "downwardAPI": downward},
        {
            "name": "proj",
            "projected": {"sources": [{"configMap": {"name": "cm"}}, {"downwardAPI": downward}]},
        },
    ]
    mounts = [{"name": v["name"], "mountPath": f"/{v['name']}"} for v in volumes]
    mounts.append({"name": "cm", "mountPath": "/etc/k.conf", "subPath": "k", "readOnly": False})
    script = "for f in /cm/x /sec/x /down/x /proj/x /etc/k.conf; do echo w >> $f; done; cat /etc/k.conf; echo"
    core.create_namespaced_pod(
        ns,
        pod(
            "ro",
            ["sh", "-c", script],
            volumes=volumes,
            container={"volumeMounts": mounts},
            restartPolicy="Never",
        ),
    )
    finished(core, ns, "ro")
    log = core.read_namespaced_pod_log("ro", ns).splitlines()
    assert log[-1] == "v", log  # the subPath file is unchanged
    errors = [line for line in log[:-1] if line.endswith("Read-only file system")]
    assert len(errors) == 5, log


def test_init_containers_show_pod_initializing_and_their_own_field_path(
    core: client.CoreV1Api,  # noqa: F811
    ns: str,  # noqa: F811
) -> None:
    """While init containers run, the app containers wait with reason PodInitializing (kubelet
    convertToAPIContainerStatuses' default when the pod has init containers); init container Events
    name ``spec.initContainers{name}`` (kubecontainer.GenerateContainerRef's fieldPath)."""
    spec = pod(
        "initing",
        ["sleep", "300"],
        initContainers=[{"name": "prep", "image": "harness.local/test:1", "command": ["sleep", "3"]}],
    )
    core.create_namespaced_pod(ns, spec)

    def init_running() -> client.V1Pod | None:
        p = core.read_namespaced_pod("initing", ns)
        inits = p.status.init_container_statuses or []
        return p if inits and inits[0].state.running else None

    during = wait_for(init_running, 30, "init container running")
    (main,) = during.status.container_statuses
    assert main.state.waiting.reason == "PodInitializing", main.state
    running(core, ns, "initing")
    paths = {
        (e.reason, e.involved_object.field_path)
        for e in core.list_namespaced_event(ns).items
        if e.involved_object.name == "initing"
    }
    assert {("Started", "spec.initContainers{prep}"), ("Started", "spec.containers{main}")} <= paths, paths
    assert ("Created", "spec.initContainers{prep}") in paths


@pytest.fixture(scope="module")
def singleuser(cluster: EmbeddedCluster) -> str:  # noqa: F811
    """The harness's own singleuser image (the one KubeSpawner's pods run in the e2e scenarios)."""
    ref, entry = singleuser_image(HubVersions("7.1.0", default_jupyterhub_for("7.1.0")))
    ImageMap(cluster.config.data_dir).put(ref, entry)
    return ref


def _contents(ip: str, path: str, method: str = "GET", body: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(
        f"http://{ip}:8888/api/contents/{path}",
        method=method,
        data=json.dumps(body).encode() if body else None,
        headers={"Authorization": "token t0ken", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_server_without_volumes_saves_in_its_workdir_and_a_restart_starts_fresh(
    cluster: EmbeddedCluster,  # noqa: F811
    core: client.CoreV1Api,  # noqa: F811
    ns: str,  # noqa: F811
    singleuser: str,
) -> None:
    """Issue 12: a Jupyter server that KubeSpawner starts without volumes (storage_pvc_ensure alone)
    serves its image's WORKDIR, /home/jovyan, and the contents API can save there: on a real node the
    file lands in the container's writable layer (containerd's WithProcessCwd from the image config's
    WorkingDir), and is gone once the container restarts (a new container, a new layer)."""
    server = [
        "jupyter-server",
        "--ServerApp.token=t0ken",
        "--ServerApp.ip=0.0.0.0",
        "--ServerApp.port=8888",
        "--ServerApp.open_browser=False",
    ]
    manifest = pod(
        "nb",
        server,
        securityContext={"runAsUser": 1000, "fsGroup": 100},
        container={
            "image": singleuser,
            "readinessProbe": {"httpGet": {"path": "/api", "port": 8888}, "periodSeconds": 1},
        },
        terminationGracePeriodSeconds=5,
    )
    core.create_namespaced_pod(ns, manifest)
    ip = running(core, ns, "nb", timeout=120).status.pod_ip
    assert kubectl(cluster, "-n", ns, "exec", "nb", "--", "pwd").stdout == "/home/jovyan\n"
    assert _contents(ip, "saved.txt", "PUT", {"type": "file", "format": "text", "content": "hi"}) == 201
    cat = kubectl(cluster, "-n", ns, "exec", "nb", "--", "cat", "/home/jovyan/saved.txt")
    assert cat.stdout == "hi", cat.stderr
    assert not Path("/home/jovyan/saved.txt").exists()
    kubectl(cluster, "-n", ns, "exec", "nb", "--", "kill", "-TERM", "1")

    def restarted() -> client.V1Pod | None:
        p = core.read_namespaced_pod("nb", ns)
        (status,) = p.status.container_statuses
        return p if status.restart_count >= 1 and status.ready else None

    ip = wait_for(restarted, 120, "server restarted and ready").status.pod_ip
    assert _contents(ip, "saved.txt") == 404
    assert _contents(ip, "again.txt", "PUT", {"type": "file", "format": "text", "content": "x"}) == 201


def test_root_writes_outside_volumes_stay_in_the_container_and_go_with_it(
    core: client.CoreV1Api,  # noqa: F811
    ns: str,  # noqa: F811
) -> None:
    """Outside its volumes a container's filesystem is its image plus a writable layer of its own:
    root may change /etc or /usr/local (uid 1000 is refused by permissions, not a read-only mount), the
    host never sees it, and a restarted container starts from the image again."""
    marker = f"jhsc-{uuid.uuid4().hex[:8]}"
    script = (
        f"if [ -e /etc/{marker} ]; then echo seen; else echo fresh; fi; "
        f"echo x > /etc/{marker} && mkdir -p /usr/local/{marker}/d && echo root-ok; "
        f"python3 -c \"import os; os.setuid(65534); open('/etc/{marker}-nobody', 'w')\" 2>&1 "
        "| grep -o 'Permission denied'; "
        "[ -e /data/ran ] && exec sleep 300; touch /data/ran; exit 1"
    )
    core.create_namespaced_pod(
        ns,
        pod(
            "layer",
            ["sh", "-c", script],
            volumes=[{"name": "data", "emptyDir": {}}],
            container={"volumeMounts": [{"name": "data", "mountPath": "/data"}]},
            restartPolicy="OnFailure",
        ),
    )

    def second_run() -> client.V1Pod | None:
        p = core.read_namespaced_pod("layer", ns)
        (status,) = p.status.container_statuses or [None]
        return p if status and status.restart_count == 1 and status.state.running else None

    wait_for(second_run, 60, "second run of the container")
    expected = "fresh\nroot-ok\nPermission denied\n"
    assert core.read_namespaced_pod_log("layer", ns, previous=True) == expected
    wait_for(lambda: core.read_namespaced_pod_log("layer", ns) == expected, 10, "second run's log")
    assert not Path(f"/etc/{marker}").exists() and not Path(f"/usr/local/{marker}").exists()


def test_an_image_the_node_cannot_get_fails_to_pull_and_backs_off(
    cluster: EmbeddedCluster,  # noqa: F811
    core: client.CoreV1Api,  # noqa: F811
    ns: str,  # noqa: F811
) -> None:
    """An image that is neither on the node nor in its registry: the kubelet's image manager
    (pkg/kubelet/images/image_manager.go EnsureImageExists) reports ErrImagePull with the runtime's
    error, then backs off (10s doubling to 300s) as ImagePullBackOff, with Pulling/Failed/BackOff
    Events; the container never runs. Once the image is there, the next attempt starts it."""
    image = f"harness.local/not-loaded-{uuid.uuid4().hex[:6]}:1"
    manifest = pod("nopull", ["sleep", "300"], container={"image": image})
    core.create_namespaced_pod(ns, manifest)

    def waiting(reason: str) -> client.V1ContainerStateWaiting | None:
        p = core.read_namespaced_pod("nopull", ns)
        (status,) = p.status.container_statuses or [None]
        state = status.state.waiting if status else None
        return state if state and state.reason == reason else None

    pulled = wait_for(lambda: waiting("ErrImagePull"), 30, "ErrImagePull")
    ref = image  # harness.local is a registry host: containerd pulls the reference as it is
    assert pulled.message == (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": '
        f'failed to resolve reference "{ref}": {ref}: not found'
    )
    backoff = wait_for(lambda: waiting("ImagePullBackOff"), 30, "ImagePullBackOff")
    assert backoff.message == f'Back-off pulling image "{image}"'
    p = core.read_namespaced_pod("nopull", ns)
    assert p.status.phase == "Pending" and p.status.container_statuses[0].restart_count == 0
    seen = [
        (e.type, e.reason, e.message, e.involved_object.field_path)
        for e in core.list_namespaced_event(ns).items
        if e.involved_object.name == "nopull"
    ]
    path = "spec.containers{main}"
    for expected in (
        ("Normal", "Pulling", f'Pulling image "{image}"', path),
        ("Warning", "Failed", f'Failed to pull image "{image}": {pulled.message}', path),
        ("Warning", "Failed", "Error: ErrImagePull", path),
        ("Normal", "BackOff", f'Back-off pulling image "{image}"', path),
        ("Warning", "Failed", "Error: ImagePullBackOff", path),
    ):
        assert expected in seen, seen
    assert not any(e[1] in ("Created", "Started") for e in seen), seen
    # "kind load": the image arrives and the next pull attempt (after the back-off) runs the container
    load_images(cluster, image)
    running(core, ns, "nopull", timeout=60)


def test_configmap_and_secret_volumes_follow_their_objects_but_subpath_files_do_not(
    cluster: EmbeddedCluster,  # noqa: F811
    core: client.CoreV1Api,  # noqa: F811
    ns: str,  # noqa: F811
) -> None:
    """The kubelet re-runs SetUp of configMap/secret volumes at every pod sync (their RequiresRemount),
    through the AtomicWriter: ``key -> ..data/key``, ``..data`` swapped to a new timestamped dir. A
    whole-volume mount sees the update within the sync period (syncFrequency 1m, jitter 0.5), at
    once when the pod's annotations change (a pod UPDATE is a sync); a subPath bind keeps the file it
    got at start (pkg/volume/util/atomic_writer.go, kubelet config podsDifferSemantically)."""
    core.create_namespaced_config_map(
        ns, {"metadata": {"name": "live"}, "data": {"greeting": "v1", "app.conf": "c1"}}
    )
    core.create_namespaced_secret(ns, {"metadata": {"name": "live"}, "stringData": {"token": "s1"}})
    core.create_namespaced_pod(
        ns,
        pod(
            "watcher",
            ["sleep", "300"],
            volumes=[
                {"name": "cfg", "configMap": {"name": "live"}},
                {"name": "sec", "secret": {"secretName": "live"}},
            ],
            container={
                "volumeMounts": [
                    {"name": "cfg", "mountPath": "/cfg"},
                    {"name": "sec", "mountPath": "/sec"},
                    {"name": "cfg", "mountPath": "/etc/app.conf", "subPath": "app.conf"},
                ]
            },
            terminationGracePeriodSeconds=1,
        ),
    )
    running(core, ns, "watcher")

    def cat(*paths: str) -> str:
        out = kubectl(cluster, "-n", ns, "exec", "watcher", "--", "sh", "-c", f"cat {' '.join(paths)}")
        return out.stdout

    assert cat("/cfg/greeting", "/sec/token", "/etc/app.conf") == "v1s1c1"
    links = kubectl(cluster, "-n", ns, "exec", "watcher", "--", "readlink", "/cfg/greeting", "/cfg/..data")
    first, data = links.stdout.split()
    assert first == "..data/greeting" and data.startswith("..20"), links.stdout
    core.patch_namespaced_config_map("live", ns, {"data": {"greeting": "v2", "app.conf": "c2"}})
    core.patch_namespaced_secret("live", ns, {"stringData": {"token": "s2"}})
    wait_for(lambda: cat("/cfg/greeting", "/sec/token") == "v2s2", 100, "the periodic sync's update", 1)
    assert cat("/cfg/app.conf", "/etc/app.conf") == "c2c1", "a subPath file is never updated"
    core.patch_namespaced_config_map("live", ns, {"data": {"greeting": "v3", "app.conf": None}})
    core.patch_namespaced_pod("watcher", ns, {"metadata": {"annotations": {"touched": "1"}}})
    wait_for(lambda: cat("/cfg/greeting") == "v3", 10, "the update of a pod sync", 0.5)
    assert cat("/cfg/app.conf 2>&1") == "cat: /cfg/app.conf: No such file or directory\n"
