"""pytest plugin: scenario YAML files become test items that run against one cluster per session.

Kept thin on purpose: options live in ``harness.options``, the scenario language in
``harness.scenario``, cluster lifecycle in ``harness.clusters`` and execution in ``harness.runner``;
this module only maps them onto pytest's collection, items, reporting and session lifecycle.

Only YAML files inside a ``--storage-scenarios`` path or carrying the scenario ``$schema`` header
are collected, so installing the package never turns a host repository's other YAML into tests.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest

from harness.clusters import SessionCluster
from harness.clusters.base import ClusterError
from harness.options import OPTION_SPECS, HarnessOptions, OptionsError, OptionSpec
from harness.report.collect import PLUGIN_NAME, ResultsCollector
from harness.results import ScenarioOutcome, Verdict
from harness.scenario.schema import has_scenario_header

GROUP = "storage conformance"
MARKER = "storage_scenario"
_YAML_SUFFIXES = (".yaml", ".yml")
#: pytest-kind-ng's plugin name and the flags it defines that mean the same as ours -> its dest.
PYTEST_KIND_PLUGIN = "pytest-kind-ng"
PYTEST_KIND_FLAGS: dict[str, str] = {
    "--keep-cluster": "keep_cluster",
    "--kubeconfig": "kubeconfig",
    "--kind-image": "kind_image",
}


@dataclass
class _State:
    options: HarnessOptions
    cluster: SessionCluster
    scenario_roots: tuple[Path, ...] = field(default=())
    sigterm_hooked: bool = False
    #: Writes reports/results/<session>.json and the merged report (harness/report/collect.py).
    results: ResultsCollector | None = None

    def hook_sigterm(self, config: pytest.Config) -> None:
        """Treat SIGTERM like Ctrl-C while scenarios run, so a killed CI job still stops the cluster.

        Only when nobody else handles SIGTERM, only from the main thread, and undone at the end.
        """
        if self.sigterm_hooked or threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return

        def interrupt(signum: int, frame: object) -> None:
            raise KeyboardInterrupt(f"signal {signum}")

        def restore() -> None:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

        signal.signal(signal.SIGTERM, interrupt)
        self.sigterm_hooked = True
        config.add_cleanup(restore)


_STATE = pytest.StashKey[_State]()


def _dest(spec: OptionSpec) -> str:
    return f"jhsc_{spec.field}"


# ---------------------------------------------------------------------------------------- options
def _pytest_kind_active(pluginmanager: pytest.PytestPluginManager) -> bool:
    """Whether pytest-kind(-ng)'s plugin is, or is about to be, registered in this run."""
    if pluginmanager.is_blocked(PYTEST_KIND_PLUGIN):
        return False
    if pluginmanager.has_plugin(PYTEST_KIND_PLUGIN):
        return True
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return False
    return any(ep.name == PYTEST_KIND_PLUGIN for ep in entry_points(group="pytest11"))


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """Register the options; the ones pytest-kind-ng also defines are left to it (same meaning).

    Two plugins registering one flag make argparse fail for every pytest run, whichever plugin
    loads first, so when pytest-kind-ng is active its ``--keep-cluster``, ``--kubeconfig`` and
    ``--kind-image`` serve both and ``_cli_values`` reads them from there.
    """
    shared = set(PYTEST_KIND_FLAGS) if _pytest_kind_active(pluginmanager) else set()
    description = "storage conformance (jupyterhub-storage-conformance)"
    if shared:
        description += (
            "; --keep-cluster, --kubeconfig and --kind-image are pytest-kind's, shown under 'kind', and "
            "honoured here with env twins JHSC_KEEP_CLUSTER, JHSC_KUBECONFIG and JHSC_KIND_IMAGE"
        )
    group = parser.getgroup(GROUP, description)
    for spec in OPTION_SPECS:
        if spec.flag in shared:
            continue
        kwargs: dict[str, Any] = {
            "dest": _dest(spec),
            "default": None,
            "help": f"{spec.help} [env: {spec.env}]",
        }
        if spec.kind == "bool":
            kwargs["action"] = "store_true"
        elif spec.kind == "paths":
            kwargs.update(action="extend", nargs="+", metavar="PATH")
        elif spec.kind == "choice":
            kwargs["choices"] = list(spec.choices)
        else:
            kwargs["metavar"] = spec.metavar
        group.addoption(spec.flag, **kwargs)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: a storage conformance scenario collected from a YAML file")
    try:
        cli = _cli_values(config)
        options = HarnessOptions.resolve(cli, os.environ, base_dir=config.invocation_params.dir)
    except OptionsError as exc:
        raise pytest.UsageError(str(exc)) from None
    state = _State(options, SessionCluster(options), tuple(path.resolve() for path in options.scenario_paths))
    config.stash[_STATE] = state
    state.results = ResultsCollector(config, options, state.cluster, ScenarioItem, ScenarioFile)
    config.pluginmanager.register(state.results, PLUGIN_NAME)
    # Runs at unconfigure, also after Ctrl-C or a crashed session: never leave a cluster behind.
    config.add_cleanup(state.cluster.close)
    _collect_scenario_paths_too(config, options.scenario_paths)


