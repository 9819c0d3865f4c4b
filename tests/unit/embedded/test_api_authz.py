"""RBAC rule evaluation and denial messages (pure logic, on a real Store in a temp dir)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.clusters.embedded.apiserver import authz
from harness.clusters.embedded.apiserver.store import Store
from harness.clusters.embedded.apiserver.tables import human_duration

SA = authz.impersonated("system:serviceaccount:hub:hub", [])


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "s.db")
    s.put("roles", "hub", {"metadata": {"name": "spawner", "namespace": "hub"}, "rules": [
        {"apiGroups": [""], "resources": ["pods", "persistentvolumeclaims"],
         "verbs": ["get", "list", "watch", "create"]},
        {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["hub-secret"], "verbs": ["get"]},
    ]})  # fmt: skip
    s.put("rolebindings", "hub", {"metadata": {"name": "spawner", "namespace": "hub"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "spawner"},
        "subjects": [{"kind": "ServiceAccount", "name": "hub"}]})  # fmt: skip
    s.put("clusterroles", "", {"metadata": {"name": "nodes-read"}, "rules": [
        {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]}]})  # fmt: skip
    s.put("clusterrolebindings", "", {"metadata": {"name": "all-sa-nodes"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "nodes-read"},
        "subjects": [{"kind": "Group", "name": "system:serviceaccounts"}]})  # fmt: skip
    return s


@pytest.mark.parametrize(
    ("attrs", "allowed"),
    [
        (authz.Attributes("list", "pods", "", "hub"), True),
        (authz.Attributes("delete", "pods", "", "hub", "p"), False),
        (authz.Attributes("list", "pods", "", "other"), False),
        (authz.Attributes("get", "pods", "", "hub", "p", "log"), True),
        (authz.Attributes("create", "pods", "", "hub", "p", "exec"), False),
        (authz.Attributes("get", "secrets", "", "hub", "hub-secret"), True),
        (authz.Attributes("get", "secrets", "", "hub", "other"), False),
        (authz.Attributes("list", "nodes"), True),
        (authz.Attributes("list", "deployments", "apps", "hub"), False),
        (authz.Attributes("get", path="/apis"), True),
        (authz.Attributes("get", path="/metrics"), False),
    ],
)
def test_rbac(store: Store, attrs: authz.Attributes, allowed: bool) -> None:
    assert authz.authorize(store, SA, attrs) is allowed


def test_masters_bypass_rbac(store: Store) -> None:
    admin = authz.User(authz.ADMIN_USER, (authz.MASTERS,))
    assert authz.authorize(store, admin, authz.Attributes("delete", "nodes", name="n"))


def test_denial_messages() -> None:
    assert authz.forbidden_message(SA, authz.Attributes("list", "secrets", "", "hub")) == (
        'User "system:serviceaccount:hub:hub" cannot list resource "secrets" in API group "" '
        'in the namespace "hub"'
    )
    assert authz.forbidden_message(SA, authz.Attributes("create", "pods", "", "hub", "p", "exec")) == (
        'User "system:serviceaccount:hub:hub" cannot create resource "pods" subresource "exec" '
        'in API group "" in the namespace "hub"'
    )
    assert authz.forbidden_message(SA, authz.Attributes("list", "nodes")).endswith("at the cluster scope")


DURATIONS = [
    (5, "5s"),
    (119, "119s"),
    (150, "2m30s"),
    (600, "10m"),
    (3 * 3600 + 60, "3h1m"),
    (30 * 3600, "30h"),
]


@pytest.mark.parametrize(("seconds", "text"), [*DURATIONS, (3 * 86400, "3d")])
def test_human_duration(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text
