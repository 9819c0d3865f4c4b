"""The resources this server serves, as declared by their strategies (strategies/): what routing,
discovery, RBAC naming and the controllers (garbage collector, namespace deletion) look up.
"""

from __future__ import annotations

from .resource import Resource
from .strategies import STRATEGIES

__all__ = ["BY_KIND", "BY_PLURAL", "RESOURCES", "STORED", "Resource", "group_versions", "lookup"]

RESOURCES: tuple[Resource, ...] = tuple(s.resource for s in STRATEGIES)
BY_PLURAL: dict[str, Resource] = {r.plural: r for r in RESOURCES}
BY_KIND: dict[tuple[str, str], Resource] = {(r.api_version, r.kind): r for r in RESOURCES}

#: resources whose objects are stored (SelfSubjectAccessReview is computed, never stored)
STORED = frozenset(r.plural for r in RESOURCES if r.stored)


def group_versions() -> dict[str, list[Resource]]:
    """Resources per ``group/version`` ("v1" for core), in table order."""
    out: dict[str, list[Resource]] = {}
    for r in RESOURCES:
        out.setdefault(r.api_version, []).append(r)
    return out


def lookup(group: str, version: str, plural: str) -> Resource | None:
    r = BY_PLURAL.get(plural)
    if r is None or r.group != group or r.version != version:
        return None
    return r
