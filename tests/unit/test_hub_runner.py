"""Runner control flow with a fake hub target: gates, finally, skips, cleanup (also on Ctrl-C), failures."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import runner
from harness.checks.errors import CheckFailed
from harness.clusters.base import HubVersions, Images
from harness.hub.settings import ConfigChange, HubSettings, TraitDiff, diff
from harness.hub.target import HubTarget
from harness.options import HarnessOptions
from harness.results import Verdict
from harness.scenario.loader import parse_scenario

SCENARIO = """
name: flow
description: runner control flow
users: [{name: alice}]
steps:
  - start: {user: alice}
  - stop: {user: alice}
    kubespawner: "<7"
  - restart_cluster: {}
  - restart_hub: {kubespawner: "7.0.0"}
  - stop: {user: alice}
    kubespawner: ">=7"
finally:
  - delete_user: {user: alice}
"""


class FakeHub:
    def __init__(self, log: list[str], fail: str | None = None, interrupt: str | None = None) -> None:
        self.log, self.fail, self.interrupt = log, fail, interrupt

    def _do(self, what: str) -> None:
        self.log.append(what)
        if what == self.interrupt:
            raise KeyboardInterrupt
        if what == self.fail:
            raise CheckFailed(f"{what} went wrong")

    def create_user(self, user: str) -> None:
        self._do(f"create {user}")

    def start_server(self, user: str, server: str = "", timeout: float = 0) -> None:
        self._do(f"start {user}/{server}")

    def stop_server(self, user: str, server: str = "", remove: bool = False) -> None:
        self._do(f"stop {user}/{server}")

    def delete_user(self, user: str) -> None:
        self._do(f"delete {user}")

    def get_user(self, user: str) -> dict[str, Any]:
        return {"servers": {}}

    def list_users(self) -> list[dict[str, Any]]:
        return []


class FakeTarget(HubTarget):
    def __init__(self, hub: FakeHub) -> None:
        self._hub, self.torn_down, self.restarted_with = hub, False, None
        self.description = "fake hub"

    @property
    def hub(self) -> Any:
        return self._hub

    def setup(self) -> None:
        self._hub.log.append("setup")

    def teardown(self, keep: bool) -> None:
        self.torn_down = True
        self._hub.log.append(f"teardown keep={keep}")

    def restart_hub(
        self, versions: HubVersions | None, change: ConfigChange | None = None
    ) -> list[TraitDiff]:
        self.restarted_with = versions
        diffs: list[TraitDiff] = []
        if change:
            new = self.config.changed(change)
            diffs = diff(_effective(self.config), _effective(new), change)
            self.config = new
        if versions is not None:
            self.versions = versions
        self._hub.log.append(f"restart_hub {versions.kubespawner if versions else None}")
        return diffs

    def reconnect(self) -> None:
        self._hub.log.append("reconnect")


def _effective(config: HubSettings) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {"KubeSpawner": dict(config.kubespawner)}
    for dotted, value in config.hub_config.items():
        section, _, trait = dotted.partition(".")
        out.setdefault(section, {})[trait] = value
    return out


class FakeCluster:
    backend = "fake"

    def images(self, versions: HubVersions) -> Images:
        return Images(hub=f"hub:{versions.kubespawner}", proxy="p", singleuser="s", reader="r")

    def __init__(self, shared_key: str | None = None, restarts: bool = False) -> None:
        self.shared_key, self.restarts = shared_key, restarts

    def restart_unsupported_reason(self) -> str | None:
        return None if self.restarts else "fake clusters do not reboot"

    def restart(self) -> None:
        pass

    def shared_use_key(self) -> str | None:
        return self.shared_key


def _run(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    hub: FakeHub,
    ks: str = "6.2.0",
    cluster: FakeCluster | None = None,
    target: FakeTarget | None = None,
) -> tuple[FakeTarget, list[str]]:
    target = target or FakeTarget(hub)
    monkeypatch.setattr(runner, "_make_target", lambda scenario, ctx: target)
    lines: list[str] = []
    options = HarnessOptions(reports_dir=tmp_path, kubespawner_version=ks)
    target.versions = options.versions
    ctx = runner.RunContext(
        cluster=cluster or FakeCluster(), versions=options.versions, options=options, report=lines.append
    )  # type: ignore[arg-type]
    try:
        runner.run_scenario(parse_scenario(SCENARIO, "flow.yaml"), ctx)
    finally:
        hub.log.append("|".join(lines))
    return target, lines


def test_gates_follow_the_version_after_an_upgrade(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    log: list[str] = []
    target, lines = _run(monkeypatch, tmp_path, FakeHub(log))
    # 6.2.0: the "<7" stop runs; after restart_hub to 7.0.0 the ">=7" stop runs too
    assert log[:7] == [
        "setup",
        "create alice",
        "start alice/",
        "stop alice/",
        "restart_hub 7.0.0",
        "stop alice/",
        "delete alice",
    ]
    assert any("↷ 3 restart_cluster  skipped: fake clusters do not reboot" in line for line in lines)
    assert target.torn_down


def test_gate_skips_are_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    log: list[str] = []
    _, lines = _run(monkeypatch, tmp_path, FakeHub(log), ks="7.1.0")
    assert any(line.startswith("  - 2 stop alice/") and "kubespawner <7" in line for line in lines)


def test_failure_stops_steps_runs_finally_and_cleans_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log: list[str] = []
    with pytest.raises(runner.ScenarioFailure) as info:
        _run(monkeypatch, tmp_path, FakeHub(log, fail="start alice/"))
    assert "restart_hub 7.0.0" not in log
    assert "delete alice" in log and "teardown keep=False" in log
    assert "flow.yaml:" in info.value.summary and "start alice/ went wrong" in info.value.summary
    assert info.value.bundle is not None and (info.value.bundle / "failures.txt").is_file()


def test_ctrl_c_still_cleans_up(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    log: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        _run(monkeypatch, tmp_path, FakeHub(log, interrupt="start alice/"))
    assert "teardown keep=False" in log


def test_gates_follow_the_versions_an_existing_hub_reports(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Options say 6.2.0, the hub runs 7.1.0: the ">=7" stop runs, the "<7" one does not."""
    log: list[str] = []
    hub = FakeHub(log)
    original_setup = FakeTarget.setup

    def setup(self: FakeTarget) -> None:
        original_setup(self)
        self.versions = HubVersions(kubespawner="7.1.0", jupyterhub="6.1.1")

    monkeypatch.setattr(FakeTarget, "setup", setup)
    _, lines = _run(monkeypatch, tmp_path, hub, ks="6.2.0")
    assert any("version gates follow the hub's kubespawner 7.1.0" in line for line in lines), lines
    assert any(line.startswith("  - 2 stop alice/") and "kubespawner <7" in line for line in lines), lines


