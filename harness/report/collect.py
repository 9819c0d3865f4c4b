"""pytest side of the report: a cell record per scenario item, carried to the controller, written out.

Registered by ``harness.plugin`` as plugin object ``jhsc-results``. Where an item runs (the main
process, or an xdist worker) its ``pytest_runtest_makereport`` attaches the cell record as
``report.jhsc_cell``: pytest serialises a report's extra attributes, so the record reaches the xdist
controller on the report itself. Only the controller (or a run without xdist) stores records,
rewrites ``reports/results/<session>.json`` after each one, and at the end builds the merged report.

Cells pytest alone knows about get records too: skipped items, failed setups/teardowns, crashed
workers and scenario files that do not load (collection errors) are SKIP or ERROR cells.
"""

from __future__ import annotations

import json
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from pytest import ExitCode

from harness.report import results
from harness.report.build import Written, build_report
from harness.report.cells import Cell, Column, PytestEnd, first_failure, judge
from harness.report.results import ResultsFile, utc_now
from harness.report.terminal import render_terminal, shown
from harness.results import ScenarioOutcome, Verdict

if TYPE_CHECKING:
    from harness.clusters import SessionCluster
    from harness.clusters.base import Cluster
    from harness.options import HarnessOptions

PLUGIN_NAME = "jhsc-results"
#: The report attribute that carries a cell record from where the item ran to the controller.
ATTRIBUTE = "jhsc_cell"
_YAML = (".yaml", ".yml")


def kubernetes_version(cluster: Cluster) -> str | None:
    """``gitVersion`` from the cluster's ``/version``; None when it does not answer (an ERROR cell)."""
    try:
        from kubernetes import client

        from harness.clusters.kube import Kube

        kube = Kube.from_kubeconfig(cluster.kubeconfig, cluster.context)
        try:
            # raw JSON: only gitVersion matters, and the client's model rejects a reply lacking any field
            answer: Any = client.VersionApi(kube.api).get_code(_request_timeout=10, _preload_content=False)
            return str(json.loads(answer.data)["gitVersion"])
        finally:
            kube.api.close()
    except Exception:  # the version labels a column; a dead cluster must not hide the cell's verdict
        return None


def _harness_version() -> str:
    try:
        return version("jupyterhub-storage-conformance")
    except PackageNotFoundError:
        return ""


