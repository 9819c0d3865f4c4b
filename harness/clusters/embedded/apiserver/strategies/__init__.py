"""One strategy module per resource kind (or small family), as kube-apiserver's pkg/registry/<group>/
<resource>/strategy.go; this package lists them and looks them up.

The order here is the order of discovery documents.  Adding a resource: a module declaring its
``Resource`` and ``STRATEGIES``, listed below, plus its test rows.
"""

from __future__ import annotations

from .. import errors
from ..selectors import FieldRequirement, parse_fields
from ..strategy import Strategy
from . import (
    configs,
    endpoints,
    events,
    namespaces,
    nodes,
    persistentvolumeclaims,
    persistentvolumes,
    pods,
    rbac,
    selfsubjectaccessreviews,
    serviceaccounts,
    services,
    storageclasses,
    workloads,
)

STRATEGIES: tuple[Strategy, ...] = (
    *namespaces.STRATEGIES,
    *pods.STRATEGIES,
    *persistentvolumeclaims.STRATEGIES,
    *persistentvolumes.STRATEGIES,
    *services.STRATEGIES,
    *endpoints.STRATEGIES,
    *configs.STRATEGIES,
    *serviceaccounts.STRATEGIES,
    *events.STRATEGIES,
    *nodes.STRATEGIES,
    *storageclasses.STRATEGIES,
    *workloads.STRATEGIES,
    *rbac.STRATEGIES,
    *selfsubjectaccessreviews.STRATEGIES,
)

BY_PLURAL: dict[str, Strategy] = {s.resource.plural: s for s in STRATEGIES}


def strategy_for(resource: str) -> Strategy:
    """The strategy of a stored resource; the real 404 for anything else."""
    strategy = BY_PLURAL.get(resource)
    if strategy is None or not strategy.resource.stored:
        raise errors.page_not_found()
    return strategy


def parse_field_selector(resource: str, text: str | None) -> list[FieldRequirement]:
    """A ``fieldSelector`` over the fields ``resource`` supports."""
    strategy = BY_PLURAL.get(resource)
    return parse_fields(text, strategy.field_labels if strategy is not None else None)