def _cli_values(config: pytest.Config) -> dict[str, Any]:
    """Command-line values by option field; None where the flag was not given."""
    values: dict[str, Any] = {}
    for spec in OPTION_SPECS:
        value = config.getoption(_dest(spec), default=None)
        if value is None and spec.flag in PYTEST_KIND_FLAGS:
            value = config.getoption(PYTEST_KIND_FLAGS[spec.flag], default=None)
            if value is False:  # pytest-kind's store_true default: not given, let the env twin apply
                value = None
        values[spec.field] = value
    return values


def _collect_scenario_paths_too(config: pytest.Config, paths: tuple[Path, ...]) -> None:
    """Make ``--storage-scenarios`` paths collection roots.

    Without explicit test paths, only the scenarios run (a host repo's own tests are not dragged in);
    with explicit ones, the scenario paths are added to them.
    """
    if not paths:
        return
    wanted = [str(path) for path in paths]
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args[:] = wanted
    else:
        config.args.extend(path for path in wanted if path not in config.args)


def pytest_report_header(config: pytest.Config) -> str:
    options = config.stash[_STATE].options
    return (
        f"storage conformance: kubespawner {options.kubespawner_version}, "
        f"jupyterhub {options.jupyterhub_version}, cluster {options.cluster}"
    )


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """List the HAZARD and KNOWN cells (they pass or xfail, so pytest alone would hide them), then the
    matrix and the report's path; with --keep-cluster, say how to reach the cluster left running."""
    _verdict_summary(terminalreporter)
    state = config.stash.get(_STATE, None)
    if state is not None and state.results is not None:
        state.results.terminal_summary(terminalreporter)
    cluster = state.cluster.started if state else None
    if state is None or cluster is None or not state.options.keep_cluster:
        return
    try:
        where = f"export KUBECONFIG={cluster.kubeconfig}"
    except Exception as exc:  # a half-dead cluster must not turn the summary into a crash
        where = f"kubeconfig unavailable: {exc}"
    terminalreporter.write_line(f"storage conformance: kept the {cluster.backend} cluster; {where}")


def _verdict_summary(terminalreporter: Any) -> None:
    lines = []
    for key in ("passed", "xfailed"):
        for report in terminalreporter.stats.get(key, []):
            if report.when != "call":
                continue
            props = [
                (k, v) for k, v in getattr(report, "user_properties", ()) if k in ("known_issue", "hazard")
            ]
            verdict = dict(getattr(report, "user_properties", ())).get("verdict")
            for name, value in props:
                lines.append(
                    f"{verdict} {report.nodeid}: {'' if name == 'hazard' else 'known issue '}{value}"
                )
    if lines:
        terminalreporter.write_sep("=", "storage conformance: KNOWN and HAZARD cells")
        for line in lines:
            terminalreporter.write_line(line)


