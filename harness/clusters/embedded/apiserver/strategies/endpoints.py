"""Endpoints (pkg/registry/core/endpoint): a plain stored type, written by the endpoints controller."""

from __future__ import annotations

from ..resource import Resource
from ..strategy import Strategy

ENDPOINTS = Resource("endpoints", "endpoints", "Endpoints", "", "v1", True, ("ep",))

STRATEGIES = (Strategy(ENDPOINTS),)
