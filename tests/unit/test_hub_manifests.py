"""The hub's Kubernetes objects: labelled, wired together, and valid for the API server."""

from __future__ import annotations

import re

from harness.clusters.base import MANAGED_BY_LABEL, MANAGED_BY_VALUE, Images
from harness.hub import manifests
from harness.hub.deploy import namespace_name

IMAGES = Images(hub="hub:1", proxy="proxy:1", singleuser="su:1", reader="busybox", pull_policy="Never")


def _objects() -> list[dict]:
    return manifests.hub_objects(IMAGES, "c = 1\n", "ptok", "htok")


def test_every_object_is_labelled_managed_by() -> None:
    for obj in [manifests.namespace("jhsc-x"), *_objects()]:
        assert obj["metadata"]["labels"][MANAGED_BY_LABEL] == MANAGED_BY_VALUE, obj["kind"]


def test_kinds_and_names() -> None:
    names = {(o["kind"], o["metadata"]["name"]) for o in _objects()}
    assert names == {
        ("ServiceAccount", "hub"),
        ("Role", "hub"),
        ("RoleBinding", "hub"),
        ("Secret", "hub-secrets"),
        ("ConfigMap", "hub-config"),
        ("PersistentVolumeClaim", "hub-db"),
        ("Service", "hub"),
        ("Service", "proxy-api"),
        ("Service", "proxy-public"),
        ("Deployment", "proxy"),
        ("Deployment", "hub"),
    }


def test_services_select_their_deployments_and_ports() -> None:
    objs = {(o["kind"], o["metadata"]["name"]): o for o in _objects()}
    for svc, dep, port in (("hub", "hub", 8081), ("proxy-api", "proxy", 8001), ("proxy-public", "proxy", 80)):
        s, d = objs[("Service", svc)], objs[("Deployment", dep)]
        labels = d["spec"]["template"]["metadata"]["labels"]
        assert s["spec"]["selector"].items() <= labels.items()
        assert s["spec"]["ports"][0]["port"] == port
        named = {p["name"] for p in d["spec"]["template"]["spec"]["containers"][0]["ports"]}
        assert s["spec"]["ports"][0]["targetPort"] in named
    # user pods (component=singleuser-server) must never match the hub or proxy selectors
    assert objs[("Service", "hub")]["spec"]["selector"]["component"] == "hub"


def test_hub_deployment_is_recreate_with_db_on_pvc_and_images() -> None:
    objs = {(o["kind"], o["metadata"]["name"]): o for o in _objects()}
    hub = objs[("Deployment", "hub")]
    assert hub["spec"]["strategy"]["type"] == "Recreate"
    pod = hub["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "hub"
    assert {"name": "hub-db", "persistentVolumeClaim": {"claimName": "hub-db"}} in pod["volumes"]
    c = pod["containers"][0]
    assert (c["image"], c["imagePullPolicy"]) == ("hub:1", "Never")
    proxy = objs[("Deployment", "proxy")]["spec"]["template"]["spec"]["containers"][0]
    assert proxy["image"] == "proxy:1"
    assert proxy["command"][0] == "configurable-http-proxy"
    assert "--default-target=http://hub:8081" in proxy["command"]
    assert {e["name"] for e in proxy["env"]} >= {"CONFIGPROXY_AUTH_TOKEN"}


def test_config_change_rolls_the_hub() -> None:
    a = manifests.hub_deployment(IMAGES, "a")["spec"]["template"]["metadata"]["annotations"]
    b = manifests.hub_deployment(IMAGES, "b")["spec"]["template"]["metadata"]["annotations"]
    assert a != b


def test_role_covers_what_kubespawner_needs() -> None:
    role = next(o for o in _objects() if o["kind"] == "Role")
    resources = {r for rule in role["rules"] for r in rule["resources"]}
    assert {"pods", "persistentvolumeclaims", "events", "services", "secrets"} <= resources


def test_namespace_names_are_fresh_dns_labels() -> None:
    names = {namespace_name("Seed_Single.User" * 5) for _ in range(20)}
    assert len(names) == 20
    for name in names:
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name) and len(name) <= 63
        assert name.startswith("jhsc-")
