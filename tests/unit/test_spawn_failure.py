"""Finding why a spawn failed, from hub log text, Kubernetes Status and Events captured on real runs.

The samples in ``spawn_failure_samples/`` are the hub pod's log (``kubectl logs --timestamps``) and
the namespace's Events from scenario runs on the embedded cluster: ``capacity-unset`` (PVC request
"0" -> 422) and ``storage-class-missing`` (PVC Pending, pod unschedulable, hub start_timeout 30s),
each with KubeSpawner 7.1.0 + JupyterHub 6.1.1 and 6.2.0 + 5.5.4.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from harness.checks.errors import CheckFailed
from harness.hub import spawn_failure as sf
from harness.hub.driver import SpawnFailed, SpawnTimedOut
from harness.steps import expect_spawn_failure, start

SAMPLES = Path(__file__).parent / "spawn_failure_samples"
RELEASES = ["ks7.1.0", "ks6.2.0"]
INVALID = (
    'PersistentVolumeClaim "claim-alice" is invalid: spec.resources[storage]: '
    'Invalid value: "0": must be greater than zero'
)
NO_CLASS = 'storageclass.storage.k8s.io "does-not-exist" not found'


def _log(name: str) -> str:
    return (SAMPLES / f"{name}.hub.log").read_text()


def _events(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((SAMPLES / f"{name}.events.json").read_text())
    return data


def _upto(text: str, needle: str) -> str:
    """The log as it was when the line containing ``needle`` was the last one."""
    lines = text.splitlines(keepends=True)
    end = next(i for i, line in enumerate(lines) if needle in line)
    return "".join(lines[: end + 1])


# ------------------------------------------------------------------------------- timestamps
def test_stamps_compare_as_numbers_not_strings() -> None:
    # Go's RFC3339Nano trims trailing zeros: as strings "05.1Z" sorts after "05.12Z"
    assert sf.parse_stamp("2026-12-02T01:41:05.1Z x") < sf.parse_stamp("2026-12-02T01:41:05.12Z y")  # type: ignore[operator]
    assert sf.parse_stamp("2026-12-02T01:41:05Z") == sf.parse_stamp("2026-12-02T02:41:05+01:00")
    assert sf.parse_stamp("[I 2026-12-02 01:41:05.123 JupyterHub app:1] x") is None


@pytest.mark.parametrize("release", RELEASES)
def test_lines_after_keeps_only_what_the_hub_wrote_after_the_mark(release: str) -> None:
    text = _log(f"capacity-unset-{release}")
    mark_line = _upto(text, "201 POST /hub/api/users/alice").splitlines()[-1]
    after = sf.lines_after(text, sf.parse_stamp(mark_line))
    assert not any("201 POST /hub/api/users/alice" in line for line in after)
    assert after[0].startswith("[I ") and "Creating oauth client jupyterhub-user-alice" in after[0]
    assert len(sf.lines_after(text, None)) == len(text.splitlines())
    last = sf.parse_stamp(text.splitlines()[-1])
    assert sf.lines_after(text, last) == []


# ------------------------------------------------------------------------ hub log and Status
@pytest.mark.parametrize("release", RELEASES)
def test_capacity_unset_reason_is_the_422_status_in_the_hub_log(release: str) -> None:
    text = _upto(_log(f"capacity-unset-{release}"), "500 POST /hub/api/users/alice/server")
    reasons = sf.log_reasons(sf.lines_after(text, None), "alice")
    first = reasons[0]
    assert (first.source, first.headline) == ("hub log", "Unhandled error starting alice's server: (422)")
    statuses = [r for r in reasons if r.source == "Kubernetes Status"]
    assert len(statuses) == 1, "the same Status in three records is one reason"
    assert statuses[0].text.splitlines() == [
        INVALID,
        "422 Invalid (PersistentVolumeClaim claim-alice)",
        'cause: spec.resources[storage]: FieldValueInvalid: Invalid value: "0": must be greater than zero',
    ]
    assert statuses[0].origin == "from Kubernetes Status 422 Invalid in hub log"
    # what the hub answered: 6.1.1 "Internal Server Error", 5.5.4 "error" (JupyterHub sets e.reason)
    found = sf.FailureReasons(sf.hub_reasons(["error"]) + reasons)
    match = found.find("spec.resources[storage]")
    assert match is not None and match.source == "Kubernetes Status"
    assert found.summary() == f"{INVALID} (from Kubernetes Status 422 Invalid in hub log)"
    assert found.find("error") is not None and found.find("no such text") is None


@pytest.mark.parametrize("release", RELEASES)
def test_other_users_records_and_earlier_lines_are_not_this_spawns(release: str) -> None:
    text = _upto(_log(f"capacity-unset-{release}"), "500 POST /hub/api/users/alice/server")
    lines = sf.lines_after(text, None)
    assert sf.log_reasons(lines, "bob") == []
    assert sf.log_reasons(lines, "lice") == [], "a user whose name ends another's is not matched"
    assert sf.log_reasons(sf.lines_after(text, sf.parse_stamp(text.splitlines()[-1])), "alice") == []


@pytest.mark.parametrize("release", RELEASES)
def test_timed_out_spawn_log_record_is_jupyterhubs_give_up_warning(release: str) -> None:
    text = _upto(_log(f"storage-class-missing-{release}"), "/progress")
    reasons = sf.log_reasons(sf.lines_after(text, None), "alice", {"jupyter-alice", "claim-alice"})
    assert [r.headline for r in reasons] == ["alice's server failed to start in 30 seconds, giving up."]
    assert "increase `Spawner.start_timeout`" in reasons[0].text


def test_records_group_continuation_lines_and_keep_foreign_lines() -> None:
    lines = [
        "[E 2026-12-02 01:41:40.339 JupyterHub user:1072] Unhandled error starting alice's server: boom",
        "    Traceback (most recent call last):",
        '      File "x.py", line 1, in f',
        "        raise ValueError('boom')",
        "    ValueError: boom",
        "plain stderr line",
    ]
    records = sf.log_records(lines)
    assert [(r.level, len(r.lines)) for r in records] == [("E", 5), ("", 1)]
    assert records[0].account() == "Unhandled error starting alice's server: boom\nValueError: boom"


def test_kubespawner_failed_for_manifest_record_names_the_exception_first() -> None:
    manifest = "{'kind': 'Pod', 'metadata': {'annotations': {'hub.jupyter.org/username': 'alice'}"
    record = sf.LogRecord(
        "E",
        "JupyterHub spawner:3019",
        [
            f"Failed for {manifest}{', ' * 120}}}",
            "Traceback (most recent call last):",
            '  File "s.py"',
            "ApiException: (403)",
        ],
    )
    assert sf.spawn_records([record], "alice") == [record]
    assert record.account().splitlines()[0] == "ApiException: (403)"


def test_status_in_a_bytes_body_of_the_synchronous_client() -> None:
    body = {
        "kind": "Status",
        "code": 403,
        "reason": "Forbidden",
        "message": 'persistentvolumeclaims "c" is forbidden: exceeded quota',
    }
    text = f"(403)\nReason: Forbidden\nHTTP response body: {json.dumps(body).encode()!r}\n"
    assert sf.statuses_in(text) == [body]
    assert sf.status_reason(body).text.splitlines()[:2] == [body["message"], "403 Forbidden"]


# ------------------------------------------------------------------------------------ events
OBJECTS = {("Pod", "jupyter-alice"), ("PersistentVolumeClaim", "claim-alice")}


@pytest.mark.parametrize("release", RELEASES)
def test_missing_storage_class_reason_is_the_claims_provisioning_failed_event(release: str) -> None:
    events = _events(f"storage-class-missing-{release}")
    reasons = sf.event_reasons(events, {}, OBJECTS, ["claim-alice"])
    assert [(r.where, r.text) for r in reasons] == [
        ("event ProvisioningFailed on pvc/claim-alice", NO_CLASS),
        (
            "event FailedScheduling on pod/jupyter-alice",
            "0/1 nodes are available: 1 pod has unbound immediate PersistentVolumeClaims.",
        ),
    ]


@pytest.mark.parametrize("release", RELEASES)
def test_events_from_before_the_spawn_count_only_when_repeated(release: str) -> None:
    events = _events(f"storage-class-missing-{release}")
    before = sf.event_counts(events)
    assert sf.event_reasons(events, before, OBJECTS, ["claim-alice"]) == []
    pvc_event = next(e for e in events if e["reason"] == "ProvisioningFailed")
    before[pvc_event["metadata"]["uid"]] = pvc_event["count"] - 1  # the controller repeated it since
    assert [r.text for r in sf.event_reasons(events, before, OBJECTS, [])] == [NO_CLASS]


def test_normal_events_count_only_for_a_claim_still_unbound() -> None:
    events = _events("storage-class-missing-ks7.1.0")
    hub_db = {("PersistentVolumeClaim", "hub-db")}
    assert sf.event_reasons(events, {}, hub_db, []) == []
    assert [r.where for r in sf.event_reasons(events, {}, hub_db, ["hub-db"])] == [
        "event ExternalProvisioning on pvc/hub-db"
    ]


def test_server_objects_from_annotations_mounted_claims_and_saved_state() -> None:
    pod = {
        "metadata": {
            "name": "jupyter-alice--work",
            "annotations": {sf.USERNAME_ANNOTATION: "alice", sf.SERVERNAME_ANNOTATION: "work"},
        },
        "spec": {"volumes": [{"name": "home", "persistentVolumeClaim": {"claimName": "claim-alice--work"}}]},
    }
    default_pvc = {"metadata": {"name": "claim-alice", "annotations": {sf.USERNAME_ANNOTATION: "alice"}}}
    assert sf.server_objects("alice", "work", [pod], [default_pvc], {}) == {
        ("Pod", "jupyter-alice--work"),
        ("PersistentVolumeClaim", "claim-alice--work"),
    }
    assert sf.server_objects("alice", "", [pod], [default_pvc], {"pod_name": "jupyter-alice"}) == {
        ("PersistentVolumeClaim", "claim-alice"),
        ("Pod", "jupyter-alice"),
    }


# ----------------------------------------------------------------- begin/explain on a cluster
class _FakeKube:
    """The few reads ``begin``/``explain`` make, answered from a captured run (as the API would)."""

    def __init__(self, log: str, events: list[dict[str, Any]], pvcs: list[dict[str, Any]]) -> None:
        self.log, self.events, self.pvcs = log, events, pvcs
        self.log_calls: list[dict[str, Any]] = []
        self.core = SimpleNamespace(read_namespaced_pod_log=self._read_log)
        self.forbid_logs = False

    def _read_log(self, pod: str, namespace: str, **kwargs: Any) -> str:
        self.log_calls.append(kwargs)
        if self.forbid_logs:
            raise ApiException(status=403, reason="Forbidden")
        assert kwargs["timestamps"] is True and pod == "hub-1"
        lines = self.log.splitlines(keepends=True)
        return "".join(lines[-kwargs["tail_lines"] :] if "tail_lines" in kwargs else lines)

    def list(
        self, kind: str, namespace: str | None = None, selector: str | None = None
    ) -> list[dict[str, Any]]:
        if kind == "pod":
            hub = {
                "metadata": {"name": "hub-1"},
                "spec": {"containers": [{"name": "hub"}]},
                "status": {"phase": "Running"},
            }
            return [hub]
        return {"event": self.events, "pvc": self.pvcs}[kind]


def _pvc(name: str, phase: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "annotations": {sf.USERNAME_ANNOTATION: "alice"}},
        "status": {"phase": phase},
    }


@pytest.mark.parametrize("release", RELEASES)
def test_explain_reads_only_what_came_after_begin(release: str) -> None:
    full = _upto(_log(f"storage-class-missing-{release}"), "/progress")
    events = _events(f"storage-class-missing-{release}")
    kube = _FakeKube(
        _upto(full, "201 POST /hub/api/users/alice"), [e for e in events if "alice" not in str(e)], []
    )
    watch = sf.begin(kube, "ns", "alice", "")  # type: ignore[arg-type]
    assert watch.log is not None and watch.log.pod == "hub-1" and watch.unavailable == []
    kube.log, kube.events, kube.pvcs = full, events, [_pvc("claim-alice", "Pending")]
    found = sf.explain(watch, ["Spawn failed: "], {"pod_name": "jupyter-alice"})
    assert [r.source for r in found.ordered()] == ["event", "event", "hub log", "hub"]
    assert found.summary() == f"{NO_CLASS} (from event ProvisioningFailed on pvc/claim-alice)"
    assert "since_seconds" in kube.log_calls[-1], "a long-running hub's log is not read from its start"


def test_unreadable_sources_are_named_not_fatal() -> None:
    kube = _FakeKube("", [], [])
    kube.forbid_logs = True
    watch = sf.begin(kube, "ns", "alice", "")  # type: ignore[arg-type]
    found = sf.explain(watch, ["error"])
    assert found.summary() == "error (from the hub API) [not read: hub log: 403 Forbidden in namespace ns]"
    no_ns = sf.explain(sf.begin(None, None, "alice", ""), ["error"])
    assert "the hub's namespace is not known (--namespace)" in no_ns.summary()


# -------------------------------------------------------------------------------- the steps
class _Hub:
    def __init__(self, failure: SpawnFailed | None) -> None:
        self.failure, self.stopped = failure, False

    def start_server(self, user: str, server: str, timeout: float) -> None:
        if self.failure:
            raise self.failure

    def get_user(self, user: str, include_stopped: bool = False) -> dict[str, Any]:
        return {"servers": {}}

    def stop_server(self, user: str, server: str, timeout: float) -> None:
        self.stopped = True


def _ctx(failure: SpawnFailed | None) -> Any:
    target = SimpleNamespace(hub=_Hub(failure), kube=None, namespace=None)
    return SimpleNamespace(target=target, user=lambda body: body.user, record_spawn=lambda s: None)


def _item(**body: Any) -> Any:
    return SimpleNamespace(body=SimpleNamespace(user="alice", server="", timeout=5, **body))


def test_expect_spawn_failure_says_where_the_message_was_found() -> None:
    note = expect_spawn_failure.run(
        _item(message="claim-x"), _ctx(SpawnFailed("error", ["422 claim-x", "error"]))
    )
    assert (
        note == "failed as expected ('claim-x' in the hub API); reason: error (from the hub API) [not read: "
        "hub log and events: the hub's namespace is not known (--namespace)]"
    )
    with pytest.raises(
        CheckFailed, match=r"no source mentions 'quota' \(searched: hub\): error; reason: error"
    ):
        expect_spawn_failure.run(_item(message="quota"), _ctx(SpawnFailed("error")))


def test_a_spawn_still_pending_is_not_the_expected_failure_and_is_stopped() -> None:
    ctx = _ctx(SpawnTimedOut("not ready after 5s; the hub still reports the spawn pending"))
    with pytest.raises(
        CheckFailed,
        match=r"did not fail, it was still starting: not ready after 5s.*the pending spawn was stopped",
    ):
        expect_spawn_failure.run(_item(message="not ready"), ctx)
    assert ctx.target.hub.stopped


def test_an_unexpected_start_failure_carries_the_reason() -> None:
    # the final message first: it is the hub's verdict, earlier ones are progress on the way
    with pytest.raises(
        CheckFailed, match=r"server alice/ failed to start: error; reason: error \(from the hub API\)"
    ):
        start.run(_item(), _ctx(SpawnFailed("error", ["422 claim-x", "error"])))
