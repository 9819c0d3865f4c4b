"""Parse request paths into what they address, the way kube-apiserver's RequestInfoFactory does.

``/api/v1/namespaces/ns/pods/x/status`` -> resource ``pods``, namespace ``ns``, name ``x``, subresource
``status``; ``/api/v1/namespaces/ns`` is the namespace object itself; ``/api/v1/pods`` is a cluster-wide list.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import errors
from .resources import Resource, lookup


@dataclass(frozen=True)
class Target:
    info: Resource
    namespace: str | None
    name: str | None
    subresource: str | None


def parse(path: str) -> Target | None:
    """The resource a path addresses; None for non-resource paths; ApiError 404 for unknown resources."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if not rest:
        return None
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        # /namespaces/{ns}/{resource}... unless it is a namespace subresource (status, finalize)
        nested = lookup(group, version, rest[2])
        if nested is not None and nested.namespaced:
            namespace, rest = rest[1], rest[2:]
    info = lookup(group, version, rest[0])
    if info is None:
        raise errors.page_not_found()
    name = rest[1] if len(rest) >= 2 else None
    sub = "/".join(rest[2:]) if len(rest) >= 3 else None
    if sub is not None and sub not in info.subresources:
        raise errors.page_not_found()
    if namespace is None and info.namespaced and name is not None:
        raise errors.page_not_found()
    return Target(info, namespace, name, sub)
