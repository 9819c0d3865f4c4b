"""What a container sees on the embedded kubelet, checked against what a real 1.20 node gives it.

Each test names the real behaviour it holds the embedded kubelet to (kubelet / containerd source of the
release the node reports). Needs root.
"""

# kubernetes>=35 types every model field as Optional; asserting on them is the point of these tests.
# mypy: disable-error-code="union-attr,index,arg-type,operator"

from __future__ import annotations

import os

import pytest
from kube_waits import wait_for
from kubernetes import client
from test_kubelet import cluster, core, finished, ns, pod, running  # noqa: F401 - fixtures and helpers

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
