"""Kubernetes objects of one harness-deployed JupyterHub, as plain dicts.

The set mirrors what zero-to-jupyterhub deploys (hub ServiceAccount + Role, hub Deployment with
its sqlite DB on a PVC, configurable-http-proxy as its own Deployment), cut down to what the
storage scenarios need.  Every object carries the harness's managed-by label so teardown and
diagnostics can find exactly what the harness made.
"""

from __future__ import annotations

import hashlib
from typing import Any

from harness.clusters.base import MANAGED_BY_LABEL, MANAGED_BY_VALUE, Images
from harness.hub.config import CONFIG_DIR, CONFIG_FILE, DATA_DIR, HARNESS_TOKEN_ENV, PROXY_TOKEN_ENV

HUB_LABELS = {"app": "jupyterhub", "component": "hub"}
PROXY_LABELS = {"app": "jupyterhub", "component": "proxy"}
SECRET_NAME = "hub-secrets"
CONFIGMAP_NAME = "hub-config"
HUB_DB_PVC = "hub-db"
HUB_PORT = 8081
PROXY_PUBLIC_PORT = 80
PROXY_API_PORT = 8001

Manifest = dict[str, Any]
#: On the hub pod template: a config change changes the template, so the Deployment rolls.
CONFIG_SHA_ANNOTATION = "jupyterhub-storage-conformance/config-sha"


def config_sha(config_text: str) -> str:
    return hashlib.sha256(config_text.encode()).hexdigest()[:16]


def is_hub_infrastructure(obj: dict[str, Any]) -> bool:
    """Whether the harness made ``obj`` for the hub itself (the hub's DB claim, its Deployment...).

    State checks leave these out: they are not user storage. Objects a scenario step creates (a
    pre-provisioned claim) carry the managed-by label too, for cleanup, but not the hub's labels.
    """
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return labels.get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE and all(
        labels.get(k) == v for k, v in HUB_LABELS.items()
    )


def _meta(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"name": name, "labels": {**(labels or {}), MANAGED_BY_LABEL: MANAGED_BY_VALUE}}


def namespace(name: str) -> Manifest:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(name)}


def rbac() -> list[Manifest]:
    """ServiceAccount ``hub`` with the z2jh hub Role: what KubeSpawner needs in its namespace."""
    rules = [
        {
            "apiGroups": [""],
            "resources": ["pods", "persistentvolumeclaims", "secrets", "services"],
            "verbs": ["get", "watch", "list", "create", "delete"],
        },
        {"apiGroups": [""], "resources": ["events"], "verbs": ["get", "watch", "list"]},
    ]
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta("hub", HUB_LABELS)},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": _meta("hub", HUB_LABELS),
            "rules": rules,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": _meta("hub", HUB_LABELS),
            "subjects": [{"kind": "ServiceAccount", "name": "hub"}],
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "hub"},
        },
    ]


def secret(proxy_token: str, harness_token: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _meta(SECRET_NAME, HUB_LABELS),
        "type": "Opaque",
        "stringData": {"proxy-token": proxy_token, "harness-token": harness_token},
    }


def config_map(config_text: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(CONFIGMAP_NAME, HUB_LABELS),
        "data": {CONFIG_FILE: config_text},
    }


def hub_db_pvc() -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": _meta(HUB_DB_PVC, HUB_LABELS),
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }


