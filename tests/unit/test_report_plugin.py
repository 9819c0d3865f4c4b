"""The plugin writes results files and the report: every verdict, with and without xdist.

The runner and the cluster are replaced by a fake written into the pytester directory's
conftest.py, so that xdist workers (separate processes) get the same fakes; what is tested is how
cells are recorded, carried to the controller, written and shown.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from harness.report import results
from harness.report.collect import kubernetes_version
from harness.scenario.schema import SCHEMA_HEADER

pytest_plugins = ["pytester"]

#: Fakes for every process of the inner run (xdist workers import conftest.py too).
CONFTEST = """
import os
from pathlib import Path

import pytest

from harness import clusters, runner
from harness.clusters.base import Cluster
from harness.report import collect
from harness.results import StepRecord, StepStatus


class FakeCluster(Cluster):
    backend = "embedded"

    def __init__(self, options):
        self.options = options

    @property
    def kubeconfig(self):
        return Path("/nonexistent")

    def start(self):
        if os.environ.get("FAKE_FAIL_START"):
            raise clusters.ClusterError("cannot create bridge jhsc0: Operation not permitted")

    def stop(self):
        pass

    def images(self, versions):
        raise NotImplementedError

    def service_url(self, namespace, service, port):
        raise NotImplementedError

    def restart(self):
        raise NotImplementedError


def step(index, status, note="", **extra):
    line = f"  {'x' if status is StepStatus.FAILED else 'v'} {index} start alice/  (0.5s)  {note}"
    location = f"s.yaml:{index}:5"
    return StepRecord(index, "start", "start alice/", location, status, 0.5, note, line=line, **extra)


def run_scenario(scenario, ctx):
    kind = scenario.name.split("-")[0]
    out = ctx.outcome
    ctx.report(f"  progress of {scenario.name}")
    out.steps.append(step("1", StepStatus.PASSED, "spawned", hazard="shared" if kind == "hazard" else None))
    out.spawn_times.append(1.25)
    out.wall = 3.0
    if kind == "fail":
        out.steps.append(step("2", StepStatus.FAILED, "PVC claim-alice not found"))
        out.bundle = str(ctx.options.reports_dir / "fail-bundle")
        summary = "s.yaml:2:5: 2 start alice/: PVC claim-alice not found"
        raise runner.ScenarioFailure(summary, Path(out.bundle))
    if kind == "known":
        out.steps.append(step("2", StepStatus.KNOWN, "gone", known_issue="kubespawner#937"))
    if kind == "skip":
        pytest.skip("no node restarts here")
    if kind == "crash":
        raise RuntimeError("harness bug after the steps")
    if kind == "deploy":
        out.errors.append("deploy hub: TimeoutError: hub not ready")
        raise runner.ScenarioFailure("deploy hub: TimeoutError: hub not ready")


def pytest_configure(config):
    clusters.BACKENDS["embedded"] = f"{__name__}:FakeCluster"
    runner.run_scenario = run_scenario
    collect.kubernetes_version = lambda cluster: "v1.99.0-fake"
