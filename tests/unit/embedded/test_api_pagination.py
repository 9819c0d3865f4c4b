"""The one version the cluster claims."""

from __future__ import annotations

from harness.clusters.embedded.apiserver import discovery
from harness.clusters.embedded.kubelet.node import KUBELET_VERSION


def test_the_apiserver_claims_the_release_the_kubelet_reports() -> None:
    assert discovery.version()["gitVersion"] == KUBELET_VERSION == discovery.OPENAPI_VERSION
    assert (discovery.version()["major"], discovery.version()["minor"]) == ("1", "20")
