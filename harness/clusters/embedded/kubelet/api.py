"""What the kubelet needs from the API server's ``Registry`` (DESIGN.md), as a Protocol.

The kubelet talks to the API only through this surface, so unit tests can hand it a small fake and the
real ``Registry`` satisfies it structurally.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol

Obj = dict[str, Any]


class WatchEvents(Protocol):
    """A watch's ``(type, object)`` events; ``aclose`` ends the subscription.

    Consumers hold it in ``contextlib.aclosing`` so the store subscription goes away as soon as the
    loop ends, also on an exception (otherwise it lives until garbage collection, filling its queue).
    """

    def __aiter__(self) -> WatchEvents: ...

    def __anext__(self) -> Awaitable[tuple[str, Obj]]: ...

    def aclose(self) -> Awaitable[object]: ...


class RegistryLike(Protocol):
    async def get(self, resource: str, namespace: str | None, name: str) -> Obj: ...

    async def list(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> tuple[list[Obj], str]: ...

    async def create(self, resource: str, namespace: str | None, obj: Obj) -> Obj: ...

    async def update(
        self, resource: str, namespace: str | None, obj: Obj, *, subresource: str | None = None
    ) -> Obj: ...

    async def patch(
        self,
        resource: str,
        namespace: str | None,
        name: str,
        patch: object,
        *,
        patch_type: str = "merge",
        subresource: str | None = None,
    ) -> Obj: ...

    async def delete(
        self,
        resource: str,
        namespace: str | None,
        name: str,
        *,
        grace_period_seconds: int | None = None,
        propagation_policy: str | None = None,
    ) -> Obj: ...

    def watch(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        resource_version: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> WatchEvents: ...

    async def service_account_token(self, namespace: str, name: str) -> str: ...


def is_not_found(exc: BaseException) -> bool:
    """True for the registry's ApiError 404 (checked by attribute so this module needs no import)."""
    return getattr(exc, "code", None) == 404


async def get_or_none(registry: RegistryLike, resource: str, namespace: str | None, name: str) -> Obj | None:
    try:
        return await registry.get(resource, namespace, name)
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise


def pod_containers(pod: Obj) -> list[Obj]:
    """Every container spec of a pod, init containers first (the order the kubelet starts them in)."""
    spec = pod["spec"]
    return [*(spec.get("initContainers") or []), *spec["containers"]]
