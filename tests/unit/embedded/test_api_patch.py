"""JSON merge, JSON patch and strategic merge as kube-apiserver applies them."""

from __future__ import annotations

from typing import Any

import pytest

from harness.clusters.embedded.apiserver.errors import ApiError
from harness.clusters.embedded.apiserver.patch import apply_patch, strategic_merge


def test_merge_patch_deletes_with_null_and_replaces_lists() -> None:
    got = apply_patch({"a": {"b": 1, "c": 2}, "l": [1, 2]}, {"a": {"b": None}, "l": [3]}, "merge")
    assert got == {"a": {"c": 2}, "l": [3]}


def test_json_patch_ops_and_failures() -> None:
    doc = {"metadata": {"labels": {"a": "b"}}, "list": [1, 2]}
    got = apply_patch(doc, [
        {"op": "add", "path": "/list/-", "value": 3},
        {"op": "replace", "path": "/metadata/labels/a", "value": "c"},
        {"op": "remove", "path": "/list/0"},
        {"op": "add", "path": "/metadata/labels/x~1y", "value": "z"},
    ], "json")  # fmt: skip
    assert got == {"metadata": {"labels": {"a": "c", "x/y": "z"}}, "list": [2, 3]}
    assert doc["list"] == [1, 2]  # input untouched
    with pytest.raises(ApiError) as err:
        apply_patch(doc, [{"op": "remove", "path": "/nope"}], "json")
    assert err.value.code == 422
    with pytest.raises(ApiError):
        apply_patch(doc, [{"op": "test", "path": "/list/0", "value": 9}], "json")


POD: dict[str, Any] = {
    "metadata": {"finalizers": ["a"]},
    "spec": {
        "volumes": [{"name": "home", "persistentVolumeClaim": {"claimName": "c"}}],
        "containers": [
            {
                "name": "notebook",
                "image": "x:1",
                "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                "volumeMounts": [{"name": "home", "mountPath": "/home/jovyan"}],
                "ports": [{"containerPort": 8888, "name": "http"}],
                "args": ["a", "b"],
            }
        ],
    },
}


def test_strategic_merge_by_keys_and_directives() -> None:
    patch = {
        "metadata": {"finalizers": ["b"]},
        "spec": {
            "volumes": [{"name": "scratch", "emptyDir": {}}],
            "containers": [
                {
                    "name": "notebook",
                    "env": [{"name": "A", "$patch": "delete"}, {"name": "C", "value": "3"}],
                    "volumeMounts": [{"mountPath": "/home/jovyan", "readOnly": True}],
                    "ports": [{"containerPort": 8888, "protocol": "TCP"}],
                    "args": ["c"],
                }
            ],
        },
    }
    got = strategic_merge(POD, patch)
    c = got["spec"]["containers"][0]
    assert got["metadata"]["finalizers"] == ["a", "b"]
    assert [v["name"] for v in got["spec"]["volumes"]] == ["home", "scratch"]
    assert c["env"] == [{"name": "B", "value": "2"}, {"name": "C", "value": "3"}]
    assert c["volumeMounts"] == [{"name": "home", "mountPath": "/home/jovyan", "readOnly": True}]
    assert c["ports"] == [{"containerPort": 8888, "name": "http", "protocol": "TCP"}]
    assert c["args"] == ["c"]  # lists without a merge key are replaced
    assert POD["spec"]["containers"][0]["args"] == ["a", "b"]


def test_strategic_merge_replace_order_and_primitive_deletes() -> None:
    got = strategic_merge(
        POD, {"spec": {"volumes": [{"$patch": "replace"}, {"name": "only", "emptyDir": {}}]}}
    )
    assert got["spec"]["volumes"] == [{"name": "only", "emptyDir": {}}]
    got = strategic_merge(POD, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}})
    assert got["metadata"]["finalizers"] == []
    got = strategic_merge(
        {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}},
        {
            "spec": {
                "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                "containers": [{"name": "a", "image": "i"}],
            }
        },
    )
    assert got["spec"]["containers"] == [{"name": "b"}, {"name": "a", "image": "i"}]
    assert strategic_merge({"a": {"b": 1}}, {"a": {"$patch": "delete"}}) == {}
