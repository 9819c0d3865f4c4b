"""Image pulls: what the kubelet's image manager does before it creates a container.

The image map (``..images``) is both this node's image store and the only registry it can reach: an
image in the map is "present"; one that is not can never be pulled. So, as the kubelet's
``EnsureImageExists`` (pkg/kubelet/images/image_manager.go, 1.20) with containerd's messages:

* present, policy IfNotPresent/Never: ``Pulled`` "Container image ... already present on machine";
* present, policy Always: ``Pulling``, then ``Pulled`` "Successfully pulled image ... in <duration>";
* absent, policy Never: ``ErrImageNeverPull`` (no back-off: every sync says it again);
* absent otherwise: ``Pulling``, ``Failed`` "Failed to pull image ...: <runtime error>" and the waiting
  reason ``ErrImagePull``; the per-(pod, image) back-off (10s doubling to 300s, forgotten after twice
  that) then turns the next attempts into ``BackOff`` "Back-off pulling image ..." and
  ``ImagePullBackOff`` until it expires.

Every failure is followed by the ``Failed`` "Error: <reason>" Event the runtime manager records.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ..images import ImageEntry, ImageMap
from .api import Obj

#: (reason, message, warning) -> an Event about the container
EventFn = Callable[[str, str, bool], Awaitable[None]]


@dataclass
class Backoff:
    """client-go's flowcontrol.Backoff: per-key delay doubling from ``initial`` up to ``maximum``."""

    initial: float = 10.0
    maximum: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _entries: dict[str, tuple[float, float]] = field(default_factory=dict)  # key -> (delay, last update)

    def _expired(self, key: str, now: float) -> bool:
        _, last = self._entries[key]
        return now - last > 2 * self.maximum  # stable for twice the maximum: start over

    def next(self, key: str) -> None:
        now = self.clock()
        if key not in self._entries or self._expired(key, now):
            self._entries[key] = (self.initial, now)
        else:
            delay, _ = self._entries[key]
            self._entries[key] = (min(delay * 2, self.maximum), now)

    def in_backoff(self, key: str) -> bool:
        now = self.clock()
        if key not in self._entries or self._expired(key, now):
            return False
        delay, last = self._entries[key]
        return now - last < delay


class PullFailed(Exception):
    """The image is not there: ``reason`` is the container's waiting reason, ``message`` its message."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


_DOMAIN = re.compile(r"[.:]|^localhost$")


def normalized_reference(image: str) -> str:
    """The fully qualified name containerd pulls (``busybox`` -> ``docker.io/library/busybox:latest``)."""
    name, _, digest = image.partition("@")
    tag = ""
    if ":" in name.rsplit("/", 1)[-1]:
        name, tag = name.rsplit(":", 1)
    first, _, rest = name.partition("/")
    if not rest or not _DOMAIN.search(first):
        domain, path = "docker.io", name
    else:
        domain, path = first, rest
    if domain == "docker.io" and "/" not in path:
        path = f"library/{path}"
    ref = f"{domain}/{path}"
    if tag or not digest:
        ref += f":{tag or 'latest'}"
    return ref + (f"@{digest}" if digest else "")


def not_found_error(image: str) -> str:
    """containerd's error for a reference its registry does not have (what ``Failed`` Events quote)."""
    ref = normalized_reference(image)
    return (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{ref}": '
        f'failed to resolve reference "{ref}": {ref}: not found'
    )


def pull_policy(container: Obj) -> str:
    """The container's imagePullPolicy (the API server defaults it; this repeats its rule if absent)."""
    policy = container.get("imagePullPolicy")
    if policy:
        return str(policy)
    image = str(container.get("image", ""))
    tagged = ":" in image.split("@", 1)[0].rsplit("/", 1)[-1]
    latest = (not tagged and "@" not in image) or image.endswith(":latest")
    return "Always" if latest else "IfNotPresent"


def go_duration(seconds: float) -> str:
    """A duration the way Go's time.Duration prints it (``52.618ms``, ``1.502s``)."""
    if seconds >= 1:
        return f"{seconds:.9f}".rstrip("0").rstrip(".") + "s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.6f}".rstrip("0").rstrip(".") + "ms"
    return f"{seconds * 1e6:.3f}".rstrip("0").rstrip(".") + "µs"


class ImagePuller:
    """``ensure`` returns the image's entry or raises ``PullFailed``, emitting the kubelet's Events."""

    def __init__(self, images: ImageMap, backoff: Backoff) -> None:
        self.images = images
        self.backoff = backoff

    async def ensure(self, pod: Obj, container: Obj, event: EventFn) -> ImageEntry:
        image = str(container["image"])
        try:
            return await self._ensure(pod, container, image, event)
        except PullFailed as failed:
            await event("Failed", f"Error: {failed.reason}", True)
            raise

    async def _ensure(self, pod: Obj, container: Obj, image: str, event: EventFn) -> ImageEntry:
        entry = self.images.find(image)
        policy = pull_policy(container)
        if policy == "Never" or (entry is not None and policy == "IfNotPresent"):
            if entry is not None:
                await event("Pulled", f'Container image "{image}" already present on machine', False)
                return entry
            message = f'Container image "{image}" is not present with pull policy of Never'
            await event("ErrImageNeverPull", message, True)
            raise PullFailed("ErrImageNeverPull", message)
        key = f"{pod['metadata'].get('uid', '')}_{image}"
        if self.backoff.in_backoff(key):
            message = f'Back-off pulling image "{image}"'
            await event("BackOff", message, False)
            raise PullFailed("ImagePullBackOff", message)
        await event("Pulling", f'Pulling image "{image}"', False)
        started = time.monotonic()
        entry = self.images.find(image)
        if entry is None:
            error = not_found_error(image)
            await event("Failed", f'Failed to pull image "{image}": {error}', True)
            self.backoff.next(key)
            raise PullFailed("ErrImagePull", error)
        took = go_duration(time.monotonic() - started)
        await event("Pulled", f'Successfully pulled image "{image}" in {took}', False)
        return entry
