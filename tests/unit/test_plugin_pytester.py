"""The pytest plugin as users see it: ids, what gets collected, error rendering, options, lifecycle.

Scenario execution is the runner's job; here ``harness.runner.run_scenario`` and the ``embedded``
backend are replaced by recording fakes, so these tests check the plugin's wiring and nothing else.
"""

from __future__ import annotations

import os
import signal
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from harness import clusters, runner
from harness.clusters.base import Cluster, ClusterError, HubVersions, Images
from harness.results import StepRecord, StepStatus
from harness.scenario.schema import SCHEMA_HEADER

pytest_plugins = ["pytester"]

SCENARIO = """\
{header}
name: {name}
description: a scenario for plugin tests
users:
  - name: alice
steps:
  - start: {{user: alice}}
"""


def _plugin_args() -> list[str]:
    """Load the plugin explicitly only when the package is not installed (no entry point)."""
    installed = any(ep.value == "harness.plugin" for ep in entry_points(group="pytest11"))
    return ["-p", "no:cacheprovider"] + ([] if installed else ["-p", "harness.plugin"])


def _scenario(pytester: pytest.Pytester, path: str, name: str, header: bool = True) -> Path:
    target = pytester.path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(SCENARIO.format(header=SCHEMA_HEADER if header else "# no header", name=name))
    return target


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("JHSC_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("JHSC_KUBESPAWNER_VERSION", "7.1.0")
    monkeypatch.setenv("JHSC_JUPYTERHUB_VERSION", "6.1.1")


# ------------------------------------------------------------------------------------- collection
def test_ids_read_like_a_matrix_cell(pytester: pytest.Pytester) -> None:
    _scenario(pytester, "scenarios/multi.yaml", "seed-multi-user")
    result = pytester.runpytest(*_plugin_args(), "--collect-only", "-q", "scenarios/")
    result.stdout.fnmatch_lines(
        ["scenarios/multi.yaml::seed-multi-user[[]kubespawner-7.1.0-jupyterhub-6.1.1-embedded[]]"]
    )
    assert result.ret == 0


def test_only_scenario_yaml_is_collected(pytester: pytest.Pytester) -> None:
    _scenario(pytester, "with-header.yaml", "with-header")
    _scenario(pytester, "no-header.yaml", "no-header", header=False)
    (pytester.path / "values.yaml").write_text("replicas: 3\n")
    (pytester.path / "broken.yml").write_text("a: [\n")
    result = pytester.runpytest(*_plugin_args(), "--collect-only", "-q", ".")
    result.stdout.fnmatch_lines(["with-header.yaml::with-header*", "1 test collected*"])
    result.stdout.no_fnmatch_line("*no-header*")
    assert result.ret == 0


def test_storage_scenarios_paths_collect_without_header(pytester: pytest.Pytester) -> None:
    _scenario(pytester, "mine/a.yaml", "a", header=False)
    _scenario(pytester, "tests/b.yaml", "b", header=False)
    (pytester.path / "tests" / "test_host.py").write_text("def test_host():\n    pass\n")
    result = pytester.runpytest(*_plugin_args(), "--collect-only", "-q", "--storage-scenarios", "mine")
    result.stdout.fnmatch_lines(["mine/a.yaml::a[[]*", "1 test collected*"])
    result.stdout.no_fnmatch_line("*test_host*")


def test_storage_scenarios_are_added_to_explicit_args(pytester: pytest.Pytester) -> None:
    _scenario(pytester, "mine/a.yaml", "a", header=False)
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_host.py").write_text("def test_host():\n    pass\n")
    result = pytester.runpytest(
        *_plugin_args(), "--collect-only", "-q", "tests", "--storage-scenarios", "mine"
    )
    result.stdout.fnmatch_lines(["*test_host*", "mine/a.yaml::a*", "2 tests collected*"])


def test_storage_scenarios_env_twin(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    _scenario(pytester, "mine/a.yaml", "a", header=False)
    monkeypatch.setenv("JHSC_STORAGE_SCENARIOS", "mine")
    result = pytester.runpytest(*_plugin_args(), "--collect-only", "-q")
    result.stdout.fnmatch_lines(["mine/a.yaml::a[[]*"])


def test_malformed_scenario_is_a_collection_error_without_traceback(pytester: pytest.Pytester) -> None:
    _scenario(pytester, "good.yaml", "good")
    bad = pytester.path / "bad.yaml"
    bad.write_text(
        f"{SCHEMA_HEADER}\nname: bad\ndescription: d\nusers: [{{name: a}}]\nsteps:\n  - strat: {{}}\n"
    )
    result = pytester.runpytest(*_plugin_args(), "--collect-only", "-q", ".")
    result.stdout.fnmatch_lines(["good.yaml::good*", "*ERROR collecting bad.yaml*", "*1 error*"])
    output = result.stdout.str()
    expected = (
        "\nbad.yaml:6:5: steps[0]: unknown step 'strat' (did you mean 'start'?); allowed: start, stop, "
    )
    assert expected in output
    assert "Traceback" not in output and "harness/scenario" not in output and "raise " not in output
    assert result.ret == pytest.ExitCode.INTERRUPTED  # pytest stops on collection errors


# ---------------------------------------------------------------------------------------- options
def test_option_group_in_help(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(*_plugin_args(), "--help")
    result.stdout.fnmatch_lines(
        [
            "storage conformance*",
            "*--cluster={embedded,kind,existing}*",
            "*--storage-scenarios=PATH*",
            "*--kubespawner-version=VERSION*",
        ]
    )
    output = result.stdout.str()
    for flag in (
        "--keep-cluster",
        "--kubeconfig",
        "--hub-url",
        "--hub-token",
        "--reports-dir",
        "--namespace",
    ):
        assert flag in output
    assert "JHSC_CLUSTER" in output


def test_versions_and_cluster_from_env_and_command_line(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _scenario(pytester, "s.yaml", "s")
    monkeypatch.setenv("JHSC_KUBESPAWNER_VERSION", "6.2.0")
    monkeypatch.delenv("JHSC_JUPYTERHUB_VERSION")
    monkeypatch.setenv("JHSC_CLUSTER", "kind")
    result = pytester.runpytest(*_plugin_args(), "--collect-only", "-q", "s.yaml")
    result.stdout.fnmatch_lines(["s.yaml::s[[]kubespawner-6.2.0-jupyterhub-5.5.4-kind[]]"])
    result = pytester.runpytest(
        *_plugin_args(),
        "--collect-only",
        "-q",
        "s.yaml",
        "--cluster",
        "existing",
        "--jupyterhub-version",
        "5.0.0",
    )
    result.stdout.fnmatch_lines(["s.yaml::s[[]kubespawner-6.2.0-jupyterhub-5.0.0-existing[]]"])


def test_bad_option_is_a_usage_error(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JHSC_KEEP_CLUSTER", "perhaps")
    result = pytester.runpytest(*_plugin_args(), "--collect-only")
    result.stderr.fnmatch_lines(["*JHSC_KEEP_CLUSTER='perhaps': expected one of 1/true/yes/on*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


# ---------------------------------------------------------------------------- running (with fakes)
class FakeCluster(Cluster):
    """Records lifecycle calls; the runner is faked too, so nothing is really deployed."""

    backend = "embedded"
    events: list[str] = []
    fail_start = False

    def __init__(self, options: Any) -> None:
        self.options = options

    @property
    def kubeconfig(self) -> Path:
        return Path("/nonexistent/kubeconfig")

    def start(self) -> None:
        self.events.append("start")
        if self.fail_start:
            raise ClusterError("cannot create bridge jhsc0: Operation not permitted")

    def stop(self) -> None:
        self.events.append("stop")

    def images(self, versions: HubVersions) -> Images:
        raise NotImplementedError

    def service_url(self, namespace: str, service: str, port: int) -> Any:
        raise NotImplementedError

    def restart(self) -> None:
        raise NotImplementedError


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    FakeCluster.events = []
    FakeCluster.fail_start = False
    monkeypatch.setitem(clusters.BACKENDS, "embedded", f"{__name__}:FakeCluster")
    seen: dict[str, Any] = {"contexts": []}

    def run_scenario(scenario: Any, ctx: Any) -> None:
        seen["contexts"].append(ctx)
        ctx.report(f"  ✓ start alice/  ({scenario.name})")
        if scenario.name.startswith("fails"):
            raise runner.ScenarioFailure(
                "scenario.yaml:7:5: expect_pvc claim-alice: PVC not found", Path("/tmp/reports/x")
            )
        if scenario.name.startswith("interrupt"):
            raise KeyboardInterrupt
        for verdict, status, extra in (
            ("known", StepStatus.KNOWN, {"known_issue": "kubespawner#937"}),
            ("hazard", StepStatus.PASSED, {"hazard": "every user's files go with any user"}),
        ):
            if scenario.name.startswith(verdict):
                ctx.outcome.steps.append(
                    StepRecord("1", "start", "start alice/", "s.yaml:7:5", status, **extra)
                )
        if scenario.name.startswith("terminated"):
            seen["sigterm_hooked"] = signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
            if seen["sigterm_hooked"]:  # never SIGTERM the test process unless the plugin handles it
                os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(runner, "run_scenario", run_scenario)
    return seen


def test_scenarios_share_one_cluster_started_lazily(pytester: pytest.Pytester, fakes: dict[str, Any]) -> None:
    _scenario(pytester, "a.yaml", "a")
    _scenario(pytester, "b.yaml", "b")
    result = pytester.runpytest_inprocess(*_plugin_args(), "a.yaml", "b.yaml", "-v")
    result.assert_outcomes(passed=2)
    assert FakeCluster.events == ["start", "stop"]
    contexts = fakes["contexts"]
    assert contexts[0].cluster is contexts[1].cluster
    assert contexts[0].versions == HubVersions("7.1.0", "6.1.1")
    assert contexts[0].options.reports_dir == pytester.path / "reports"
    result.stdout.fnmatch_lines(["*✓ start alice/  (a)*"])
    result.stdout.no_fnmatch_line("*kept the embedded cluster*")


def test_known_cells_xfail_and_hazard_cells_pass_and_both_are_listed(
    pytester: pytest.Pytester, fakes: dict[str, Any]
) -> None:
    _scenario(pytester, "k.yaml", "known-one")
    _scenario(pytester, "h.yaml", "hazard-one")
    result = pytester.runpytest_inprocess(*_plugin_args(), "k.yaml", "h.yaml", "--junitxml=j.xml")
    result.assert_outcomes(passed=1, xfailed=1)
    result.stdout.fnmatch_lines(
        [
            "*storage conformance: KNOWN and HAZARD cells*",
            "HAZARD h.yaml::hazard-one*: every user's files go with any user",
            "KNOWN k.yaml::known-one*: known issue kubespawner#937",
        ],
    )
    junit = (pytester.path / "j.xml").read_text()
    assert '<property name="verdict" value="KNOWN" />' in junit
    assert '<property name="hazard" value="every user\'s files go with any user" />' in junit


def test_collect_only_starts_no_cluster(pytester: pytest.Pytester, fakes: dict[str, Any]) -> None:
    _scenario(pytester, "a.yaml", "a")
    pytester.runpytest_inprocess(*_plugin_args(), "a.yaml", "--collect-only")
    assert FakeCluster.events == []


def test_keep_cluster_skips_stop(pytester: pytest.Pytester, fakes: dict[str, Any]) -> None:
    _scenario(pytester, "a.yaml", "a")
    result = pytester.runpytest_inprocess(*_plugin_args(), "a.yaml", "--keep-cluster")
    result.assert_outcomes(passed=1)
    assert FakeCluster.events == ["start"]
    result.stdout.fnmatch_lines(
        ["storage conformance: kept the embedded cluster; export KUBECONFIG=/nonexistent/kubeconfig"]
    )


def test_failure_shows_summary_and_bundle_not_traceback(
    pytester: pytest.Pytester, fakes: dict[str, Any]
) -> None:
    _scenario(pytester, "f.yaml", "fails-on-pvc")
    result = pytester.runpytest_inprocess(*_plugin_args(), "f.yaml")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "scenario.yaml:7:5: expect_pvc claim-alice: PVC not found",
            "diagnostics bundle: /tmp/reports/x",
            "*Captured steps call*",
            "*✓ start alice/*",
        ]
    )
    output = result.stdout.str()
    assert "def run_scenario" not in output and "Traceback" not in output
    assert FakeCluster.events == ["start", "stop"]


def test_cluster_start_failure_fails_each_scenario_once(
    pytester: pytest.Pytester, fakes: dict[str, Any]
) -> None:
    FakeCluster.fail_start = True
    _scenario(pytester, "a.yaml", "a")
    _scenario(pytester, "b.yaml", "b")
    result = pytester.runpytest_inprocess(*_plugin_args(), "a.yaml", "b.yaml")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "embedded cluster: cannot create bridge jhsc0: Operation not permitted",
            "embedded cluster: the embedded cluster failed to start earlier: cannot create bridge*",
        ]
    )
    assert FakeCluster.events == ["start", "stop"]
    assert fakes["contexts"] == []


def test_interrupt_still_stops_the_cluster(pytester: pytest.Pytester, fakes: dict[str, Any]) -> None:
    _scenario(pytester, "i.yaml", "interrupted")
    _scenario(pytester, "z.yaml", "z")
    result = pytester.runpytest_inprocess(*_plugin_args(), "i.yaml", "z.yaml", no_reraise_ctrlc=True)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert FakeCluster.events == ["start", "stop"]
    assert len(fakes["contexts"]) == 1


def test_sigterm_stops_the_cluster_like_ctrl_c(pytester: pytest.Pytester, fakes: dict[str, Any]) -> None:
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        pytest.skip("this process already handles SIGTERM, so the plugin leaves it alone")
    _scenario(pytester, "t.yaml", "terminated")
    _scenario(pytester, "z.yaml", "z")
    result = pytester.runpytest_inprocess(*_plugin_args(), "t.yaml", "z.yaml", no_reraise_ctrlc=True)
    if not fakes.get("sigterm_hooked"):
        pytest.skip("tests do not run in the main thread here, so the plugin cannot handle signals")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert FakeCluster.events == ["start", "stop"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
