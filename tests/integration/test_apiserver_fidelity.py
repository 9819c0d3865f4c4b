"""Where the embedded API server must answer as kube-apiserver 1.20.15 does: the version it claims
(/version, OpenAPI).
"""

# mypy: disable-error-code="union-attr"

from __future__ import annotations

import base64
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client, config

from harness.clusters.embedded.apiserver.standalone import Standalone, http_client, standalone_server

pytestmark = pytest.mark.slow

KUBECTL = str(Path(sys.executable).parent / "kubectl")
#: writes after which a continue token has left the watch window (the fixture's), as etcd compaction
WINDOW = 20
INCONSISTENT_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You can start a "
    "new list without the continue parameter, or use the continue token in this response to retrieve "
    "the remainder of the results. Continuing with the provided token results in an inconsistent list - "
    "objects that were created, modified, or deleted between the time the first chunk was returned and "
    "now may show up in the list."
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Standalone]:
    with standalone_server(tmp_path_factory.mktemp("apiserver"), watch_window=WINDOW) as it:
        yield it


@pytest.fixture(scope="module")
def api(server: Standalone) -> Iterator[httpx.Client]:
    with http_client(server.kubeconfig) as c:
        yield c


@pytest.fixture
def ns(api: httpx.Client) -> str:
    """A fresh namespace holding ConfigMaps c0..c4 (and kube-root-ca.crt, which sorts first)."""
    name = f"p-{uuid.uuid4().hex[:8]}"
    assert api.post("/api/v1/namespaces", json={"metadata": {"name": name}}).status_code == 201
    for i in range(5):
        body = {"metadata": {"name": f"c{i}", "labels": {"odd": str(i % 2)}}}
        assert api.post(f"/api/v1/namespaces/{name}/configmaps", json=body).status_code == 201
    return name


def token(start: str, rv: int) -> str:
    """A continue token as kube-apiserver's encodeContinue writes it."""
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def names(listed: dict[str, Any]) -> list[str]:
    return [item["metadata"]["name"] for item in listed["items"]]


# ---- the version the cluster claims -------------------------------------------------------------------
def test_version_is_the_release_the_node_runs(server: Standalone, api: httpx.Client) -> None:
    version = httpx.get(f"{server.config.server_url}/version", verify=False).json()  # public, as real
    platform = version.pop("platform")
    assert platform.startswith("linux/")
    assert version == {
        "major": "1", "minor": "20", "gitVersion": "v1.20.15",
        "gitCommit": "8f1e5bf0b9729a899b8df86249b56e2c74aebc55", "gitTreeState": "clean",
        "buildDate": "2022-01-19T17:27:39Z", "goVersion": "go1.15.15", "compiler": "gc",
    }  # fmt: skip
    assert api.get("/openapi/v2").json()["info"] == {"title": "Kubernetes", "version": "v1.20.15"}
    assert api.get("/openapi/v3/api/v1").json()["info"]["version"] == "v1.20.15"
    code = client.VersionApi(config.new_client_from_config(str(server.kubeconfig))).get_code()
    assert (code.major, code.minor, code.git_version) == ("1", "20", "v1.20.15")
    out = subprocess.run(
        [KUBECTL, "--kubeconfig", str(server.kubeconfig), "version", "-o", "json"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert json.loads(out.stdout)["serverVersion"]["gitVersion"] == "v1.20.15"
