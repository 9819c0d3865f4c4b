"""ServiceAccounts (pkg/registry/core/serviceaccount): stored as sent; ``/token`` is a computed
subresource (subresources.py) and their tokens live in the TokenStore (authz.py).
"""

from __future__ import annotations

from typing import Any

from ..resource import RW, Resource
from ..strategy import Strategy
from ..tables import age

Obj = dict[str, Any]

SERVICE_ACCOUNTS = Resource(
    "serviceaccounts", "serviceaccount", "ServiceAccount", "", "v1", True, ("sa",), RW, ("token",)
)


class ServiceAccountStrategy(Strategy):
    columns = (("Secrets", "integer", 0), ("Age", "string", 0))

    def row(self, o: Obj) -> list[Any]:
        return [len(o.get("secrets") or []), age(o)]


STRATEGIES = (ServiceAccountStrategy(SERVICE_ACCOUNTS),)
