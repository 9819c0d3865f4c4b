"""What the unit tests' fake Kubes share: ``Kube.watch_until`` over objects that do not change.

A fake's objects only change when the code under test acts, never while it waits, so a watched wait
is decided by one look at the current objects: the probe's answer, or the timeout a real wait would
end in. Each wait is recorded in ``watched`` (what, kind, name), so a test can tell a step waited by
watching, not by polling ``get`` in a sleep loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.clusters.kube import WaitTimeout


class WatchOnce:
    """Mixin for a fake with ``get(kind, namespace, name)`` and ``list(kind, namespace, selector)``."""

    watched: list[tuple[str, str, str | None]]

    def watch_until(
        self,
        what: str,
        kind: str,
        namespace: str | None,
        probe: Callable[[list[dict[str, Any]]], Any],
        timeout: float,
        *,
        selector: str | None = None,
        name: str | None = None,
        last: Callable[[], str] | None = None,
    ) -> Any:
        if "watched" not in vars(self):
            self.watched = []
        self.watched.append((what, kind, name))
        if name is not None:
            found = self.get(kind, namespace, name)  # type: ignore[attr-defined]
            items = [found] if found is not None else []
        else:
            items = self.list(kind, namespace, selector)  # type: ignore[attr-defined]
        value = probe(items)
        if value is None:
            seen = f"; last seen: {last()}" if last else ""
            raise WaitTimeout(f"timed out after {timeout:.0f}s waiting for {what}{seen}")
        return value