# ------------------------------------------------------------------------------------- collection
def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ScenarioFile | None:
    if file_path.suffix not in _YAML_SUFFIXES:
        return None
    state = parent.config.stash[_STATE]
    resolved = file_path.resolve()
    inside = any(resolved == root or root in resolved.parents for root in state.scenario_roots)
    if inside or has_scenario_header(file_path):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    """One scenario YAML file; a broken one is a collection error showing only the problems."""

    def collect(self) -> Iterator[ScenarioItem]:
        from harness.scenario import ScenarioError, load_scenario

        try:
            scenario = load_scenario(self.path, display=self._display_path())
        except ScenarioError as exc:
            raise self.CollectError(str(exc)) from None
        options = self.config.stash[_STATE].options
        name = f"{scenario.name}[{options.versions.slug}-{options.cluster}]"
        yield ScenarioItem.from_parent(self, name=name, scenario=scenario)

    def _display_path(self) -> str:
        for base in (self.config.invocation_params.dir, self.config.rootpath):
            try:
                return str(self.path.relative_to(base))
            except ValueError:
                continue
        return str(self.path)


class ScenarioItem(pytest.Item):
    """Runs one scenario through ``harness.runner.run_scenario`` on the session's cluster."""

    def __init__(self, *, scenario: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.progress: list[str] = []
        self.outcome: ScenarioOutcome | None = None
        self.add_marker(MARKER)

    def runtest(self) -> None:
        from harness import runner

        state = self.config.stash[_STATE]
        not_applicable = runner.not_applicable_reason(
            self.scenario, state.options.versions, existing_hub=bool(state.options.hub_url)
        )
        if not_applicable:
            self.user_properties.append(("verdict", Verdict.SKIP.value))
            pytest.skip(not_applicable)  # before the cluster starts: a SKIP cell costs nothing
        state.hook_sigterm(self.config)
        context: runner.RunContext | None = None
        try:
            context = runner.RunContext(
                cluster=state.cluster.get(),
                versions=state.options.versions,
                options=state.options,
                report=self._report,
            )
            runner.run_scenario(self.scenario, context)
        finally:
            if self.progress:
                self.add_report_section("call", "steps", "\n".join(self.progress))
            if context is not None:
                self.outcome = context.outcome
                self._record_verdict(context.outcome)
        if context.outcome.verdict() is Verdict.KNOWN:
            pytest.xfail("KNOWN: " + ", ".join(context.outcome.known_issues()))

    def _record_verdict(self, outcome: ScenarioOutcome) -> None:
        """Verdict, known issues and hazards as JUnit properties (xdist carries them to the controller)."""
        self.user_properties.append(("verdict", outcome.verdict().value))
        for issue in outcome.known_issues():
            self.user_properties.append(("known_issue", issue))
        for hazard in outcome.hazards():
            self.user_properties.append(("hazard", hazard))

    def _report(self, line: str) -> None:
        """Record one progress line; echo it live in verbose runs (not from xdist workers)."""
        self.progress.append(line)
        if self.config.option.verbose <= 0 or hasattr(self.config, "workerinput"):
            return
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if reporter is None:
            return
        if capture is None:
            reporter.write_line(line)
        else:
            with capture.global_and_fixture_disabled():
                reporter.write_line(line)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        """A failed scenario shows its summary and bundle path: the traceback would be the runner's."""
        error = excinfo.value
        failure_type = _scenario_failure_type()
        if failure_type is not None and isinstance(error, failure_type):
            summary = getattr(error, "summary", str(error))
            bundle = getattr(error, "bundle", None)
            return f"{summary}\ndiagnostics bundle: {bundle}" if bundle else str(summary)
        if isinstance(error, ClusterError):
            return f"{self.config.stash[_STATE].options.cluster} cluster: {error}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, 0, f"scenario {self.scenario.name} ({self.name})"


def _scenario_failure_type() -> type[BaseException] | None:
    """``harness.runner.ScenarioFailure`` if the runner is importable (it is, once a scenario ran)."""
    try:
        from harness.runner import ScenarioFailure
    except ImportError:
        return None
    failure: type[BaseException] = ScenarioFailure
    return failure
