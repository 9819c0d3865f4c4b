"""What a container sees on the embedded kubelet, checked against what a real 1.20 node gives it.

Each test names the real behaviour it holds the embedded kubelet to (kubelet / containerd source of the
release the node reports). Needs root.
"""

# kubernetes>=35 types every model field as Optional; asserting on them is the point of these tests.
# mypy: disable-error-code="union-attr,index,arg-type,operator"

from __future__ import annotations

import os

import pytest
from kubernetes import client
from test_kubelet import cluster, core, finished, ns, pod  # noqa: F401 - fixtures and helpers

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
