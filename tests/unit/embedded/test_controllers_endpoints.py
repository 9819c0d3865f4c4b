"""Endpoints computation: readiness split, named target ports, terminating and finished pods."""

from __future__ import annotations

from typing import Any

from harness.clusters.embedded.controllers.endpoints import endpoint_subsets, resolve_target_port


def service(target: Any = "http", publish_not_ready: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"app": "hub"},
        "ports": [{"name": "web", "port": 80, "targetPort": target, "protocol": "TCP"}],
    }
    if publish_not_ready:
        spec["publishNotReadyAddresses"] = True
    return {"metadata": {"name": "hub", "namespace": "ns"}, "spec": spec}


def pod(name: str, ip: str | None, ready: bool, *, port: int = 8081, **extra: Any) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": "Running", "conditions": [{"type": "Ready", "status": str(ready)}]}
    if ip:
        status["podIP"] = ip
    meta: dict[str, Any] = {"name": name, "namespace": "ns", "uid": f"{name}-uid", "labels": {"app": "hub"}}
    meta.update(extra.pop("meta", {}))
    spec = {
        "nodeName": "node",
        "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": port}]}],
    }
    spec.update(extra)
    return {"metadata": meta, "spec": spec, "status": status}


def test_ready_and_not_ready_addresses_with_named_port() -> None:
    pods = [
        pod("b", "10.0.0.10", True),
        pod("a", "10.0.0.9", True),
        pod("c", "10.0.0.11", False),
        pod("d", None, True),
    ]
    (subset,) = endpoint_subsets(service(), pods)
    assert [a["ip"] for a in subset["addresses"]] == ["10.0.0.9", "10.0.0.10"]  # numeric IP order
    assert [a["ip"] for a in subset["notReadyAddresses"]] == ["10.0.0.11"]
    assert subset["ports"] == [{"name": "web", "port": 8081, "protocol": "TCP"}]
    assert subset["addresses"][0]["targetRef"] == {
        "kind": "Pod",
        "namespace": "ns",
        "name": "a",
        "uid": "a-uid",
        "resourceVersion": "",
    }
    assert subset["addresses"][0]["nodeName"] == "node"


def test_pods_with_different_resolved_ports_get_separate_subsets() -> None:
    subsets = endpoint_subsets(
        service(), [pod("a", "10.0.0.1", True, port=1), pod("b", "10.0.0.2", True, port=2)]
    )
    assert sorted(s["ports"][0]["port"] for s in subsets) == [1, 2]


def test_numeric_target_port_and_unresolvable_name() -> None:
    assert resolve_target_port({"port": 80, "targetPort": 9000}, pod("a", "1.1.1.1", True)) == 9000
    assert resolve_target_port({"port": 80}, pod("a", "1.1.1.1", True)) == 80
    assert resolve_target_port({"port": 80, "targetPort": "nope"}, pod("a", "1.1.1.1", True)) is None
    assert endpoint_subsets(service("nope"), [pod("a", "1.1.1.1", True)]) == []


def test_terminating_finished_and_unselected_pods_are_left_out() -> None:
    terminating = pod("t", "10.0.0.1", True, meta={"deletionTimestamp": "2026-01-01T00:00:00Z"})
    finished = pod("f", "10.0.0.2", False, restartPolicy="Never")
    finished["status"]["phase"] = "Succeeded"
    other = pod("o", "10.0.0.3", True, meta={"labels": {"app": "proxy"}})
    assert endpoint_subsets(service(), [terminating, finished, other]) == []
    (subset,) = endpoint_subsets(service(publish_not_ready=True), [terminating, pod("u", "10.0.0.4", False)])
    assert [a["ip"] for a in subset["addresses"]] == ["10.0.0.1", "10.0.0.4"]


def test_service_without_selector_selects_nothing() -> None:
    svc = service()
    svc["spec"]["selector"] = {}
    assert endpoint_subsets(svc, [pod("a", "10.0.0.1", True)]) == []