def _secret_env(name: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": SECRET_NAME, "key": key}}}


def hub_deployment(images: Images, config_text: str) -> Manifest:
    """Hub Deployment (Recreate: two hubs must never share the sqlite DB)."""
    container = {
        "name": "hub",
        "image": images.hub,
        "imagePullPolicy": images.pull_policy,
        "args": ["jupyterhub", "--config", f"{CONFIG_DIR}/{CONFIG_FILE}"],
        "workingDir": DATA_DIR,
        "env": [
            _secret_env(PROXY_TOKEN_ENV, "proxy-token"),
            _secret_env(HARNESS_TOKEN_ENV, "harness-token"),
            {"name": "PYTHONUNBUFFERED", "value": "1"},
        ],
        "ports": [{"name": "hub", "containerPort": HUB_PORT}],
        # z2jh's values: a hub that is busy for a moment (a spawn's first KubeSpawner imports) must not
        # drop out of the Service's endpoints, which would cut the proxy and every server off it.
        # periodSeconds 1 (Kubernetes' minimum): the deploy and restart_hub wait for the first success,
        # which lags the hub's start by half a period on average.
        "readinessProbe": {
            "httpGet": {"path": "/hub/health", "port": "hub"},
            "periodSeconds": 1,
            "timeoutSeconds": 1,
            "failureThreshold": 1000,
        },
        "volumeMounts": [
            {"name": "config", "mountPath": CONFIG_DIR},
            {"name": "hub-db", "mountPath": DATA_DIR},
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta("hub", HUB_LABELS),
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": dict(HUB_LABELS)},
            "template": {
                "metadata": {
                    "labels": {**HUB_LABELS, MANAGED_BY_LABEL: MANAGED_BY_VALUE},
                    "annotations": {CONFIG_SHA_ANNOTATION: config_sha(config_text)},
                },
                "spec": {
                    "serviceAccountName": "hub",
                    "terminationGracePeriodSeconds": 5,
                    "securityContext": {"runAsUser": 1000, "runAsGroup": 100, "fsGroup": 100},
                    "containers": [container],
                    "volumes": [
                        {"name": "config", "configMap": {"name": CONFIGMAP_NAME}},
                        {"name": "hub-db", "persistentVolumeClaim": {"claimName": HUB_DB_PVC}},
                    ],
                },
            },
        },
    }


def proxy_deployment(images: Images) -> Manifest:
    container = {
        "name": "chp",
        "image": images.proxy,
        "imagePullPolicy": images.pull_policy,
        "command": [
            "configurable-http-proxy",
            "--ip=0.0.0.0",
            "--port=8000",
            "--api-ip=0.0.0.0",
            f"--api-port={PROXY_API_PORT}",
            f"--default-target=http://hub:{HUB_PORT}",
            f"--error-target=http://hub:{HUB_PORT}/hub/error",
        ],
        "env": [_secret_env(PROXY_TOKEN_ENV, "proxy-token"), {"name": "PYTHONUNBUFFERED", "value": "1"}],
        "ports": [
            {"name": "http", "containerPort": 8000},
            {"name": "api", "containerPort": PROXY_API_PORT},
        ],
        "readinessProbe": {"tcpSocket": {"port": "http"}, "periodSeconds": 1},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta("proxy", PROXY_LABELS),
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": dict(PROXY_LABELS)},
            "template": {
                "metadata": {"labels": {**PROXY_LABELS, MANAGED_BY_LABEL: MANAGED_BY_VALUE}},
                "spec": {
                    "terminationGracePeriodSeconds": 5,
                    "securityContext": {"runAsUser": 1000, "runAsGroup": 100},
                    "containers": [container],
                },
            },
        },
    }


def service(name: str, selector: dict[str, str], port: int, target: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(name, selector),
        "spec": {"selector": dict(selector), "ports": [{"name": target, "port": port, "targetPort": target}]},
    }


def hub_objects(images: Images, config_text: str, proxy_token: str, harness_token: str) -> list[Manifest]:
    """All namespaced objects, in creation order (the namespace itself is created first, separately)."""
    return [
        *rbac(),
        secret(proxy_token, harness_token),
        config_map(config_text),
        hub_db_pvc(),
        service("hub", HUB_LABELS, HUB_PORT, "hub"),
        service("proxy-api", PROXY_LABELS, PROXY_API_PORT, "api"),
        service("proxy-public", PROXY_LABELS, PROXY_PUBLIC_PORT, "http"),
        proxy_deployment(images),
        hub_deployment(images, config_text),
    ]
