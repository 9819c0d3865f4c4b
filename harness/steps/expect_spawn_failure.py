"""``expect_spawn_failure``: start a server and expect the spawn to fail with a given message.

``message`` is looked for in every source ``harness.hub.spawn_failure`` reads (Kubernetes Status,
Events, hub log, the hub's answer): the hub's own answer is often just "error". A spawn still
pending when ``timeout`` runs out did not fail, so it does not pass, but its reason is shown.
"""

from __future__ import annotations

from typing import Any

from harness.checks.errors import CheckFailed
from harness.hub.spawn_failure import ExplainedSpawnFailure, start_explained
from harness.steps.context import StepContext, server_label


def run(item: Any, ctx: StepContext) -> str:
    body = item.body
    user = ctx.user(body)
    label = server_label(user, body.server)
    try:
        start_explained(ctx.target, user, body.server, timeout=body.timeout)
    except ExplainedSpawnFailure as exc:
        why = exc.reasons
        if exc.timed_out:
            raise CheckFailed(
                f"server {label} did not fail, it was still starting: {exc}; "
                f"expected a failure mentioning {body.message!r}"
            ) from exc
        found = why.find(body.message)
        if found is None:
            searched = ", ".join(sorted({r.source for r in why.reasons})) or "nothing"
            raise CheckFailed(
                f"spawn failed, but no source mentions {body.message!r} (searched: {searched}): {exc}"
            ) from exc
        matched = f"failed as expected ({body.message!r} in {found.where})"
        return (
            f"{matched}: {found.headline}" if found is why.best() else f"{matched}; reason: {why.summary()}"
        )
    raise CheckFailed(f"server {label} started, expected the spawn to fail")