def pytest_end(report: pytest.TestReport | pytest.CollectReport, when: str) -> PytestEnd:
    """How pytest saw this phase: outcome, xfail, the one-line message and the full text."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (path, lineno, "Skipped: why")
        message = str(longrepr[2]).removeprefix("Skipped: ")
        return PytestEnd(when, report.outcome, hasattr(report, "wasxfail"), message, message)
    text = report.longreprtext if longrepr is not None else ""
    crash = getattr(longrepr, "reprcrash", None)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    message = str(crash.message) if crash is not None else first
    line = message.splitlines()[0] if message else ""
    return PytestEnd(when, report.outcome, hasattr(report, "wasxfail"), line, text)


class ResultsCollector:
    """Builds, carries and writes the cell records of one pytest session.

    ``item_type`` and ``file_type`` are the plugin's scenario item and file classes: handed in rather
    than imported back from ``harness.plugin``, which imports this module (no import cycle).
    """

    def __init__(
        self,
        config: pytest.Config,
        options: HarnessOptions,
        cluster: SessionCluster,
        item_type: type[pytest.Item],
        file_type: type[pytest.File],
    ) -> None:
        self.config = config
        self.item_type = item_type
        self.file_type = file_type
        self.options = options
        self.session_cluster = cluster
        self.path = results.results_dir(options.reports_dir) / f"{options.results_session}.json"
        self.results = ResultsFile(
            session=options.results_session,
            started=utc_now(),
            kubespawner=options.kubespawner_version,
            jupyterhub=options.jupyterhub_version,
            cluster=options.cluster,
            harness=_harness_version(),
        )
        self.cells: dict[str, Cell] = {}
        self.written: Written | None = None
        #: Why the results file or the report could not be written (shown in the terminal summary).
        self.failure: str | None = None
        self._versions: dict[int, str | None] = {}

    @property
    def on_worker(self) -> bool:
        return hasattr(self.config, "workerinput")

    @property
    def records(self) -> bool:
        """Only where cells are gathered (not an xdist worker) and when scenarios run (not --collect-only)."""
        return not self.on_worker and not self.config.option.collectonly

    # ------------------------------------------------------------------ where the item runs
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        if isinstance(item, self.item_type):
            cell = self._item_cell(item, report)
            if cell is not None:
                setattr(report, ATTRIBUTE, cell.to_json())
        return report

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(self, collector: pytest.Collector) -> Any:
        report = yield
        if report.failed and isinstance(collector, self.file_type):
            setattr(report, ATTRIBUTE, self._collection_error(collector, report).to_json())
        return report

    def _column(self) -> Column:
        o = self.options
        return Column(o.kubespawner_version, o.jupyterhub_version, o.cluster, self._kubernetes())

    def _kubernetes(self) -> str | None:
        cluster = self.session_cluster.started
        if cluster is None:
            return None
        if id(cluster) not in self._versions:
            self._versions[id(cluster)] = kubernetes_version(cluster)
        return self._versions[id(cluster)]

    def _item_cell(self, item: Any, report: pytest.TestReport) -> Cell | None:
        end = pytest_end(report, report.when)
        outcome: ScenarioOutcome | None = item.outcome if report.when == "call" else None
        judged = judge(end, outcome)
        if judged is None:
            return None
        verdict, reason = judged
        scenario = item.scenario
        errors = list(outcome.errors) if outcome else []
        if verdict is Verdict.ERROR and not errors and end.text:
            errors.append(end.text)
        return Cell(
            scenario=scenario.name,
            source=scenario.source,
            description=scenario.description,
            upstream=list(scenario.upstream),
            nodeid=item.nodeid,
            column=self._column(),
            verdict=verdict,
            reason=reason,
            failure=first_failure(outcome) if verdict is Verdict.FAIL else None,
            known_issues=outcome.known_issues() if outcome else [],
            hazards=outcome.hazards() if outcome else [],
            errors=errors,
            steps=list(outcome.steps) if outcome else [],
            bundle=self._bundle(outcome.bundle) if outcome else None,
            spawn_times=list(outcome.spawn_times) if outcome else [],
            wall=outcome.wall if outcome else report.duration,
            deploy=outcome.deploy if outcome else 0.0,
            cleanup=outcome.cleanup if outcome else 0.0,
            finished=utc_now(),
            log=list(item.progress),
        )

    def _bundle(self, bundle: str | None) -> str | None:
        if bundle is None:
            return None
        path, reports = Path(bundle), Path(self.options.reports_dir)
        return str(path.relative_to(reports)) if path.is_relative_to(reports) else str(path)

    def _collection_error(self, collector: pytest.Collector, report: pytest.CollectReport) -> Cell:
        source = shown(collector.path, self.config.invocation_params.dir)
        end = pytest_end(report, "collect")
        cell = self._error_cell(source, report.nodeid, f"collection error: {end.message}", end.text)
        cell.description = "The scenario file does not load; fix the problems the error lists."
        return cell

    def _error_cell(self, name: str, nodeid: str, reason: str, text: str) -> Cell:
        return Cell(
            scenario=name,
            source=nodeid.split("::")[0],
            description="",
            upstream=[],
            nodeid=nodeid,
            column=self._column(),
            verdict=Verdict.ERROR,
            reason=reason,
            errors=[text] if text else [],
            finished=utc_now(),
        )

    # ------------------------------------------------------------------ on the controller
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not self.records:
            return
        data = getattr(report, ATTRIBUTE, None)
        if data is not None:
            self._store(Cell.from_json(data), report.when)
        elif report.failed and report.when not in ("setup", "call", "teardown"):
            self._crashed(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        data = getattr(report, ATTRIBUTE, None)
        if data is not None and self.records:
            self._store(Cell.from_json(data), "collect")

    def _crashed(self, report: pytest.TestReport) -> None:
        """An xdist worker died running a scenario item: an ERROR cell with xdist's message."""
        path, _, name = report.nodeid.partition("::")
        if not path.endswith(_YAML) or not name:
            return
        text = str(report.longrepr or "worker crashed")
        self._store(self._error_cell(name.split("[")[0], report.nodeid, text.splitlines()[0], text), "crash")

    def _store(self, cell: Cell, when: str) -> None:
        earlier = self.cells.get(cell.nodeid)
        if earlier is not None and when == "teardown":
            # a failed teardown adds to the cell the call already recorded
            earlier.errors += cell.errors
            if earlier.verdict is not Verdict.FAIL:
                earlier.verdict, earlier.reason = Verdict.ERROR, cell.reason
            cell = earlier
        self.cells[cell.nodeid] = cell
        if self.results.kubernetes is None and cell.column.kubernetes:
            self.results.kubernetes = cell.column.kubernetes
        self._write()

    def _write(self) -> None:
        self.results.cells = list(self.cells.values())
        try:
            results.write(self.results, self.path)
        except OSError as exc:
            self.failure = f"could not write {self.path}: {exc}"

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not self.records or not self.cells:
            return
        self.results.finished = utc_now()
        self.results.exitstatus = int(exitstatus)
        self.results.complete = exitstatus not in (ExitCode.INTERRUPTED, ExitCode.INTERNAL_ERROR)
        self._write()
        try:
            self.written = build_report(Path(self.options.reports_dir), junit_steps=self.options.junit_steps)
        except Exception as exc:  # the results file is safe; a report bug must not hide the run's outcome
            self.failure = f"could not build the report: {type(exc).__name__}: {exc}"

    def terminal_summary(self, terminalreporter: Any) -> None:
        """The matrix, one line per scenario, and where the results and the HTML are."""
        if not self.records or (self.written is None and self.failure is None):
            return
        terminalreporter.write_sep("=", "storage conformance: matrix")
        base = self.config.invocation_params.dir
        if self.written is not None:
            fallback = self.results.kubernetes
            this_run = {
                cell.column if cell.column.kubernetes else replace(cell.column, kubernetes=fallback)
                for cell in self.cells.values()
            }
            for line in render_terminal(self.written.matrix, this_run):
                terminalreporter.write_line(line)
            terminalreporter.write_line(
                f"results: {shown(self.path, base)}; HTML report: {shown(self.written.html, base)} "
                f"(also {self.written.markdown.name}, {self.written.junit.name})"
            )
        if self.failure:
            terminalreporter.write_line(f"storage conformance: {self.failure}", red=True)
