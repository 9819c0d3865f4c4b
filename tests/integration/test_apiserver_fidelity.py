"""Two places where the embedded API server must answer as kube-apiserver 1.20.15 does: the version it
claims (/version, OpenAPI) and chunked lists (``limit``/``continue``: consistent pages, remainingItemCount,
the 400s for tokens it refuses and the 410 Expired Status for a token whose resourceVersion is gone).

Messages and token format are those of staging/src/k8s.io/apiserver/pkg/storage/etcd3 (store.go,
errors.go) of Kubernetes 1.20.
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


# ---- chunked lists ---------------------------------------------------------------------------------------
def test_pages_are_one_consistent_list(api: httpx.Client, ns: str) -> None:
    url = f"/api/v1/namespaces/{ns}/configmaps"
    first = api.get(url, params={"limit": 2}).json()
    rv = first["metadata"]["resourceVersion"]
    assert names(first) == ["c0", "c1"]
    assert first["metadata"] == {
        "resourceVersion": rv,
        "continue": token("c1\x00", int(rv)),
        "remainingItemCount": 4,
    }
    # what happens between chunks does not show: the pages are read at the first one's resourceVersion
    api.delete(f"{url}/c2")
    api.post(url, json={"metadata": {"name": "c3a"}})
    second = api.get(url, params={"limit": 2, "continue": first["metadata"]["continue"]}).json()
    assert names(second) == ["c2", "c3"]
    assert second["metadata"]["resourceVersion"] == rv
    assert second["metadata"]["remainingItemCount"] == 2
    last = api.get(url, params={"limit": 2, "continue": second["metadata"]["continue"]}).json()
    assert names(last) == ["c4", "kube-root-ca.crt"]
    assert last["metadata"] == {"resourceVersion": rv}
    # a new list sees the changes; without a limit it is one page
    assert names(api.get(url).json()) == ["c0", "c1", "c3", "c3a", "c4", "kube-root-ca.crt"]


def test_python_client_follows_continue(server: Standalone, ns: str) -> None:
    core = client.CoreV1Api(config.new_client_from_config(str(server.kubeconfig)))
    pages, token_ = [], None
    while True:
        page = core.list_namespaced_config_map(ns, limit=4, _continue=token_)
        pages.append(([cm.metadata.name for cm in page.items], page.metadata.remaining_item_count))
        token_ = page.metadata._continue
        if not token_:
            break
    assert pages == [(["c0", "c1", "c2", "c3"], 2), (["c4", "kube-root-ca.crt"], None)]


def test_selector_pages_carry_no_count_and_continue_after_the_last_key_read(
    api: httpx.Client, ns: str
) -> None:
    url = f"/api/v1/namespaces/{ns}/configmaps"
    first = api.get(url, params={"limit": 2, "labelSelector": "odd=1"}).json()
    rv = int(first["metadata"]["resourceVersion"])
    # etcd reads c0, c1 (one matches), then c2, c3: the page is full at c3
    assert names(first) == ["c1", "c3"]
    assert first["metadata"] == {"resourceVersion": str(rv), "continue": token("c3\x00", rv)}
    rest = api.get(
        url, params={"limit": 2, "labelSelector": "odd=1", "continue": first["metadata"]["continue"]}
    )
    assert names(rest.json()) == [] and "continue" not in rest.json()["metadata"]


def test_cluster_wide_pages_use_namespace_slash_name_keys(api: httpx.Client, ns: str) -> None:
    seen: list[tuple[str, str]] = []
    params: dict[str, Any] = {"limit": 3, "labelSelector": "odd"}
    sizes = []
    while True:
        page = api.get("/api/v1/configmaps", params=params).json()
        seen += [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in page["items"]]
        sizes.append(len(page["items"]))
        if "continue" not in page["metadata"]:
            break
        params["continue"] = page["metadata"]["continue"]
    assert len(sizes) >= 2 and max(sizes) <= 3
    assert [n for space, n in seen if space == ns] == ["c0", "c1", "c2", "c3", "c4"]
    assert seen == sorted(seen, key=lambda k: f"{k[0]}/{k[1]}".encode())


def test_limit_is_ignored_for_resource_version_0_and_table_pages_carry_list_meta(
    api: httpx.Client, ns: str
) -> None:
    url = f"/api/v1/namespaces/{ns}/configmaps"
    whole = api.get(url, params={"limit": 2, "resourceVersion": "0"}).json()  # the watch cache serves it
    assert len(whole["items"]) == 6 and "continue" not in whole["metadata"]
    table = api.get(
        url, params={"limit": 5}, headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}
    )
    meta = table.json()["metadata"]
    assert [r["cells"][0] for r in table.json()["rows"]] == ["c0", "c1", "c2", "c3", "c4"]
    assert meta["remainingItemCount"] == 1 and meta["continue"] == token(
        "c4\x00", int(meta["resourceVersion"])
    )


def test_expired_continue_is_410_with_a_token_to_go_on(api: httpx.Client, ns: str) -> None:
    url = f"/api/v1/namespaces/{ns}/configmaps"
    first = api.get(url, params={"limit": 2}).json()
    for i in range(WINDOW + 1):  # etcd would have compacted the first page's revision
        api.put(f"{url}/c0", json={"metadata": {"name": "c0"}, "data": {"i": str(i)}})
    api.post(url, json={"metadata": {"name": "c9"}})
    resp = api.get(url, params={"limit": 2, "continue": first["metadata"]["continue"]})
    assert resp.status_code == 410
    assert resp.json() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {"continue": token("c1\x00", -1)},
        "status": "Failure", "message": INCONSISTENT_CONTINUE, "reason": "Expired", "code": 410,
    }  # fmt: skip
    # the token in the Status goes on at the latest resourceVersion, so it shows c9 made since
    rest = api.get(url, params={"continue": resp.json()["metadata"]["continue"]}).json()
    assert names(rest) == ["c2", "c3", "c4", "c9", "kube-root-ca.crt"]
    assert int(rest["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    # a first chunk at an expired resourceVersion
    old = api.get(url, params={"limit": 2, "resourceVersion": first["metadata"]["resourceVersion"]})
    assert (old.status_code, old.json()["message"]) == (
        410,
        "The resourceVersion for the provided list is too old.",
    )


def _bad_request(message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": "BadRequest", "code": 400}  # fmt: skip


NOT_VALID = "invalid continue token: continue key is not valid: "
V2_TOKEN = base64.urlsafe_b64encode(b'{"v":"meta.k8s.io/v2","rv":5,"start":"a"}').decode().rstrip("=")


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"continue": "a=b"}, _bad_request(NOT_VALID + "illegal base64 data at input byte 1")),
        ({"continue": "eyJ2Ijoi"}, _bad_request(NOT_VALID + "unexpected end of JSON input")),
        ({"continue": token("c1\x00", 0)},
         _bad_request(NOT_VALID + "incorrect encoded start resourceVersion (version meta.k8s.io/v1)")),
        ({"continue": token("", 5)},
         _bad_request(NOT_VALID + "encoded start key empty (version meta.k8s.io/v1)")),
        ({"continue": token("../kube-system/x", 5)}, _bad_request(NOT_VALID + "../kube-system/x")),
        ({"continue": V2_TOKEN},
         _bad_request(NOT_VALID + 'server does not recognize this encoded version "meta.k8s.io/v2"')),
        ({"continue": token("c1\x00", 5), "resourceVersion": "7"},
         _bad_request("specifying resource version is not allowed when using continue")),
        ({"continue": token("c1\x00", 10**9)},
         {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
          "message": "etcdserver: mvcc: required revision is a future revision", "code": 500}),
    ],
)  # fmt: skip
def test_refused_continue_tokens(
    api: httpx.Client, ns: str, params: dict[str, Any], status: dict[str, Any]
) -> None:
    resp = api.get(f"/api/v1/namespaces/{ns}/configmaps", params={"limit": 2, **params})
    assert (resp.status_code, resp.json()) == (status["code"], status)


def test_resource_version_match_is_refused_with_continue(api: httpx.Client, ns: str) -> None:
    """ValidateListOptions.  (The message is left out: like every 422 here it names the kind without its
    group, where NewInvalid says ``ListOptions.meta.k8s.io``.)"""
    params = {
        "limit": 2,
        "continue": token("c1\x00", 5),
        "resourceVersion": "5",
        "resourceVersionMatch": "Exact",
    }
    resp = api.get(f"/api/v1/namespaces/{ns}/configmaps", params=params)
    body = resp.json()
    assert (resp.status_code, body["reason"]) == (422, "Invalid")
    assert body["details"] == {
        "group": "meta.k8s.io", "kind": "ListOptions",
        "causes": [{"reason": "FieldValueForbidden", "field": "resourceVersionMatch",
                    "message": "Forbidden: resourceVersionMatch is forbidden when continue is provided"}],
    }  # fmt: skip


def test_kubectl_get_chunk_size(server: Standalone, ns: str) -> None:
    def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [KUBECTL, "--kubeconfig", str(server.kubeconfig), "-n", ns, "get", "configmaps", *args],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip

    out = kubectl("--chunk-size=2", "-o", "name", "-v=6")
    assert out.stdout.split() == [
        f"configmap/{n}" for n in ("c0", "c1", "c2", "c3", "c4", "kube-root-ca.crt")
    ]
    requests = [line for line in out.stderr.splitlines() if "/configmaps?" in line and "200 OK" in line]
    assert len(requests) == 3 and all("limit=2" in r for r in requests)
    assert sum("continue=" in r for r in requests) == 2
    table = kubectl("--chunk-size=2").stdout.splitlines()  # Table chunks: one header, every row
    assert table[0].split() == ["NAME", "DATA", "AGE"]
    assert [row.split()[0] for row in table[1:]] == ["c0", "c1", "c2", "c3", "c4", "kube-root-ca.crt"]
