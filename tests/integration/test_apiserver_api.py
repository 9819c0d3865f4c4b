"""The embedded API server driven by the official clients (``kubernetes``, ``kubernetes_asyncio``, kubectl):
watch semantics, optimistic concurrency, patches, deletion, RBAC and durability across restarts.
"""

# The typed kubernetes client marks every field Optional and wants models; these tests read what they
# just wrote and pass plain dicts, as the client accepts at runtime.
# mypy: disable-error-code="union-attr,arg-type,index"

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException

from harness.clusters.embedded.apiserver.standalone import Standalone, http_client, standalone_server

pytestmark = pytest.mark.slow

KUBECTL = str(Path(sys.executable).parent / "kubectl")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Standalone]:
    with standalone_server(tmp_path_factory.mktemp("apiserver"), watch_window=50) as it:
        yield it


@pytest.fixture(scope="module")
def api_client(server: Standalone) -> client.ApiClient:
    return config.new_client_from_config(str(server.kubeconfig))


@pytest.fixture
def ns(api_client: client.ApiClient) -> str:
    """A fresh namespace with its ``default`` ServiceAccount (no controllers run here)."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(api_client)
    core.create_namespace({"metadata": {"name": name}})
    core.create_namespaced_service_account(name, {"metadata": {"name": "default"}})
    return name


def cm(name: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels}, "data": {"k": "v"}}


def test_list_carries_resource_version_and_items_metadata(api_client: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api_client)
    made = core.create_namespaced_config_map(ns, cm("a"))
    listed = core.list_namespaced_config_map(ns)
    assert int(listed.metadata.resource_version) >= int(made.metadata.resource_version)
    item = listed.items[0]
    assert (item.metadata.namespace, item.metadata.name) == (ns, "a")
    assert item.metadata.uid and item.metadata.creation_timestamp
    assert core.list_namespaced_config_map(ns, resource_version="0").items[0].metadata.name == "a"


def test_stale_update_is_a_409_conflict(api_client: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api_client)
    first = core.create_namespaced_config_map(ns, cm("x"))
    first.data = {"k": "1"}
    core.replace_namespaced_config_map("x", ns, first)
    first.data = {"k": "2"}  # still carries the old resourceVersion
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_config_map("x", ns, first)
    assert err.value.status == 409
    assert json.loads(err.value.body) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'Operation cannot be fulfilled on configmaps "x": the object has been modified; '
        "please apply your changes to the latest version and try again",
        "reason": "Conflict", "details": {"name": "x", "kind": "configmaps"}, "code": 409,
    }  # fmt: skip


def test_watch_resumes_strictly_after_resource_version(api_client: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api_client)
    a = core.create_namespaced_config_map(ns, cm("a"))
    core.create_namespaced_config_map(ns, cm("b"))
    core.delete_namespaced_config_map("a", ns)
    w = watch.Watch()
    seen = []
    for ev in w.stream(
        core.list_namespaced_config_map, ns, resource_version=a.metadata.resource_version, timeout_seconds=1
    ):
        seen.append((ev["type"], ev["object"].metadata.name))
    assert seen == [("ADDED", "b"), ("DELETED", "a")]


def test_watch_with_label_selector_sees_objects_leave_and_enter(
    api_client: client.ApiClient, ns: str
) -> None:
    core = client.CoreV1Api(api_client)
    start = core.list_namespaced_config_map(ns).metadata.resource_version
    core.create_namespaced_config_map(ns, cm("sel", app="hub"))
    core.patch_namespaced_config_map("sel", ns, {"metadata": {"labels": {"app": "other"}}})
    core.patch_namespaced_config_map("sel", ns, {"metadata": {"labels": {"app": "hub"}}})
    events = [
        ev["type"]
        for ev in watch.Watch().stream(
            core.list_namespaced_config_map, ns, label_selector="app in (hub)", resource_version=start,
            timeout_seconds=1,
        )
    ]  # fmt: skip
    assert events == ["ADDED", "DELETED", "ADDED"]


def test_watch_from_expired_resource_version_gets_410(
    server: Standalone, api_client: client.ApiClient, ns: str
) -> None:
    core = client.CoreV1Api(api_client)
    old = core.create_namespaced_config_map(ns, cm("old")).metadata.resource_version
    for i in range(60):  # the window is 50 events in this fixture
        core.create_namespaced_config_map(ns, cm(f"n{i}"))
    floor = server.registry.store.window_floor
    with http_client(server.kubeconfig) as c:
        resp = c.get(f"/api/v1/namespaces/{ns}/configmaps", params={"watch": "1", "resourceVersion": old})
    assert resp.status_code == 200
    assert json.loads(resp.text.splitlines()[0]) == {
        "type": "ERROR",
        "object": {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": f"too old resource version: {old} ({floor})", "reason": "Expired", "code": 410,
        },
    }  # fmt: skip


def test_watch_timeout_and_bookmarks(server: Standalone, ns: str) -> None:
    with http_client(server.kubeconfig) as c:
        t0 = time.monotonic()
        resp = c.get(
            f"/api/v1/namespaces/{ns}/configmaps",
            params={
                "watch": "1",
                "timeoutSeconds": "3",
                "allowWatchBookmarks": "true",
                "labelSelector": "none",
            },
            timeout=10,
        )
        took = time.monotonic() - t0
        lines = [json.loads(x) for x in resp.text.splitlines()]
        assert 2.5 <= took < 6
        assert [x["type"] for x in lines] == ["BOOKMARK"]
        assert lines[0]["object"]["kind"] == "ConfigMap"
        assert int(lines[0]["object"]["metadata"]["resourceVersion"]) > 0
        plain = c.get(
            f"/api/v1/namespaces/{ns}/configmaps",
            params={"watch": "1", "timeoutSeconds": "3", "labelSelector": "none"},
            timeout=10,
        )
        assert plain.text == ""


def test_watch_survives_client_disconnect(server: Standalone, ns: str) -> None:
    before = len(server.registry.store._watchers)
    with (
        http_client(server.kubeconfig) as c,
        c.stream("GET", f"/api/v1/namespaces/{ns}/configmaps", params={"watch": "1"}) as resp,
    ):
        assert resp.status_code == 200
        deadline = time.monotonic() + 5
        while len(server.registry.store._watchers) <= before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(server.registry.store._watchers) == before + 1
    deadline = time.monotonic() + 5
    while len(server.registry.store._watchers) > before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(server.registry.store._watchers) == before
    with http_client(server.kubeconfig) as c:
        assert c.get("/readyz").text == "ok"


def test_patch_flavours(ns: str, server: Standalone) -> None:
    containers = [
        {"name": "a", "image": "busybox", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]},
        {"name": "b", "image": "busybox", "ports": [{"containerPort": 80}]},
    ]
    deploy = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"app": "d"}},
                 "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": containers}}},
    }  # fmt: skip
    path = f"/apis/apps/v1/namespaces/{ns}/deployments/d"
    with http_client(server.kubeconfig) as c:
        assert c.post(f"/apis/apps/v1/namespaces/{ns}/deployments", json=deploy).status_code == 201
        # strategic merge: containers merge by name, env by name, ports by containerPort, $patch: delete
        smp = {"spec": {"template": {"spec": {"containers": [
            {"name": "a", "image": "busybox:2", "env": [{"name": "X", "$patch": "delete"}]},
            {"name": "b", "ports": [{"containerPort": 81}]},
        ]}}}}  # fmt: skip
        resp = c.patch(
            path, content=json.dumps(smp), headers={"Content-Type": "application/strategic-merge-patch+json"}
        )
        assert resp.status_code == 200, resp.text
        got = resp.json()["spec"]["template"]["spec"]["containers"]
        assert [x["name"] for x in got] == ["a", "b"]
        assert got[0]["image"] == "busybox:2"
        assert got[0]["env"] == [{"name": "Y", "value": "2"}]
        assert [p["containerPort"] for p in got[1]["ports"]] == [80, 81]
        assert resp.json()["metadata"]["generation"] == 2
        resp = c.patch(
            path,
            content=json.dumps([{"op": "add", "path": "/metadata/labels", "value": {"a": "b"}}]),
            headers={"Content-Type": "application/json-patch+json"},
        )
        assert resp.json()["metadata"]["labels"] == {"a": "b"}
        resp = c.patch(
            path,
            content=json.dumps({"metadata": {"labels": {"a": None, "c": "d"}}}),
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert resp.json()["metadata"]["labels"] == {"c": "d"}
        assert resp.json()["metadata"]["generation"] == 2  # metadata-only change


def test_graceful_pod_deletion_and_finalizers(
    api_client: client.ApiClient, ns: str, server: Standalone
) -> None:
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod(
        ns, {"metadata": {"name": "g"}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    )
    server.call(server.registry.bind(ns, "g", "embedded-node"))
    core.delete_namespaced_pod("g", ns)
    lingering = core.read_namespaced_pod("g", ns)
    assert lingering.metadata.deletion_timestamp is not None
    assert lingering.metadata.deletion_grace_period_seconds == 30
    core.delete_namespaced_pod("g", ns, grace_period_seconds=0)  # what the kubelet does once containers stop
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod("g", ns)
    assert err.value.status == 404
    core.create_namespaced_config_map(ns, {"metadata": {"name": "f", "finalizers": ["example.com/keep"]}})
    core.delete_namespaced_config_map("f", ns)
    kept = core.read_namespaced_config_map("f", ns)
    assert kept.metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map("f", ns, {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException):
        core.read_namespaced_config_map("f", ns)


def test_terminating_namespace_refuses_new_content(api_client: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api_client)
    core.delete_namespace(ns)
    assert core.read_namespace(ns).status.phase == "Terminating"
    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map(ns, cm("late"))
    body = json.loads(err.value.body)
    assert err.value.status == 403
    assert body["message"] == (
        f'configmaps "late" is forbidden: unable to create new content in namespace {ns} '
        "because it is being terminated"
    )


def test_service_cluster_ip_allocation(api_client: client.ApiClient, ns: str, server: Standalone) -> None:
    core = client.CoreV1Api(api_client)
    kube = core.read_namespaced_service("kubernetes", "default")
    assert kube.spec.cluster_ip == server.config.kubernetes_service_ip
    svc = core.create_namespaced_service(
        ns, {"metadata": {"name": "hub"}, "spec": {"ports": [{"port": 8081}]}}
    )
    assert svc.spec.cluster_ip not in (None, "", kube.spec.cluster_ip)
    assert svc.spec.ports[0].target_port == 8081
    eps = core.read_namespaced_endpoints("kubernetes", "default")
    assert eps.subsets[0].ports[0].port == server.config.api_port


def test_rbac_allows_bound_and_denies_the_rest(
    api_client: client.ApiClient, ns: str, server: Standalone
) -> None:
    core = client.CoreV1Api(api_client)
    rbac = client.RbacAuthorizationV1Api(api_client)
    core.create_namespaced_service_account(ns, {"metadata": {"name": "hub"}})
    rbac.create_namespaced_role(ns, {"metadata": {"name": "pods"}, "rules": [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]})  # fmt: skip
    rbac.create_namespaced_role_binding(ns, {"metadata": {"name": "hub-pods"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pods"},
        "subjects": [{"kind": "ServiceAccount", "name": "hub", "namespace": ns}]})  # fmt: skip
    token = server.call(server.registry.service_account_token(ns, "hub"))
    with http_client(server.kubeconfig) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        assert c.get(f"/api/v1/namespaces/{ns}/pods").status_code == 200
        denied = c.get(f"/api/v1/namespaces/{ns}/secrets")
        assert denied.status_code == 403
        assert denied.json() == {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": f'secrets is forbidden: User "system:serviceaccount:{ns}:hub" cannot list resource '
            f'"secrets" in API group "" in the namespace "{ns}"',
            "reason": "Forbidden", "details": {"kind": "secrets"}, "code": 403,
        }  # fmt: skip
        assert c.get("/api/v1/namespaces/default/pods").status_code == 403
        attrs = {"verb": "watch", "resource": "pods", "namespace": ns}
        review = c.post(
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            json={"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                  "spec": {"resourceAttributes": attrs}},
        )  # fmt: skip
        assert review.json()["status"]["allowed"] is True


def test_kubectl_get_apply_describe_delete(server: Standalone, ns: str, tmp_path: Path) -> None:
    def kubectl(*args: str, stdin: str | None = None) -> str:
        out = subprocess.run(
            [KUBECTL, "--kubeconfig", str(server.kubeconfig), "-n", ns, *args],
            input=stdin, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        return out.stdout

    manifest = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  labels: {app: hub}\ndata:\n  a: '1'\n"
    )
    kubectl("apply", "-f", "-", stdin=manifest)
    kubectl("apply", "-f", "-", stdin=manifest.replace("a: '1'", "a: '2'\n  b: '3'"))
    got = json.loads(kubectl("get", "configmap", "cfg", "-o", "json"))
    assert got["data"] == {"a": "2", "b": "3"}
    assert "kubectl.kubernetes.io/last-applied-configuration" in got["metadata"]["annotations"]
    assert "cfg" in kubectl("get", "cm", "-l", "app=hub", "-o", "wide")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "wide"},
           "spec": {"containers": [{"name": "c", "image": "i"}]}}  # fmt: skip
    kubectl("apply", "-f", "-", stdin=json.dumps(pod))
    header, row = kubectl("get", "pods", "wide", "-o", "wide").splitlines()
    assert header.split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE",
                              "READINESS", "GATES"]  # fmt: skip
    assert row.split()[:3] == ["wide", "0/1", "Pending"]
    assert "Name:" in kubectl("describe", "configmap", "cfg")
    assert "yes" in kubectl("auth", "can-i", "create", "pods")
    # typed generators post protobuf bodies
    kubectl("create", "configmap", "gen", "--from-literal=k=v")
    kubectl("create", "secret", "generic", "gen", "--from-literal=k=v")
    kubectl("create", "deployment", "gen", "--image=busybox", "--replicas=2")
    assert json.loads(kubectl("get", "cm", "gen", "-o", "json"))["data"] == {"k": "v"}
    assert json.loads(kubectl("get", "secret", "gen", "-o", "json"))["data"] == {"k": "dg=="}
    assert json.loads(kubectl("get", "deploy", "gen", "-o", "json"))["spec"]["replicas"] == 2
    kubectl("delete", "configmap", "cfg")
    assert "cfg" not in kubectl("get", "cm")


def test_kubernetes_asyncio_client_lists_and_watches(server: Standalone, ns: str) -> None:
    from kubernetes_asyncio import client as aclient
    from kubernetes_asyncio import config as aconfig
    from kubernetes_asyncio import watch as awatch

    async def run() -> list[str]:
        api = await aconfig.new_client_from_config(str(server.kubeconfig))
        async with api:
            core = aclient.CoreV1Api(api)
            await core.create_namespaced_config_map(ns, cm("async", a="1"))
            seen = []
            async with awatch.Watch().stream(
                core.list_namespaced_config_map, ns, label_selector="a", timeout_seconds=1
            ) as stream:
                async for ev in stream:
                    seen.append(ev["object"].metadata.name)
            return seen

    assert asyncio.run(run()) == ["async"]


def test_state_survives_restart(tmp_path: Path) -> None:
    with standalone_server(tmp_path) as first:
        core = client.CoreV1Api(config.new_client_from_config(str(first.kubeconfig)))
        core.create_namespaced_config_map("default", cm("durable"))
        rv = core.read_namespaced_config_map("durable", "default").metadata.resource_version
        token = first.registry.tokens.admin_token
    with standalone_server(tmp_path) as second:
        assert second.registry.tokens.admin_token == token
        core = client.CoreV1Api(config.new_client_from_config(str(second.kubeconfig)))
        again = core.read_namespaced_config_map("durable", "default")
        assert again.metadata.resource_version == rv
        newer = core.create_namespaced_config_map("default", cm("after"))
        assert int(newer.metadata.resource_version) > int(rv)
        with pytest.raises(ApiException) as err:  # the watch window starts at the restart
            list(watch.Watch().stream(core.list_namespaced_config_map, "default", resource_version="2",
                                      timeout_seconds=1))  # fmt: skip
        assert err.value.status == 410


def test_scale_eviction_and_token_subresources(server: Standalone, ns: str) -> None:
    deploy = {
        "metadata": {"name": "s"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "s"}},
                 "template": {"metadata": {"labels": {"app": "s"}},
                              "spec": {"containers": [{"name": "c", "image": "i"}]}}},
    }  # fmt: skip
    out = subprocess.run(
        [KUBECTL, "--kubeconfig", str(server.kubeconfig), "-n", ns, "apply", "-f", "-"],
        input=json.dumps({"apiVersion": "apps/v1", "kind": "Deployment", **deploy}),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    out = subprocess.run(
        [KUBECTL, "--kubeconfig", str(server.kubeconfig), "-n", ns, "scale", "deployment/s", "--replicas=3"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    with http_client(server.kubeconfig) as c:
        scale = c.get(f"/apis/apps/v1/namespaces/{ns}/deployments/s/scale").json()
        assert scale["spec"] == {"replicas": 3}
        assert scale["status"]["selector"] == "app=s"
        c.post(f"/api/v1/namespaces/{ns}/pods", json={"metadata": {"name": "e"},
               "spec": {"containers": [{"name": "c", "image": "i"}]}}).raise_for_status()  # fmt: skip
        eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "e"}}
        evicted = c.post(f"/api/v1/namespaces/{ns}/pods/e/eviction", json=eviction)
        assert evicted.status_code == 201
        assert c.get(f"/api/v1/namespaces/{ns}/pods/e").status_code == 404
        token = c.post(f"/api/v1/namespaces/{ns}/serviceaccounts/default/token", json={"spec": {}}).json()
        assert token["kind"] == "TokenRequest"
        who = c.post(
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            headers={"Authorization": f"Bearer {token['status']['token']}"},
            json={"spec": {"resourceAttributes": {"verb": "get", "resource": "pods", "namespace": ns}}},
        )
        assert who.json()["status"]["allowed"] is False


def test_watch_list_sends_initial_events_then_end_bookmark(server: Standalone, ns: str) -> None:
    with http_client(server.kubeconfig) as c:
        c.post(f"/api/v1/namespaces/{ns}/configmaps", json=cm("wl", wl="1")).raise_for_status()
        params = {"watch": "1", "sendInitialEvents": "true", "allowWatchBookmarks": "true"}
        params.update(resourceVersionMatch="NotOlderThan", timeoutSeconds="1", labelSelector="wl")
        events = [
            json.loads(x)
            for x in c.get(f"/api/v1/namespaces/{ns}/configmaps", params=params).text.splitlines()
        ]
        assert [e["type"] for e in events[:2]] == ["ADDED", "BOOKMARK"]
        assert events[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
        rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events[:2]]
        assert rvs[1] >= rvs[0]
        refused = c.get(
            f"/api/v1/namespaces/{ns}/configmaps", params={"watch": "1", "sendInitialEvents": "true"}
        )
        assert refused.status_code == 422


def test_server_side_dry_run_changes_nothing(server: Standalone, ns: str) -> None:
    with http_client(server.kubeconfig) as c:
        base = f"/api/v1/namespaces/{ns}/configmaps"
        assert c.post(base, params={"dryRun": "All"}, json=cm("dry")).status_code == 201
        assert c.get(f"{base}/dry").status_code == 404
        c.post(base, json=cm("dry")).raise_for_status()
        patched = c.patch(f"{base}/dry", params={"dryRun": "All"}, content=json.dumps({"data": {"k": "x"}}),
                          headers={"Content-Type": "application/merge-patch+json"})  # fmt: skip
        assert patched.json()["data"] == {"k": "x"}
        assert c.get(f"{base}/dry").json()["data"] == {"k": "v"}
        assert c.delete(f"{base}/dry", params={"dryRun": "All"}).status_code == 200
        assert c.get(f"{base}/dry").status_code == 200


def test_unknown_fields_warn_by_default_and_fail_when_strict(server: Standalone, ns: str) -> None:
    body = {**cm("unknown"), "bogus": 1}
    with http_client(server.kubeconfig) as c:
        base = f"/api/v1/namespaces/{ns}/configmaps"
        strict = c.post(base, params={"fieldValidation": "Strict"}, json=body)
        assert strict.status_code == 400
        assert strict.json()["message"] == (
            'ConfigMap in version "v1" cannot be handled as a ConfigMap: '
            'strict decoding error: unknown field "bogus"'
        )
        warned = c.post(base, json=body)
        assert warned.status_code == 201
        assert warned.headers.get_list("Warning") == ['299 - "unknown field \\"bogus\\""']
        assert "bogus" not in warned.json()


def test_unreadable_body_media_type_is_415(server: Standalone, ns: str) -> None:
    with http_client(server.kubeconfig) as c:
        resp = c.post(f"/api/v1/namespaces/{ns}/configmaps", content=b"a=b",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        assert resp.status_code == 415
        assert resp.json()["message"] == (
            "the body of the request was in an unknown format - accepted media types include: "
            "application/json, application/yaml, application/vnd.kubernetes.protobuf"
        )


def test_secret_string_data_is_folded_into_data(server: Standalone, ns: str) -> None:
    with http_client(server.kubeconfig) as c:
        base = f"/api/v1/namespaces/{ns}/secrets"
        made = c.post(
            base, json={"metadata": {"name": "s"}, "data": {"a": "YQ=="}, "stringData": {"b": "bee"}}
        )
        assert made.status_code == 201, made.text
        assert made.json()["data"] == {"a": "YQ==", "b": "YmVl"}
        assert "stringData" not in made.json()
        assert made.json()["type"] == "Opaque"
        bad = c.post(base, json={"metadata": {"name": "t"}, "data": {"a": "not base64!"}})
        assert bad.status_code == 400
        assert bad.json()["message"].startswith(
            'Secret in version "v1" cannot be handled as a Secret: illegal base64'
        )


def test_create_discards_client_status(server: Standalone, ns: str) -> None:
    with http_client(server.kubeconfig) as c:
        pod = {"metadata": {"name": "st"}, "spec": {"containers": [{"name": "c", "image": "i"}]},
               "status": {"phase": "Running", "podIP": "1.2.3.4"}}  # fmt: skip
        made = c.post(f"/api/v1/namespaces/{ns}/pods", json=pod).json()
        assert made["status"] == {"phase": "Pending", "qosClass": "BestEffort"}


def workload(kind: str, name: str) -> dict[str, object]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }


def test_kubectl_creates_workloads_without_status(
    server: Standalone, api_client: client.ApiClient, ns: str, tmp_path: Path
) -> None:
    manifest = tmp_path / "workloads.yaml"
    manifest.write_text(yaml.safe_dump_all([workload("ReplicaSet", "rs"), workload("Deployment", "dep")]))
    done = subprocess.run(
        [KUBECTL, f"--kubeconfig={server.kubeconfig}", "--namespace", ns, "create", "-f", str(manifest)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["replicaset.apps/rs created", "deployment.apps/dep created"]
    apps = client.AppsV1Api(api_client)
    rs = apps.read_namespaced_replica_set("rs", ns)
    assert (rs.status.replicas, rs.status.ready_replicas) == (0, None)
    dep = apps.read_namespaced_deployment("dep", ns)
    assert dep.status.replicas is None and dep.status.conditions is None


def test_client_sent_status_is_replaced_on_create(api_client: client.ApiClient, ns: str) -> None:
    apps = client.AppsV1Api(api_client)
    body = {**workload("ReplicaSet", "claims-ready"), "status": {"replicas": 3, "readyReplicas": 3}}
    created = apps.create_namespaced_replica_set(ns, body)
    assert (created.status.replicas, created.status.ready_replicas) == (0, None)
    core = client.CoreV1Api(api_client)
    pvc = core.create_namespaced_persistent_volume_claim(
        ns,
        {
            "metadata": {"name": "claim"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
            "status": {"phase": "Bound"},
        },
    )
    assert pvc.status.phase == "Pending"


def test_watch_as_table_for_kubectl_get_watch(server: Standalone, ns: str) -> None:
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    with http_client(server.kubeconfig) as c:
        base = f"/api/v1/namespaces/{ns}/configmaps"
        c.post(base, json=cm("t1", t="1")).raise_for_status()
        c.post(base, json=cm("t2", t="1")).raise_for_status()
        params = {"watch": "1", "labelSelector": "t", "timeoutSeconds": "1"}
        events = [
            json.loads(x) for x in c.get(base, params=params, headers={"Accept": accept}).text.splitlines()
        ]
    assert [e["object"]["kind"] for e in events] == ["Table", "Table"]
    assert [e["object"]["rows"][0]["cells"][0] for e in events] == ["t1", "t2"]
    assert events[0]["object"]["columnDefinitions"][0]["name"] == "Name"
    assert events[1]["object"]["columnDefinitions"] == []
