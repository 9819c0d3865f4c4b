"""Why a spawn failed (or hangs): the reason for one user's server, from every place it shows up.

The hub's own answer rarely says why: with ``storage_capacity`` unset JupyterHub 6.1.1 answers
"Internal Server Error" and 5.5.4 "error", while the API server's 422 (``spec.resources[storage]:
Invalid value: "0": must be greater than zero``) is only in the hub log; a PVC of a missing
StorageClass makes the spawn hang until ``start_timeout`` and only the Events say why. So a failed
(or timed-out) spawn is explained from four sources, most specific first:

- ``Kubernetes Status``: the API server's answer inside a ``kubernetes_asyncio`` ApiException the
  hub logged (``HTTP response body: {"kind":"Status",...}``): message, reason, code, causes;
- ``event``: Events of this server's PVC(s) and pod that are new since the spawn started
  (Warnings; for a claim that is still unbound, its other events too, e.g. ExternalProvisioning);
  claim events come before pod events, since a pod's FailedScheduling usually follows from its claim;
- ``hub log``: the hub's error/warning records about this user's server written after the spawn
  started (JupyterHub's "Unhandled error starting alice's server: ...", "alice's server failed to
  start in 30 seconds, giving up.", KubeSpawner's "Failed for {pod manifest}", ...);
- ``hub``: what the hub API / progress stream said.

``begin`` notes where the hub log and the namespace's Events stand when a spawn starts (the kubelet
timestamp of the hub log's last line, each Event's count), so ``explain`` reads only what came
after, without comparing the harness's clock with the cluster's. The parsing functions are pure and
tested against log text captured from real runs (``tests/unit/spawn_failure_samples/``).
"""

from __future__ import annotations

from harness.hub.spawn_failure.events import event_counts, event_reasons, hub_reasons, server_objects
from harness.hub.spawn_failure.explain import (
    ExplainedSpawnFailure,
    LogMark,
    SpawnWatch,
    begin,
    explain,
    start_explained,
)
from harness.hub.spawn_failure.hub_log import (
    LogRecord,
    lines_after,
    log_reasons,
    log_records,
    parse_stamp,
    spawn_records,
    status_reason,
    statuses_in,
)
from harness.hub.spawn_failure.reasons import (
    HUB_POD_SELECTOR,
    LOG_SETTLE_SECONDS,
    SERVERNAME_ANNOTATION,
    SOURCES,
    USERNAME_ANNOTATION,
    FailureReasons,
    Reason,
    Stamp,
)

__all__ = [
    "HUB_POD_SELECTOR",
    "LOG_SETTLE_SECONDS",
    "SERVERNAME_ANNOTATION",
    "SOURCES",
    "USERNAME_ANNOTATION",
    "ExplainedSpawnFailure",
    "FailureReasons",
    "LogMark",
    "LogRecord",
    "Reason",
    "SpawnWatch",
    "Stamp",
    "begin",
    "event_counts",
    "event_reasons",
    "explain",
    "hub_reasons",
    "lines_after",
    "log_reasons",
    "log_records",
    "parse_stamp",
    "server_objects",
    "spawn_records",
    "start_explained",
    "status_reason",
    "statuses_in",
]
