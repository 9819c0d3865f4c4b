"""The objects every cluster starts with, created (idempotently) on each start of the API server: the
four system namespaces, the ``kubernetes`` Service and its Endpoints (pointing at this server), and the
user-facing ClusterRoles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .registry import Registry

Obj = dict[str, Any]

NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")

_READ = ["get", "list", "watch"]
_WRITE = ["create", "delete", "deletecollection", "patch", "update"]
_CORE_NAMESPACED = ["pods", "pods/log", "pods/exec", "pods/status", "services", "endpoints",
                    "persistentvolumeclaims", "configmaps", "secrets", "serviceaccounts",
                    "events"]  # fmt: skip
_APPS = ["deployments", "replicasets", "deployments/scale", "replicasets/scale"]
_RBAC = "rbac.authorization.k8s.io"


def _role(name: str, rules: list[Obj]) -> Obj:
    return {
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
        },
        "rules": rules,
    }


def cluster_roles() -> list[Obj]:
    """The aggregate user-facing ClusterRoles of a fresh cluster (simplified: no aggregation rules)."""
    edit = [
        {"apiGroups": [""], "resources": _CORE_NAMESPACED, "verbs": _READ + _WRITE},
        {"apiGroups": ["apps"], "resources": _APPS, "verbs": _READ + _WRITE},
    ]
    viewable = [r for r in _CORE_NAMESPACED if r not in ("secrets", "pods/exec")]
    return [
        _role(
            "cluster-admin",
            [
                {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                {"nonResourceURLs": ["*"], "verbs": ["*"]},
            ],
        ),
        _role(
            "admin",
            [*edit, {"apiGroups": [_RBAC], "resources": ["roles", "rolebindings"], "verbs": _READ + _WRITE}],
        ),
        _role("edit", edit),
        _role(
            "view",
            [
                {"apiGroups": [""], "resources": viewable, "verbs": _READ},
                {"apiGroups": ["apps"], "resources": _APPS, "verbs": _READ},
            ],
        ),
    ]


async def bootstrap(registry: Registry) -> None:
    """Create what is missing; move the ``kubernetes`` Service when the service CIDR changed."""
    store, config = registry.store, registry.config
    for ns in NAMESPACES:
        if store.get("namespaces", "", ns) is None:
            await registry.create("namespaces", None, {"metadata": {"name": ns}})
    existing = store.get("services", "default", "kubernetes")
    if existing is not None and existing["spec"].get("clusterIP") != config.kubernetes_service_ip:
        # the service CIDR changed since the last run (old one no longer free): move the Service
        store.remove("services", "default", existing)
        existing = None
    if existing is None:
        service = {
            "metadata": {
                "name": "kubernetes",
                "labels": {"component": "apiserver", "provider": "kubernetes"},
            },
            "spec": {
                "clusterIP": config.kubernetes_service_ip,
                "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
            },
        }
        await registry.create("services", "default", service)
    await _sync_kubernetes_endpoints(registry)
    for role in cluster_roles():
        if store.get("clusterroles", "", role["metadata"]["name"]) is None:
            await registry.create("clusterroles", None, role)


async def _sync_kubernetes_endpoints(registry: Registry) -> None:
    """``default/kubernetes`` Endpoints point at this apiserver: gateway:port (refreshed every start)."""
    subsets = [
        {
            "addresses": [{"ip": registry.config.gateway}],
            "ports": [{"name": "https", "port": registry.config.api_port, "protocol": "TCP"}],
        }
    ]
    existing = registry.store.get("endpoints", "default", "kubernetes")
    if existing is None:
        labels = {"endpointslice.kubernetes.io/skip-mirror": "true"}
        body = {"metadata": {"name": "kubernetes", "labels": labels}, "subsets": subsets}
        await registry.create("endpoints", "default", body)
    elif existing.get("subsets") != subsets:
        existing["subsets"] = subsets
        await registry.update("endpoints", "default", existing)
