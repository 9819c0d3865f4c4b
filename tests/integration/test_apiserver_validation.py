"""Validation failures of the embedded API server, compared with kube-apiserver's exact Status bodies.

Each row is (resource path, object, expected Status).  Messages are the ones of
k8s.io/apimachinery/pkg/util/validation and pkg/apis/core/validation (Kubernetes 1.30).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from harness.clusters.embedded.apiserver.standalone import Standalone, http_client, standalone_server

pytestmark = pytest.mark.slow

SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035 = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
    "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
LABEL_VALUE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Standalone]:
    with standalone_server(tmp_path_factory.mktemp("apiserver")) as it:
        api = http_client(it.kubeconfig)
        api.post("/api/v1/namespaces/default/serviceaccounts", json={"metadata": {"name": "default"}})
        yield it


@pytest.fixture(scope="module")
def api(server: Standalone) -> Iterator[httpx.Client]:
    with http_client(server.kubeconfig) as c:
        yield c


def invalid(kind: str, name: str, *causes: tuple[str, str, str], group: str = "") -> dict[str, Any]:
    """The 422 Status for ``causes`` given as (reason, field, message-body)."""
    parts = [f"{f}: {m}" for _, f, m in causes]
    summary = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f'{kind} "{name}" is invalid: {summary}',
        "reason": "Invalid",
        "details": {
            **({"name": name} if name else {}),  # StatusDetails.name is omitempty
            **({"group": group} if group else {}),
            "kind": kind,
            "causes": [{"reason": r, "message": m, "field": f} for r, f, m in causes],
        },
        "code": 422,
    }


def pod(name: str = "p", **spec: Any) -> dict[str, Any]:
    body = {"containers": [{"name": "c", "image": "busybox"}]}
    body.update(spec)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": body}


def pvc(name: str = "claim", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    body.update(spec)
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": body}


PODS = "/api/v1/namespaces/default/pods"
PVCS = "/api/v1/namespaces/default/persistentvolumeclaims"
INV, REQ, NF, DUP, FORB = (
    "FieldValueInvalid",
    "FieldValueRequired",
    "FieldValueNotFound",
    "FieldValueDuplicate",
    "FieldValueForbidden",
)

CASES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    (
        "pvc-null-storage",
        PVCS,
        pvc(resources={"requests": {"storage": None}}),
        invalid(
            "PersistentVolumeClaim",
            "claim",
            (INV, "spec.resources[storage]", 'Invalid value: "0": must be greater than zero'),
        ),
    ),
    (
        "pvc-zero-storage",
        PVCS,
        pvc(resources={"requests": {"storage": "0"}}),
        invalid(
            "PersistentVolumeClaim",
            "claim",
            (INV, "spec.resources[storage]", 'Invalid value: "0": must be greater than zero'),
        ),
    ),
    (
        "pvc-missing-storage",
        PVCS,
        pvc(resources={"requests": {}}),
        invalid("PersistentVolumeClaim", "claim", (REQ, "spec.resources[storage]", "Required value")),
    ),
    (
        "pvc-no-access-modes",
        PVCS,
        pvc(accessModes=[]),
        invalid(
            "PersistentVolumeClaim",
            "claim",
            (REQ, "spec.accessModes", "Required value: at least 1 access mode is required"),
        ),
    ),
    (
        "pvc-bad-storage-class",
        PVCS,
        pvc(storageClassName="Fast_SSD"),
        invalid(
            "PersistentVolumeClaim",
            "claim",
            (INV, "spec.storageClassName", f'Invalid value: "Fast_SSD": {SUBDOMAIN}'),
        ),
    ),
    (
        "pvc-bad-name",
        PVCS,
        pvc(name="Claim-Alice"),
        invalid(
            "PersistentVolumeClaim",
            "Claim-Alice",
            (INV, "metadata.name", f'Invalid value: "Claim-Alice": {SUBDOMAIN}'),
        ),
    ),
    (
        "pvc-bad-label-value",
        PVCS,
        {**pvc(), "metadata": {"name": "claim", "labels": {"user": "alice@example.com"}}},
        invalid(
            "PersistentVolumeClaim",
            "claim",
            (INV, "metadata.labels", f'Invalid value: "alice@example.com": {LABEL_VALUE}'),
        ),
    ),
    (
        "pvc-long-label-value",
        PVCS,
        {**pvc(), "metadata": {"name": "claim", "labels": {"user": "a" * 64}}},
        invalid(
            "PersistentVolumeClaim",
            "claim",
            (INV, "metadata.labels", f'Invalid value: "{"a" * 64}": must be no more than 63 characters'),
        ),
    ),
    (
        "pod-mount-unknown-volume",
        PODS,
        pod(
            containers=[{"name": "c", "image": "busybox", "volumeMounts": [{"name": "x", "mountPath": "/x"}]}]
        ),
        invalid("Pod", "p", (NF, "spec.containers[0].volumeMounts[0].name", 'Not found: "x"')),
    ),
    (
        "pod-mount-no-path",
        PODS,
        pod(
            volumes=[{"name": "v", "emptyDir": {}}],
            containers=[{"name": "c", "image": "busybox", "volumeMounts": [{"name": "v"}]}],
        ),
        invalid("Pod", "p", (REQ, "spec.containers[0].volumeMounts[0].mountPath", "Required value")),
    ),
    (
        "pod-mount-duplicate-path",
        PODS,
        pod(
            volumes=[{"name": "v", "emptyDir": {}}, {"name": "w", "emptyDir": {}}],
            containers=[
                {
                    "name": "c",
                    "image": "busybox",
                    "volumeMounts": [{"name": "v", "mountPath": "/d"}, {"name": "w", "mountPath": "/d"}],
                }
            ],
        ),
        invalid(
            "Pod",
            "p",
            (INV, "spec.containers[0].volumeMounts[1].mountPath", 'Invalid value: "/d": must be unique'),
        ),
    ),
    (
        "pod-subpath-dotdot",
        PODS,
        pod(
            volumes=[{"name": "v", "emptyDir": {}}],
            containers=[
                {
                    "name": "c",
                    "image": "busybox",
                    "volumeMounts": [{"name": "v", "mountPath": "/d", "subPath": "../x"}],
                }
            ],
        ),
        invalid(
            "Pod",
            "p",
            (
                INV,
                "spec.containers[0].volumeMounts[0].subPath",
                "Invalid value: \"../x\": must not contain '..'",
            ),
        ),
    ),
    (
        "pod-subpath-absolute",
        PODS,
        pod(
            volumes=[{"name": "v", "emptyDir": {}}],
            containers=[
                {
                    "name": "c",
                    "image": "busybox",
                    "volumeMounts": [{"name": "v", "mountPath": "/d", "subPath": "/x"}],
                }
            ],
        ),
        invalid(
            "Pod",
            "p",
            (
                INV,
                "spec.containers[0].volumeMounts[0].subPath",
                'Invalid value: "/x": must be a relative path',
            ),
        ),
    ),
    (
        "pod-duplicate-volume",
        PODS,
        pod(volumes=[{"name": "v", "emptyDir": {}}, {"name": "v", "emptyDir": {}}]),
        invalid("Pod", "p", (DUP, "spec.volumes[1].name", 'Duplicate value: "v"')),
    ),
    (
        "pod-volume-bad-name",
        PODS,
        pod(volumes=[{"name": "Home_Dir", "emptyDir": {}}]),
        invalid("Pod", "p", (INV, "spec.volumes[0].name", f'Invalid value: "Home_Dir": {LABEL}')),
    ),
    (
        "pod-volume-two-sources",
        PODS,
        pod(volumes=[{"name": "v", "emptyDir": {}, "persistentVolumeClaim": {"claimName": "c"}}]),
        invalid(
            "Pod",
            "p",
            (
                FORB,
                "spec.volumes[0].persistentVolumeClaim",
                "Forbidden: may not specify more than 1 volume type",
            ),
        ),
    ),
    (
        "pod-volume-no-source",
        PODS,
        pod(volumes=[{"name": "v"}]),
        invalid("Pod", "p", (REQ, "spec.volumes[0]", "Required value: must specify a volume type")),
    ),
    (
        "pod-volume-long-name",
        PODS,
        pod(volumes=[{"name": "v" * 64, "emptyDir": {}}]),
        invalid(
            "Pod",
            "p",
            (INV, "spec.volumes[0].name", f'Invalid value: "{"v" * 64}": must be no more than 63 characters'),
        ),
    ),
    (
        "pod-wrong-type",
        PODS,
        pod(terminationGracePeriodSeconds="soon"),
        invalid(
            "Pod",
            "p",
            (
                "FieldValueTypeInvalid",
                "spec.terminationGracePeriodSeconds",
                'Invalid value: "soon": must be of type integer',
            ),
        ),
    ),
    (
        "pod-env-name",
        PODS,
        pod(containers=[{"name": "c", "image": "busybox", "env": [{"name": "1X", "value": "v"}]}]),
        invalid(
            "Pod",
            "p",
            (
                INV,
                "spec.containers[0].env[0].name",
                'Invalid value: "1X": a valid environment variable name must consist of alphabetic '
                "characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  "
                "or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is "
                "'[-._a-zA-Z][-._a-zA-Z0-9]*')",
            ),
        ),
    ),
    (
        "pod-container-port",
        PODS,
        pod(containers=[{"name": "c", "image": "busybox", "ports": [{"containerPort": 70000}]}]),
        invalid(
            "Pod",
            "p",
            (
                INV,
                "spec.containers[0].ports[0].containerPort",
                "Invalid value: 70000: must be between 1 and 65535, inclusive",
            ),
        ),
    ),
    (
        "pod-request-over-limit",
        PODS,
        pod(
            containers=[
                {
                    "name": "c",
                    "image": "busybox",
                    "resources": {"requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}},
                }
            ]
        ),
        invalid(
            "Pod",
            "p",
            (
                INV,
                "spec.containers[0].resources.requests",
                'Invalid value: "2Gi": must be less than or equal to memory limit of 1Gi',
            ),
        ),
    ),
    (
        "configmap-key",
        "/api/v1/namespaces/default/configmaps",
        {"metadata": {"name": "cm"}, "data": {"bad key": "v"}},
        invalid(
            "ConfigMap",
            "cm",
            (
                INV,
                "data[bad key]",
                'Invalid value: "bad key": a valid config key must consist of alphanumeric characters, '
                "'-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for "
                "validation is '[-._a-zA-Z0-9]+')",
            ),
        ),
    ),
    (
        "deployment-selector-mismatch",
        "/apis/apps/v1/namespaces/default/deployments",
        {
            "metadata": {"name": "d"},
            "spec": {
                "selector": {"matchLabels": {"app": "a"}},
                "template": {
                    "metadata": {"labels": {"app": "b"}},
                    "spec": {"containers": [{"name": "c", "image": "i"}]},
                },
            },
        },
        {
            **invalid(
                "Deployment",
                "d",
                (
                    INV,
                    "spec.template.metadata.labels",
                    'Invalid value: map[string]string{"app":"b"}: '
                    "`selector` does not match template `labels`",
                ),
                group="apps",
            ),
        },
    ),
    (
        "service-dns1035",
        "/api/v1/namespaces/default/services",
        {"metadata": {"name": "1hub"}, "spec": {"ports": [{"port": 80}]}},
        invalid("Service", "1hub", (INV, "metadata.name", f'Invalid value: "1hub": {DNS1035}')),
    ),
    (
        "no-name",
        "/api/v1/namespaces/default/configmaps",
        {"metadata": {}},
        invalid("ConfigMap", "", (REQ, "metadata.name", "Required value: name or generateName is required")),
    ),
]


@pytest.mark.parametrize(("path", "body", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_object_is_rejected_with_real_status(
    api: httpx.Client, path: str, body: dict[str, Any], expected: dict[str, Any]
) -> None:
    resp = api.post(path, json=body)
    assert resp.status_code == 422
    assert resp.json() == expected


def test_not_found_and_already_exists_name_the_plural(api: httpx.Client) -> None:
    resp = api.get(f"{PODS}/nope")
    assert resp.status_code == 404
    assert resp.json() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'pods "nope" not found', "reason": "NotFound", "details": {"name": "nope", "kind": "pods"},
        "code": 404,
    }  # fmt: skip
    body = {"metadata": {"name": "dup"}, "data": {"a": "b"}}
    assert api.post("/api/v1/namespaces/default/configmaps", json=body).status_code == 201
    resp = api.post("/api/v1/namespaces/default/configmaps", json=body)
    assert resp.status_code == 409
    assert resp.json()["message"] == 'configmaps "dup" already exists'
    assert resp.json()["details"] == {"name": "dup", "kind": "configmaps"}
    resp = api.get("/apis/apps/v1/namespaces/default/deployments/nope")
    assert resp.json()["message"] == 'deployments.apps "nope" not found'
    assert resp.json()["details"] == {"name": "nope", "group": "apps", "kind": "deployments"}


def test_pod_without_its_service_account_is_forbidden(api: httpx.Client) -> None:
    resp = api.post(PODS, json=pod(name="lonely", serviceAccountName="ghost"))
    assert resp.status_code == 403
    assert resp.json() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'pods "lonely" is forbidden: error looking up service account default/ghost: '
        'serviceaccount "ghost" not found',
        "reason": "Forbidden", "details": {"name": "lonely", "kind": "pods"}, "code": 403,
    }  # fmt: skip


def test_pod_spec_is_immutable_except_image(api: httpx.Client) -> None:
    created = api.post(PODS, json=pod(name="immut")).json()
    created["spec"]["containers"][0]["image"] = "busybox:2"
    ok = api.put(f"{PODS}/immut", json=created)
    assert ok.status_code == 200, ok.text
    changed = ok.json()
    changed["spec"]["restartPolicy"] = "Never"
    resp = api.put(f"{PODS}/immut", json=changed)
    assert resp.status_code == 422
    assert resp.json()["details"]["causes"][0]["field"] == "spec"
    assert resp.json()["details"]["causes"][0]["message"].startswith(
        "Forbidden: pod updates may not change fields other than `spec.containers[*].image`"
    )


PVC_SPEC_FORBIDDEN = {
    "reason": "FieldValueForbidden",
    "message": "Forbidden: spec is immutable after creation except resources.requests and "
    "volumeAttributesClassName for bound claims",
    "field": "spec",
}
RESIZE_FORBIDDEN = (
    "only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must "
    "support resize"
)


def _bound_claim(api: httpx.Client, name: str, storage_class: str | None = None) -> dict[str, Any]:
    """A claim marked Bound through the status subresource, as the PV controller would."""
    spec = {"storageClassName": storage_class} if storage_class is not None else {}
    created = api.post(PVCS, json=pvc(name=name, **spec))
    assert created.status_code == 201, created.text
    body = created.json()
    body["status"] = {"phase": "Bound"}
    resp = api.put(f"{PVCS}/{name}/status", json=body)
    assert resp.status_code == 200, resp.text
    bound: dict[str, Any] = resp.json()
    return bound


def _with_size(obj: dict[str, Any], size: str) -> dict[str, Any]:
    obj["spec"]["resources"]["requests"]["storage"] = size
    return obj


def test_pvc_spec_is_immutable_except_resources_of_bound_claims(api: httpx.Client) -> None:
    """ValidatePersistentVolumeClaimUpdate: only a Bound claim may change its storage request."""
    created = api.post(PVCS, json=pvc(name="grow")).json()
    assert created["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    resp = api.put(f"{PVCS}/grow", json=_with_size(created, "2Gi"))
    assert resp.status_code == 422, resp.text
    assert resp.json()["details"]["causes"] == [PVC_SPEC_FORBIDDEN]
    same = api.get(f"{PVCS}/grow").json()
    assert api.put(f"{PVCS}/grow", json=_with_size(same, "1024Mi")).status_code == 200  # semantically equal
    changed = api.get(f"{PVCS}/grow").json()
    changed["spec"]["accessModes"] = ["ReadWriteMany"]
    resp = api.put(f"{PVCS}/grow", json=changed)
    assert resp.status_code == 422
    assert resp.json()["details"]["causes"] == [PVC_SPEC_FORBIDDEN]


def test_bound_pvc_cannot_shrink(api: httpx.Client) -> None:
    claim = _bound_claim(api, "shrink")
    resp = api.put(f"{PVCS}/shrink", json=_with_size(claim, "500Mi"))
    assert resp.json() == invalid(
        "PersistentVolumeClaim",
        "shrink",
        (FORB, "spec.resources.requests.storage", "Forbidden: field can not be less than previous value"),
    )


def test_resize_needs_a_class_that_allows_expansion(api: httpx.Client) -> None:
    """PersistentVolumeClaimResize admission: 403 for no class or a class without allowVolumeExpansion,
    whether the claim is updated or patched (what kubectl edit / kubectl patch send)."""
    classes = "/apis/storage.k8s.io/v1/storageclasses"
    for name, allow in (("fixed", None), ("growable", True)):
        sc: dict[str, Any] = {"metadata": {"name": name}, "provisioner": "example.com/x"}
        if allow is not None:
            sc["allowVolumeExpansion"] = allow
        assert api.post(classes, json=sc).status_code == 201
    expected = {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f'persistentvolumeclaims "static" is forbidden: {RESIZE_FORBIDDEN}',
        "reason": "Forbidden", "details": {"name": "static", "kind": "persistentvolumeclaims"}, "code": 403,
    }  # fmt: skip
    static = _bound_claim(api, "static", storage_class="")
    assert api.put(f"{PVCS}/static", json=_with_size(static, "2Gi")).json() == expected
    _bound_claim(api, "fixed-class", storage_class="fixed")
    patch = {"spec": {"resources": {"requests": {"storage": "2Gi"}}}}
    resp = api.patch(
        f"{PVCS}/fixed-class", json=patch, headers={"Content-Type": "application/strategic-merge-patch+json"}
    )
    assert resp.status_code == 403
    assert resp.json()["message"] == f'persistentvolumeclaims "fixed-class" is forbidden: {RESIZE_FORBIDDEN}'
    _bound_claim(api, "growable-class", storage_class="growable")
    resp = api.patch(
        f"{PVCS}/growable-class",
        json=patch,
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["spec"]["resources"]["requests"]["storage"] == "2Gi"


def test_unsupported_field_selector_is_a_bad_request(api: httpx.Client) -> None:
    resp = api.get(PODS, params={"fieldSelector": "spec.foo=bar"})
    assert resp.status_code == 400
    assert resp.json()["message"] == "field label not supported: spec.foo"
    resp = api.get("/api/v1/namespaces/default/configmaps", params={"fieldSelector": "data.x=1"})
    assert resp.status_code == 400
    assert (
        resp.json()["message"]
        == '"data.x" is not a known field selector: only "metadata.name", "metadata.namespace"'
    )


def test_unauthenticated_request_is_401(server: Standalone) -> None:
    with http_client(server.kubeconfig) as c:
        resp = c.get(PODS, headers={"Authorization": "Bearer wrong"})
    assert resp.status_code == 401
    assert resp.json() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": "Unauthorized",
        "reason": "Unauthorized", "code": 401,
    }  # fmt: skip
