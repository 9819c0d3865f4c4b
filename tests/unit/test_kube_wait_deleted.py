"""wait_deleted: the object is gone, or replaced by a successor of the same name (another uid)."""

from __future__ import annotations

from typing import Any

import pytest
from kube_fakes import WatchOnce

from harness.clusters.kube import WaitTimeout, wait_deleted


class OneObject(WatchOnce):
    def __init__(self, obj: dict[str, Any] | None) -> None:
        self.obj = obj

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        return self.obj


def _obj(uid: str) -> dict[str, Any]:
    return {"metadata": {"name": "jupyter-alice", "uid": uid}}


@pytest.mark.parametrize(
    ("present", "uid", "gone"),
    [
        (None, None, True),
        (None, "u1", True),
        (_obj("u2"), "u1", True),  # the server's next pod: the deleted one is gone
        (_obj("u1"), "u1", False),
        (_obj("u2"), None, False),  # without a uid, any object of that name is still there
    ],
)
def test_gone_or_replaced(present: dict[str, Any] | None, uid: str | None, gone: bool) -> None:
    kube = OneObject(present)
    if gone:
        wait_deleted(kube, "pod jupyter-alice to be deleted", "pod", "ns", "jupyter-alice", 5, uid=uid)
    else:
        with pytest.raises(
            WaitTimeout, match="timed out after 5s waiting for pod jupyter-alice to be deleted"
        ):
            wait_deleted(kube, "pod jupyter-alice to be deleted", "pod", "ns", "jupyter-alice", 5, uid=uid)
    assert kube.watched == [("pod jupyter-alice to be deleted", "pod", "jupyter-alice")]