VERDICTS = """
name: verdicts
description: known_issue and hazard
users: [{name: alice}]
steps:
  - start: {user: alice}
    known_issue: kubespawner#937
  - stop: {user: alice}
    hazard: stopping loses the writable layer
finally:
  - delete_user: {user: alice}
"""


def _run_text(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    hub: FakeHub,
    text: str,
    ks: str = "7.1.0",
    target: FakeTarget | None = None,
) -> tuple[runner.RunContext, list[str]]:
    target = target or FakeTarget(hub)
    monkeypatch.setattr(runner, "_make_target", lambda scenario, ctx: target)
    lines: list[str] = []
    options = HarnessOptions(reports_dir=tmp_path, kubespawner_version=ks)
    target.versions = options.versions
    ctx = runner.RunContext(
        cluster=FakeCluster(), versions=options.versions, options=options, report=lines.append
    )  # type: ignore[arg-type]
    scenario = parse_scenario(text, "verdicts.yaml")
    target.config = HubSettings(dict(scenario.kubespawner), dict(scenario.hub_config))  # as _make_target
    runner.run_scenario(scenario, ctx)
    return ctx, lines


def test_a_known_issue_that_bites_is_known_and_the_steps_go_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log: list[str] = []
    ctx, lines = _run_text(monkeypatch, tmp_path, FakeHub(log, fail="start alice/"), VERDICTS)
    assert ctx.outcome.verdict() is Verdict.KNOWN
    assert ctx.outcome.known_issues() == ["kubespawner#937"]
    assert "stop alice/" in log  # an expected failure does not end the scenario
    assert any("◌ 1 start alice/" in line and "KNOWN kubespawner#937" in line for line in lines), lines


