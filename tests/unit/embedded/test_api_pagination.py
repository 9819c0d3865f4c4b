"""Chunked-list machinery (pagination.py) on a real Store, and the one version the cluster claims."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from harness.clusters.embedded.apiserver import discovery, pagination
from harness.clusters.embedded.apiserver.errors import ApiError
from harness.clusters.embedded.apiserver.store import Store
from harness.clusters.embedded.kubelet.node import KUBELET_VERSION


def test_the_apiserver_claims_the_release_the_kubelet_reports() -> None:
    assert discovery.version()["gitVersion"] == KUBELET_VERSION == discovery.OPENAPI_VERSION
    assert (discovery.version()["major"], discovery.version()["minor"]) == ("1", "20")


def test_token_is_what_encode_continue_writes() -> None:
    token = pagination.encode("ns/b\x00", 42)
    assert "=" not in token
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert raw == b'{"v":"meta.k8s.io/v1","rv":42,"start":"ns/b\\u0000"}'
    assert pagination.decode(token) == ("ns/b\x00", 42)


def cm(ns: str, name: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"namespace": ns, "name": name, "labels": labels}}


def test_state_at_undoes_later_changes_until_the_window_ends(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db", window=4)
    store.put("configmaps", "a", cm("a", "x"))
    store.put("configmaps", "a", cm("a", "y"))
    at = store.resource_version
    store.put("configmaps", "a", {**cm("a", "x"), "data": {"k": "v"}})  # modified
    store.remove("configmaps", "a", cm("a", "y"))  # deleted
    store.put("configmaps", "a", cm("a", "z"))  # added
    store.put("configmaps", "b", cm("b", "other"))  # another namespace
    then = pagination.state_at(store, "configmaps", "a", at)
    assert then is not None
    assert sorted((o["metadata"]["name"], o.get("data")) for o in then) == [("x", None), ("y", None)]
    store.put("configmaps", "b", cm("b", "more"))  # the window (4 events) no longer reaches back to ``at``
    assert pagination.state_at(store, "configmaps", "a", at) is None
    with pytest.raises(ApiError) as err:
        pagination.state_at(store, "configmaps", "a", store.resource_version + 1)
    assert err.value.status["message"] == pagination.FUTURE_REVISION


def test_a_filtered_page_continues_after_the_last_key_examined() -> None:
    items = [cm("n", f"o{i}", odd=str(i % 2)) for i in range(6)]
    key_of = lambda o: o["metadata"]["name"]  # noqa: E731
    odd = lambda o: o["metadata"]["labels"]["odd"] == "1"  # noqa: E731
    page = pagination.paginate(items, key_of, "", 2, odd, True, 7)
    assert [o["metadata"]["name"] for o in page.items] == ["o1", "o3"]
    assert (page.continue_token, page.remaining) == (pagination.encode("o3\x00", 7), None)
    whole = pagination.paginate(items, key_of, "o3\x00", 2, lambda o: True, False, 7)
    assert [o["metadata"]["name"] for o in whole.items] == ["o4", "o5"]
    assert whole.list_meta() == {"resourceVersion": "7"}


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b'{"v":"meta.k8s.io/v1","rv":"5","start":"a"}',
         "json: cannot unmarshal string into Go struct field continueToken.rv of type int64"),
        (b"[]", "json: cannot unmarshal array into Go value of type etcd3.continueToken"),
        (b'{"a" 1}', "invalid character '1' after object key"),
        (b"null", 'server does not recognize this encoded version ""'),
    ],
)  # fmt: skip
def test_refused_tokens_say_what_encoding_json_says(raw: bytes, detail: str) -> None:
    with pytest.raises(ApiError) as err:
        pagination.decode(base64.urlsafe_b64encode(raw).decode().rstrip("="))
    assert err.value.status["message"] == f"invalid continue token: continue key is not valid: {detail}"
    assert json.dumps(err.value.status)  # a plain Status body
