"""The kubelet's image pulls on a node whose only images are its image map (no registry behind it)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from harness.clusters.embedded.images import ImageEntry, ImageMap
from harness.clusters.embedded.kubelet.puller import (
    Backoff,
    ImagePuller,
    PullFailed,
    go_duration,
    normalized_reference,
    pull_policy,
)


def test_references_are_qualified_as_containerd_pulls_them() -> None:
    assert normalized_reference("busybox") == "docker.io/library/busybox:latest"
    assert normalized_reference("jupyter/base-notebook:2024") == "docker.io/jupyter/base-notebook:2024"
    assert normalized_reference("harness.local/hub:ks-7.1.0") == "harness.local/hub:ks-7.1.0"
    assert normalized_reference("localhost:5000/x") == "localhost:5000/x:latest"
    assert normalized_reference("quay.io/a/b@sha256:ab") == "quay.io/a/b@sha256:ab"


def test_pull_policy_defaults_like_the_api_server() -> None:
    assert pull_policy({"image": "busybox"}) == "Always"
    assert pull_policy({"image": "busybox:latest"}) == "Always"
    assert pull_policy({"image": "busybox:1.36"}) == "IfNotPresent"
    assert pull_policy({"image": "busybox", "imagePullPolicy": "Never"}) == "Never"


def test_backoff_doubles_to_the_maximum_and_is_forgotten_after_twice_that() -> None:
    now = [0.0]
    backoff = Backoff(10, 40, clock=lambda: now[0])
    assert not backoff.in_backoff("k")
    delays = []
    for _ in range(4):
        backoff.next("k")
        delays.append(backoff._entries["k"][0])
    assert delays == [10, 20, 40, 40]
    now[0] = 39.9
    assert backoff.in_backoff("k")
    now[0] = 40.1
    assert not backoff.in_backoff("k")
    now[0] = 200.0  # more than 2 x 40 since the last failure: start over
    backoff.next("k")
    assert backoff._entries["k"][0] == 10


def test_durations_print_as_go_does() -> None:
    assert go_duration(1.5) == "1.5s"
    assert go_duration(0.052618) == "52.618ms"


def test_missing_image_pulls_fail_then_back_off_and_present_ones_are_used(tmp_path: Path) -> None:
    now = [0.0]
    puller = ImagePuller(ImageMap(tmp_path), Backoff(10, 300, clock=lambda: now[0]))
    pod = {"metadata": {"uid": "u1"}}
    container = {"name": "c", "image": "busybox:1", "imagePullPolicy": "IfNotPresent"}
    events: list[tuple[str, str, bool]] = []

    async def event(reason: str, message: str, warning: bool) -> None:
        events.append((reason, message, warning))

    def attempt() -> str:
        try:
            asyncio.run(puller.ensure(pod, container, event))
        except PullFailed as failed:
            return failed.reason
        return "ok"

    error = (
        'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/busybox:1": '
        'failed to resolve reference "docker.io/library/busybox:1": docker.io/library/busybox:1: not found'
    )
    assert attempt() == "ErrImagePull"
    assert events == [
        ("Pulling", 'Pulling image "busybox:1"', False),
        ("Failed", f'Failed to pull image "busybox:1": {error}', True),
        ("Failed", "Error: ErrImagePull", True),
    ]
    events.clear()
    now[0] = 5
    assert attempt() == "ImagePullBackOff"
    assert events == [
        ("BackOff", 'Back-off pulling image "busybox:1"', False),
        ("Failed", "Error: ImagePullBackOff", True),
    ]
    now[0] = 11
    assert attempt() == "ErrImagePull"  # the 10s are over: a new pull, which fails; next back-off 20s
    now[0] = 30
    assert attempt() == "ImagePullBackOff"
    ImageMap(tmp_path).put("busybox:1", ImageEntry(path=[]))  # "kind load"
    events.clear()
    assert attempt() == "ok"  # present now: no pull at all, back-off or not
    assert events == [("Pulled", 'Container image "busybox:1" already present on machine', False)]
    events.clear()
    container["imagePullPolicy"] = "Always"  # pulls even a present image, once out of the back-off
    assert attempt() == "ImagePullBackOff"
    events.clear()
    now[0] = 32
    assert attempt() == "ok"
    assert events[0] == ("Pulling", 'Pulling image "busybox:1"', False) and len(events) == 2
    assert events[1][0] == "Pulled" and events[1][1].startswith('Successfully pulled image "busybox:1" in ')
    never = {"name": "c", "image": "other:1", "imagePullPolicy": "Never"}
    with pytest.raises(PullFailed, match="is not present with pull policy of Never") as failed:
        asyncio.run(puller.ensure(pod, never, event))
    assert failed.value.reason == "ErrImageNeverPull"
