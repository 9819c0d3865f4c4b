"""``Kube.watch_until`` against the embedded API server: the waits of the deploy, the oracles and the
teardown resume on the watch event that brings the state they wait for, and time out naming it."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from harness.clusters.embedded.apiserver.standalone import Standalone, standalone_server
from harness.clusters.kube import Kube, WaitTimeout

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Standalone]:
    with standalone_server(tmp_path_factory.mktemp("apiserver")) as it:
        yield it


@pytest.fixture(scope="module")
def kube(server: Standalone) -> Kube:
    return Kube.from_kubeconfig(server.kubeconfig)


@pytest.fixture
def ns(kube: Kube) -> str:
    name = f"w-{uuid.uuid4().hex[:8]}"
    kube.core.create_namespace({"metadata": {"name": name}})
    return name


def sa(name: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels}}


def later(seconds: float, action: Any) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(seconds), action()), daemon=True)
    thread.start()
    return thread


def test_state_already_there_returns_from_the_list(kube: Kube, ns: str) -> None:
    kube.core.create_namespaced_service_account(ns, sa("default"))
    found = kube.watch_until("sa", "serviceaccount", ns, lambda objs: objs or None, 5, name="default")
    assert [o["metadata"]["name"] for o in found] == ["default"]


def test_resumes_on_the_event_that_creates_the_object(kube: Kube, ns: str) -> None:
    created: list[float] = []

    def create() -> None:
        kube.core.create_namespaced_service_account(ns, sa("default"))
        created.append(time.monotonic())

    later(0.5, create)
    found = kube.watch_until("sa", "serviceaccount", ns, lambda objs: objs or None, 60, name="default")
    returned = time.monotonic()
    assert found[0]["metadata"]["name"] == "default"
    # well before the 60 s the wait allows (a missed event would end it there), with room for a loaded CPU
    assert created and returned - created[0] < 10.0, "watch_until should resume on the ADDED event"


def test_selector_and_deletion_leave_the_probe_the_current_set(kube: Kube, ns: str) -> None:
    for name in ("a", "b"):
        kube.core.create_namespaced_service_account(ns, sa(name, group="x"))
    kube.core.create_namespaced_service_account(ns, sa("other", group="y"))
    seen: list[list[str]] = []

    def gone(objs: list[dict[str, Any]]) -> bool | None:
        seen.append(sorted(o["metadata"]["name"] for o in objs))
        return True if not objs else None

    def delete_both() -> None:
        for name in ("a", "b"):
            kube.core.delete_namespaced_service_account(name, ns)

    later(0.3, delete_both)
    assert kube.watch_until("group x gone", "serviceaccount", ns, gone, 20, selector="group=x")
    assert seen[0] == ["a", "b"] and seen[-1] == [], seen
    assert all("other" not in names for names in seen)


def test_timeout_names_what_and_the_last_state(kube: Kube, ns: str) -> None:
    t0 = time.monotonic()
    with pytest.raises(WaitTimeout, match=r"waiting for never there.*last seen: nothing yet"):
        kube.watch_until(
            "never there",
            "serviceaccount",
            ns,
            lambda objs: None,
            2,
            name="nope",
            last=lambda: "nothing yet",
        )
    assert time.monotonic() - t0 < 10
