"""apimachinery string rules and the Status/exit-code shapes (pure functions)."""

from __future__ import annotations

import pytest

from harness.clusters.embedded.apiserver.names import (
    dns1123_label,
    dns1123_subdomain,
    label_value,
    qualified_name,
)
from harness.clusters.embedded.apiserver.protobuf import decode_object
from harness.clusters.embedded.apiserver.quantity import QuantityError, parse_quantity
from harness.clusters.embedded.apiserver.routing import parse
from harness.clusters.embedded.apiserver.streams import exit_status


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("claim-alice", True),
        ("a.b", True),
        ("Alice", False),
        ("-a", False),
        ("a" * 253, True),
        ("a" * 254, False),
    ],
)
def test_subdomain(value: str, ok: bool) -> None:
    assert (dns1123_subdomain(value) == []) is ok


def test_label_and_qualified_name_messages() -> None:
    assert dns1123_label("a" * 64) == ["must be no more than 63 characters"]
    assert qualified_name("hub.jupyter.org/username") == []
    assert qualified_name("bad_prefix_/x")[0].startswith("prefix part a lowercase RFC 1123 subdomain")
    assert qualified_name("a/b/c")[0].startswith("a qualified name must consist of")
    assert label_value("") == []
    assert label_value("a@b")[0].startswith("a valid label must be an empty string")


@pytest.mark.parametrize(
    ("text", "value"), [("1Gi", 2**30), ("10M", 10**7), ("500m", 0.5), ("1e3", 1000), (None, 0)]
)
def test_quantities(text: object, value: float) -> None:
    assert float(parse_quantity(text)) == value


def test_bad_quantity() -> None:
    with pytest.raises(QuantityError):
        parse_quantity("ten")


def test_exec_exit_status_is_what_the_kubelet_writes() -> None:
    assert exit_status(0, ["true"]) == {"metadata": {}, "status": "Success"}
    assert exit_status(3, ["sh", "-c", "exit 3"]) == {
        "metadata": {},
        "status": "Failure",
        "message": "command terminated with non-zero exit code: "
        "error executing command [sh -c exit 3], exit code 3",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
    }


def test_routing() -> None:
    t = parse("/api/v1/namespaces/ns/pods/p/exec")
    assert t is not None and (t.info.plural, t.namespace, t.name, t.subresource) == (
        "pods",
        "ns",
        "p",
        "exec",
    )
    t = parse("/api/v1/namespaces/ns")
    assert t is not None and (t.info.plural, t.namespace, t.name) == ("namespaces", None, "ns")
    t = parse("/api/v1/namespaces/ns/finalize")
    assert t is not None and (t.info.plural, t.name, t.subresource) == ("namespaces", "ns", "finalize")
    t = parse("/apis/apps/v1/deployments")
    assert t is not None and (t.info.plural, t.namespace, t.name) == ("deployments", None, None)
    assert parse("/apis") is None


def _field(number: int, payload: bytes) -> bytes:
    return bytes([(number << 3) | 2, len(payload)]) + payload


def test_protobuf_self_subject_access_review() -> None:
    attrs = _field(1, b"ns") + _field(2, b"list") + _field(5, b"pods")
    raw = _field(2, _field(1, attrs))
    type_meta = _field(1, b"authorization.k8s.io/v1") + _field(2, b"SelfSubjectAccessReview")
    body = b"k8s\x00" + _field(1, type_meta) + _field(2, raw)
    assert decode_object(body) == {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"namespace": "ns", "verb": "list", "resource": "pods"}},
    }


def test_protobuf_configmap_with_maps_and_metadata() -> None:
    meta = _field(1, b"cm") + _field(11, _field(1, b"app") + _field(2, b"hub"))
    raw = (
        _field(1, meta)
        + _field(2, _field(1, b"k") + _field(2, b"v"))
        + _field(3, _field(1, b"b") + _field(2, b"\x00\x01"))
    )
    type_meta = _field(1, b"v1") + _field(2, b"ConfigMap")
    body = b"k8s\x00" + _field(1, type_meta) + _field(2, raw)
    assert decode_object(body) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cm", "labels": {"app": "hub"}},
        "data": {"k": "v"},
        "binaryData": {"b": "AAE="},
    }


def test_create_does_not_validate_the_status_the_server_reset() -> None:
    """``status: {}`` on a ReplicaSet misses the schema's required ``replicas``: not the client's fault."""
    from harness.clusters.embedded.apiserver.resources import BY_PLURAL
    from harness.clusters.embedded.apiserver.validation import validate_create

    labels = {"app": "a"}
    pod_spec = {"containers": [{"name": "c", "image": "i"}]}
    replicaset = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "a", "namespace": "ns"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
        "status": {},
    }
    validate_create(BY_PLURAL["replicasets"], replicaset)