"""

SCENARIO = """{header}
name: {name}
description: {name} described
upstream: [kubespawner#937]
users:
  - name: alice
steps:
  - start: {{user: alice}}
"""
KINDS = ("pass-one", "fail-one", "known-one", "hazard-one", "skip-one", "crash-one", "deploy-one")
EXPECTED = {
    "pass-one": "PASS",
    "fail-one": "FAIL",
    "known-one": "KNOWN",
    "hazard-one": "HAZARD",
    "skip-one": "SKIP",
    "crash-one": "ERROR",
    "deploy-one": "ERROR",
    "broken.yaml": "ERROR",
}


def _plugin_args() -> list[str]:
    """A broken scenario file must not stop the others: that is what makes its ERROR cell a cell."""
    installed = any(ep.value == "harness.plugin" for ep in entry_points(group="pytest11"))
    flags = ["-p", "no:cacheprovider", "--continue-on-collection-errors"]
    return flags + ([] if installed else ["-p", "harness.plugin"])


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    for name in list(os.environ):
        if name.startswith("JHSC_") or name == "GITHUB_STEP_SUMMARY":
            monkeypatch.delenv(name)
    monkeypatch.setenv("JHSC_KUBESPAWNER_VERSION", "7.1.0")
    monkeypatch.setenv("JHSC_JUPYTERHUB_VERSION", "6.1.1")
    pytester.makeconftest(CONFTEST)
    for name in KINDS:
        (pytester.path / f"{name}.yaml").write_text(SCENARIO.format(header=SCHEMA_HEADER, name=name))
    (pytester.path / "broken.yaml").write_text(f"{SCHEMA_HEADER}\nname: broken\nsteps: [strat: 1]\n")
    return pytester


def _results(project: pytest.Pytester, name: str = "kubespawner-7.1.0-jupyterhub-6.1.1-embedded") -> Any:
    path = project.path / "reports" / "results" / f"{name}.json"
    data = json.loads(path.read_text())
    assert results.problems(data) == []
    return data


def _verdicts(data: Any) -> dict[str, str]:
    return {Path(cell["scenario"]).name: cell["verdict"] for cell in data["cells"]}


def test_every_verdict_lands_in_the_results_file_and_the_report(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess(*_plugin_args(), ".", "-v")
    data = _results(project)
    assert _verdicts(data) == EXPECTED
    assert data["complete"] is True and data["exitstatus"] == 1
    assert data["kubernetes"] == "v1.99.0-fake"
    cells = {Path(c["scenario"]).name: c for c in data["cells"]}
    fail = cells["fail-one"]
    assert fail["failure"] == {
        "step": "2",
        "label": "start alice/",
        "location": "s.yaml:2:5",
        "reason": "PVC claim-alice not found",
    }
    assert fail["reason"] == "s.yaml:2:5: 2 start alice/: PVC claim-alice not found"
    assert fail["bundle"] == "fail-bundle"  # relative to reports/, so the HTML beside it links it
    assert fail["spawn_times"] == [1.25] and fail["log"] == ["  progress of fail-one"]
    assert [s["line"] for s in fail["steps"]][1].startswith("  x 2 start alice/")
    assert cells["known-one"]["known_issues"] == ["kubespawner#937"]
    assert cells["hazard-one"]["hazards"] == ["shared"]
    assert cells["skip-one"]["reason"] == "no node restarts here"
    assert "RuntimeError: harness bug after the steps" in cells["crash-one"]["reason"]
    assert cells["deploy-one"]["reason"] == "deploy hub: TimeoutError: hub not ready"
    broken = cells["broken.yaml"]
    assert broken["reason"] == "collection error: broken.yaml:2:1: missing required field 'description'"
    assert "broken.yaml:3:9: steps[0]: unknown step 'strat'" in broken["errors"][0]
    assert cells["pass-one"]["upstream"] == ["kubespawner#937"]
    for name in ("index.html", "summary.md", "conformance-junit.xml"):
        assert (project.path / "reports" / name).is_file()
    result.stdout.fnmatch_lines(
        [
            "*= storage conformance: matrix =*",
            "scenario * 1",
            "broken.yaml * E",
            "crash-one * E",
            "fail-one * F",
            "hazard-one * H",
            "known-one * K",
            "pass-one * P",
            "skip-one * S",
            "*1: KubeSpawner 7.1.0 · JupyterHub 6.1.1 · embedded · Kubernetes v1.99.0-fake (this run)",
            "results: reports/results/kubespawner-7.1.0-jupyterhub-6.1.1-embedded.json; "
            "HTML report: reports/index.html (also summary.md, conformance-junit.xml)",
        ]
    )


def test_under_xdist_the_controller_gets_every_cell(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess(*_plugin_args(), ".", "-n", "2", "--results-name", "xdist-run")
    assert _verdicts(_results(project, "xdist-run")) == EXPECTED
    result.stdout.fnmatch_lines(["*= storage conformance: matrix =*", "fail-one * F"])


def test_a_cluster_that_never_starts_gives_error_cells(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_FAIL_START", "1")
    project.runpytest_subprocess(*_plugin_args(), "pass-one.yaml", "fail-one.yaml")
    data = _results(project)
    assert _verdicts(data) == {"pass-one": "ERROR", "fail-one": "ERROR"}
    assert data["kubernetes"] is None
    assert all("cannot create bridge jhsc0" in cell["reason"] for cell in data["cells"])


def test_sessions_keep_their_own_files_and_the_report_merges_them(project: pytest.Pytester) -> None:
    project.runpytest_subprocess(*_plugin_args(), "pass-one.yaml")
    result = project.runpytest_subprocess(
        *_plugin_args(),
        "pass-one.yaml",
        "fail-one.yaml",
        "--kubespawner-version",
        "6.2.0",
        "--jupyterhub-version",
        "5.5.4",
    )
    names = sorted(p.name for p in (project.path / "reports" / "results").iterdir())
    assert names == [
        "kubespawner-6.2.0-jupyterhub-5.5.4-embedded.json",
        "kubespawner-7.1.0-jupyterhub-6.1.1-embedded.json",
    ]
    result.stdout.fnmatch_lines(
        [
            "scenario * 1  2",
            "fail-one * F  -",
            "pass-one * P  P",
            "*1: KubeSpawner 6.2.0 · JupyterHub 5.5.4 * (this run)",
            "*2: KubeSpawner 7.1.0 · JupyterHub 6.1.1 * (from *",
        ]
    )
    summary = (project.path / "reports" / "summary.md").read_text()
    link = "[kubespawner#937](https://github.com/jupyterhub/kubespawner/issues/937)"
    assert f"| **fail-one** ({link}) | 🔴 F | - |" in summary


def test_collect_only_writes_nothing(project: pytest.Pytester) -> None:
    project.runpytest_subprocess(*_plugin_args(), "pass-one.yaml", "broken.yaml", "--collect-only")
    assert not (project.path / "reports").exists()


def test_a_bad_results_name_is_a_usage_error(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess(*_plugin_args(), "pass-one.yaml", "--results-name", "../x")
    result.stderr.fnmatch_lines(["*--results-name: '../x' is not a file name*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


# ------------------------------------------------------------------------ the /version lookup
#: What a real API server answers on /version (kube-apiserver 1.31.4).
VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.4",
    "gitCommit": "a78aa47129b8539636eb86a9d00e31b2720fe06b",
    "gitTreeState": "clean",
    "buildDate": "2024-12-10T11:37:39Z",
    "goVersion": "go1.22.10",
    "compiler": "gc",
    "platform": "linux/amd64",
}


class _Version(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(VERSION).encode()
        self.send_response(200 if self.path.rstrip("/") == "/version" else 404)  # the client asks /version/
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def version_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Version)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_kubernetes_version_comes_from_the_clusters_version_endpoint(
    version_server: str, tmp_path: Path
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: c, cluster: {{server: '{version_server}'}}}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {}}]\n"
    )

    class Answering:
        context = None

        def __init__(self, path: Path) -> None:
            self.kubeconfig = path

    assert kubernetes_version(Answering(kubeconfig)) == "v1.31.4"  # type: ignore[arg-type]
    assert kubernetes_version(Answering(tmp_path / "missing")) is None  # type: ignore[arg-type]
