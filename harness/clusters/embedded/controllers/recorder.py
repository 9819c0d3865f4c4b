"""Event emission for controllers that never fails the reconcile that emits it.

Why: a real controller's EventRecorder is fire-and-forget — a failed Event write (e.g. the namespace is
terminating) is logged and dropped, it never blocks or retries the actual work.
"""

from __future__ import annotations

import logging
from typing import Any

from ..apiserver.events import record_event
from .objects import Obj

log = logging.getLogger(__name__)


async def emit(
    registry: Any, involved: Obj, reason: str, message: str, *, component: str, type: str = "Normal"
) -> None:
    try:
        await record_event(registry, involved, reason, message, type=type, component=component)
    except Exception as e:
        log.debug("event %s on %s dropped: %s", reason, involved.get("metadata", {}).get("name"), e)