def test_a_known_issue_that_passes_fails_the_cell(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Strict xfail: when the upstream bug is fixed, the cell fails so the annotation gets dropped."""
    with pytest.raises(runner.ScenarioFailure) as info:
        _run_text(monkeypatch, tmp_path, FakeHub([]), VERDICTS)
    assert "fixed upstream? drop known_issue kubespawner#937" in info.value.summary
    assert "verdicts.yaml:6:5" in info.value.summary


def test_a_hazard_step_that_passes_makes_a_hazard_cell(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    text = VERDICTS.replace("    known_issue: kubespawner#937\n", "")
    ctx, lines = _run_text(monkeypatch, tmp_path, FakeHub([]), text)
    assert ctx.outcome.verdict() is Verdict.HAZARD
    assert ctx.outcome.hazards() == ["stopping loses the writable layer"]
    assert any("HAZARD: stopping loses the writable layer" in line for line in lines), lines


def test_a_scenario_known_issue_stops_at_the_first_failure_and_passing_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    text = VERDICTS.replace("    known_issue: kubespawner#937\n", "").replace(
        "users:", 'known_issue: {issue: kubespawner#873, kubespawner: ">=7.1"}\nusers:'
    )
    log: list[str] = []
    ctx, _ = _run_text(monkeypatch, tmp_path, FakeHub(log, fail="start alice/"), text)
    assert ctx.outcome.verdict() is Verdict.KNOWN and "stop alice/" not in log
    with pytest.raises(runner.ScenarioFailure) as info:
        _run_text(monkeypatch, tmp_path, FakeHub([]), text)
    assert "fixed upstream? drop known_issue kubespawner#873: every step passed" in info.value.summary
    # outside the gated releases it is an ordinary scenario: a failure fails
    with pytest.raises(runner.ScenarioFailure):
        _run_text(monkeypatch, tmp_path, FakeHub([], fail="start alice/"), text.replace('">=7.1"', '"<7"'))


CONFIG_FLOW = """
name: config-flow
description: config changes across restarts
kubespawner: {notebook_dir: /home/jovyan/a, storage_capacity: 1Gi}
users: [{name: alice}]
steps:
  - restart_hub:
      kubespawner: "7.1.0"
      kubespawner_set: {notebook_dir: /home/jovyan/b}
      kubespawner_unset: [storage_capacity]
  - stop: {user: alice}
    kubespawner: ">=7"
  - restart_hub: {hub_config_set: {JupyterHub.upgrade_db: true}, kubespawner_unset: [storage_capacity]}
  - expect_file: {user: alice, path: a.txt}
"""


def test_config_changes_accumulate_show_their_diff_and_reach_the_checks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: list[Any] = []
    monkeypatch.setattr(
        "harness.checks.files.expect_file", lambda *args, notebook_dir=None: seen.append(notebook_dir) or "ok"
    )
    monkeypatch.setattr(FakeHub, "create_token", lambda self, user: "t", raising=False)
    hub = FakeHub([])
    target = FakeTarget(hub)
    _, lines = _run_text(monkeypatch, tmp_path, hub, CONFIG_FLOW, ks="6.2.0", target=target)
    first = next(line for line in lines if "1 restart_hub" in line)
    assert "restart_hub -> kubespawner 7.1.0, config change" in first
    assert (
        "set notebook_dir: '/home/jovyan/b' (was '/home/jovyan/a'); unset storage_capacity (was '1Gi')"
    ) in first
    assert "stop alice/" in hub.log  # the gate after the upgrade follows the new release
    second = next(line for line in lines if "3 restart_hub" in line)
    assert (
        "unset storage_capacity (was not set: no change); set JupyterHub.upgrade_db: True (was not set)"
        in (second)
    )
    # the second change starts from the first one's result, and checks read the config in force
    assert target.config.kubespawner == {"notebook_dir": "/home/jovyan/b"}
    assert target.config.hub_config == {"JupyterHub.upgrade_db": True}
    assert seen == ["/home/jovyan/b"]


@pytest.mark.parametrize(
    ("shared_key", "restarts", "exclusive"),
    [
        (None, True, True),  # a cluster of its own: the key None makes the turn free
        ("https://real:6443", True, True),  # a restart that will run: alone on the shared cluster
        ("https://real:6443", False, False),  # the restart step will skip: share the cluster
    ],
)
def test_a_scenario_that_restarts_a_shared_cluster_takes_it_alone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, shared_key: str | None, restarts: bool, exclusive: bool
) -> None:
    turns: list[tuple[str | None, bool, bool]] = []
    real_turn = runner.cluster_turn
    target = FakeTarget(FakeHub([]))

    @contextlib.contextmanager
    def recording_turn(key: str | None, *, exclusive: bool) -> Iterator[float]:
        with real_turn(key, exclusive=exclusive, directory=tmp_path / "locks") as waited:
            yield waited
            turns.append((key, exclusive, target.torn_down))  # as the turn ends

    monkeypatch.setattr(runner, "cluster_turn", recording_turn)
    _run(monkeypatch, tmp_path, target.hub, cluster=FakeCluster(shared_key, restarts), target=target)
    # the teardown is inside the turn: the next scenario never meets this one's namespace going away
    assert turns == [(shared_key, exclusive, True)]
