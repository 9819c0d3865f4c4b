"""Reaching the deployed hub through an API-server port-forward instead of a ClusterIP.

Deploys only the hub (no user servers) and drives its API through ``service_port_forward``; then
restarts the proxy pod to prove each connection re-resolves the Service's endpoints.
"""

from __future__ import annotations

import pytest

from harness.clusters import make_cluster
from harness.clusters.kube import Kube
from harness.clusters.portforward import service_port_forward
from harness.hub import deploy
from harness.hub.config import HubConfigInput
from harness.hub.driver import HubClient
from harness.hub.manifests import PROXY_LABELS
from harness.options import HarnessOptions

pytestmark = pytest.mark.slow


def test_hub_api_through_port_forward_survives_a_proxy_restart() -> None:
    options = HarnessOptions.resolve()
    with make_cluster(options) as cluster:
        kube = Kube.from_kubeconfig(cluster.kubeconfig, cluster.context)
        images = cluster.images(options.versions)
        ns = deploy.namespace_name("portforward")
        try:
            deploy.create_namespace(kube, ns)
            config = HubConfigInput(
                namespace=ns, singleuser_image=images.singleuser, pull_policy=images.pull_policy
            )
            hub = deploy.deploy_hub(kube, ns, images, config)
            deploy.wait_hub_ready(kube, ns)
            with (
                service_port_forward(kube, ns, "proxy-public", 80) as url,
                HubClient(url, hub.harness_token) as client,
            ):
                assert url.startswith("http://127.0.0.1:")
                assert client.wait_up(timeout=60)["version"]
                client.create_user("pf-user")
                assert client.get_user("pf-user") is not None
                for pod in kube.list("pod", ns, deploy.selector_of(PROXY_LABELS)):
                    kube.core.delete_namespaced_pod(pod["metadata"]["name"], ns)
                deploy.wait_deployment_ready(kube, ns, "proxy", PROXY_LABELS)
                # CHP lost its routes with the pod, but its default target is the hub: the API answers
                assert client.wait_up(timeout=120)["version"]
        finally:
            deploy.delete_namespace(kube, ns)
