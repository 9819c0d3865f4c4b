"""Label/field selector parsing and matching as apimachinery defines them."""

from __future__ import annotations

import pytest

from harness.clusters.embedded.apiserver.errors import ApiError
from harness.clusters.embedded.apiserver.selectors import (
    fields_match,
    labels_match,
    parse_label_selector,
    selector_from_match,
)
from harness.clusters.embedded.apiserver.strategies import parse_field_selector


def obj(**labels: str) -> dict:
    return {"metadata": {"name": "n", "namespace": "ns", "labels": labels}, "status": {"phase": "Running"}}


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("app=hub", {"app": "hub"}, True),
        ("app==hub", {"app": "proxy"}, False),
        ("app!=hub", {}, True),
        ("app!=hub", {"app": "hub"}, False),
        ("app in (hub, proxy)", {"app": "proxy"}, True),
        ("app notin (hub,proxy)", {"app": "user"}, True),
        ("app notin (hub,proxy)", {}, True),
        ("app", {"app": ""}, True),
        ("!app", {"app": "x"}, False),
        ("!app", {}, True),
        (
            "app=hub,component in (singleuser-server),!hub.jupyter.org/x",
            {"app": "hub", "component": "singleuser-server"},
            True,
        ),
        ("app=hub,tier=db", {"app": "hub"}, False),
        ("", {"any": "thing"}, True),
    ],
)
def test_label_selectors(selector: str, labels: dict[str, str], expected: bool) -> None:
    assert labels_match(parse_label_selector(selector), obj(**labels)) is expected


def test_match_expressions_from_label_selector_objects() -> None:
    reqs = selector_from_match(
        {"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "b", "operator": "DoesNotExist"}]}
    )
    assert labels_match(reqs, obj(a="1"))
    assert not labels_match(reqs, obj(a="1", b="2"))


def test_field_selectors() -> None:
    reqs = parse_field_selector("pods", "metadata.name=n,status.phase!=Pending")
    assert fields_match(reqs, obj())
    assert not fields_match(parse_field_selector("pods", "spec.nodeName=node"), obj())


@pytest.mark.parametrize(
    ("resource", "selector", "message"),
    [
        ("pods", "spec.foo=bar", "field label not supported: spec.foo"),
        (
            "configmaps",
            "data.x=1",
            '"data.x" is not a known field selector: only "metadata.name", "metadata.namespace"',
        ),
    ],
)
def test_unsupported_field_selectors_are_bad_requests(resource: str, selector: str, message: str) -> None:
    with pytest.raises(ApiError) as err:
        parse_field_selector(resource, selector)
    assert (err.value.code, err.value.status["message"]) == (400, message)
