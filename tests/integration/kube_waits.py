"""Polling helpers shared by the embedded-cluster integration tests (imported by module name: pytest
puts this directory on ``sys.path``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from kubernetes.client.exceptions import ApiException

T = TypeVar("T")


def wait_for(
    fn: Callable[[], T | None], timeout: float = 60.0, what: str = "condition", interval: float = 0.1
) -> T:
    """Call ``fn`` until it returns something truthy and return that; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def found(read: Callable[[], Any]) -> Any:
    """What ``read`` returns, or None when the API answers 404."""
    try:
        return read()
    except ApiException as e:
        if e.status == 404:
            return None
        raise


def gone(read: Callable[[], Any]) -> bool:
    """True when ``read`` gets a 404."""
    return found(read) is None
