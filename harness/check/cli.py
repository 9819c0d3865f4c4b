"""``jhsc check`` (and ``python -m harness check``): one command from an admin's config to the findings.

It reads and validates the input (bad input: one line, exit 2), derives the scenarios, writes them
under ``<reports>/check/scenarios/``, runs them through pytest with the harness's plugin (one results
file, ``results/check.json``), and writes ``<reports>/check.md``: the findings in plain words, then
the matrix of the run. The merged report (``index.html`` ...) is rebuilt beside it.

Exit codes: 0 nothing failed or was hazardous, 1 something failed, 2 bad input, 3 a hazard (or a
known upstream issue) applies.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.check import progress
from harness.check.derive import DEFAULT_USERS, Derived, derive, upgrade_target, write
from harness.check.findings import Finding, exit_code, findings, render, worst
from harness.check.inputs import CheckInput, CheckInputError, read_traits, read_values
from harness.clusters.source_tree import SourceTree, SourceTreeError
from harness.options import BACKENDS
from harness.report.build import build_report
from harness.report.markdown import render_markdown
from harness.report.merge import merge
from harness.report.results import ResultsError, atomic_write, load, results_dir
from harness.scenario.errors import ScenarioError
from harness.scenario.fields import UNDER_TEST
from harness.scenario.loader import load_scenario

#: The session name of a check's results file.
RESULTS_NAME = "check"
BAD_INPUT = 2
LIBRARY = Path(__file__).resolve().parents[2] / "scenarios"
#: Options passed on to pytest unchanged (the existing/kind backends' settings).
PASSTHROUGH = (
    "--kubeconfig",
    "--context",
    "--namespace",
    "--hub-image",
    "--singleuser-image",
    "--kind-image",
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="jhsc check",
        description="Run your storage config (z2jh values or c.KubeSpawner traits) through the storage "
        "checks and say what it does to your users' data.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--values", type=Path, metavar="FILE", help="your z2jh values (config.yaml)")
    src.add_argument(
        "--kubespawner-config",
        type=Path,
        metavar="FILE",
        help="c.KubeSpawner.<trait> = ... lines (.py, read, not run) or a trait: value YAML",
    )
    p.add_argument("--chart", metavar="VERSION", help="z2jh chart release you run (default 4.4.0)")
    p.add_argument("--upgrade-to-chart", metavar="VERSION", help="z2jh chart release you plan to upgrade to")
    p.add_argument("--kubespawner", metavar="VERSION", help="KubeSpawner release you run (default 7.1.0)")
    p.add_argument("--upgrade-to", metavar="VERSION", help="KubeSpawner release you plan to upgrade to")
    p.add_argument(
        "--kubespawner-source",
        type=Path,
        metavar="DIR",
        help="a KubeSpawner source tree (git checkout) the hub runs instead of the release (a PR's)",
    )
    p.add_argument(
        "--users",
        metavar="A,B",
        help="user names to try (default: alice, dot.user, user@example.com, upper.case, 70 x's)",
    )
    p.add_argument("--no-library", action="store_true", help="skip the library scenarios marked check:")
    p.add_argument("--cluster", choices=BACKENDS, default="embedded", help="where to run (default embedded)")
    p.add_argument("--reports-dir", type=Path, default=Path("reports"), help="default: reports/")
    p.add_argument("-j", "--jobs", type=int, default=1, help="scenarios run in parallel (pytest-xdist)")
    for option in PASSTHROUGH:
        p.add_argument(option, metavar="VALUE", help="passed to the harness (see pytest --help)")
    return p


def read_input(args: argparse.Namespace) -> CheckInput:
    if args.kubespawner_source is not None and args.kubespawner:
        raise CheckInputError(
            "--kubespawner and --kubespawner-source: give one (the source says its version)"
        )
    if args.values is not None:
        if args.kubespawner or args.upgrade_to:
            raise CheckInputError(
                "--kubespawner/--upgrade-to go with --kubespawner-config; with --values the chart decides"
            )
        return read_values(args.values, args.chart, args.upgrade_to_chart)
    if args.chart or args.upgrade_to_chart:
        raise CheckInputError("--chart/--upgrade-to-chart go with --values")
    return read_traits(args.kubespawner_config, args.kubespawner, args.upgrade_to)


def _users(args: argparse.Namespace) -> list[str]:
    if not args.users:
        return list(DEFAULT_USERS)
    users = [name.strip() for name in args.users.split(",") if name.strip()]
    if not users:
        raise CheckInputError("--users: give at least one user name")
    return users


def _library(args: argparse.Namespace) -> list[object]:
    if args.no_library or not LIBRARY.is_dir():
        return []
    return [load_scenario(path) for path in sorted(LIBRARY.glob("*.yaml"))]


def prepare(args: argparse.Namespace) -> tuple[CheckInput, list[Derived], Path]:
    """Everything before the run; raises CheckInputError (bad input) with one line."""
    source = read_input(args)
    derived = derive(source, _users(args), _library(args))  # type: ignore[arg-type]
    if args.kubespawner_source is not None:
        _use_the_source(args.kubespawner_source, derived)
    directory = args.reports_dir / "check" / "scenarios"
    for stale in directory.glob("*.yaml"):
        stale.unlink()
    paths = write(derived, directory)
    (directory / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    for path in paths:  # the admin's config through the scenario loader: what KubeSpawner would reject
        try:
            load_scenario(path)
        except ScenarioError as exc:
            first = str(exc).splitlines()[0]
            raise CheckInputError(f"{source.path}: {first.split(': ', 1)[-1]}") from None
    return source, derived, directory


def _use_the_source(tree: Path, derived: list[Derived]) -> None:
    """Hubs configured by chart values run the row's KubeSpawner (the source), not the chart's pin."""
    try:
        SourceTree.read(tree)
    except SourceTreeError as exc:
        raise CheckInputError(f"--kubespawner-source: {exc}") from None
    for item in derived:
        z2jh = item.data.get("z2jh")
        if isinstance(z2jh, dict):
            z2jh["kubespawner"] = UNDER_TEST


def pytest_command(args: argparse.Namespace, source: CheckInput, directory: Path) -> list[str]:
    release = ["--kubespawner-version", source.kubespawner]
    if args.kubespawner_source is not None:
        release = ["--kubespawner-source", str(args.kubespawner_source.resolve())]
    command = [
        sys.executable, "-m", "pytest", str(directory), "-c", str(directory / "pytest.ini"),
        "--rootdir", str(directory), "-p", "no:cacheprovider", "-v", "--cluster", args.cluster, *release,
        "--results-name", RESULTS_NAME, "--reports-dir", str(args.reports_dir.resolve()),
    ]  # fmt: skip
    if source.jupyterhub is not None:
        command += ["--jupyterhub-version", source.jupyterhub]
    if args.jobs > 1:
        command += ["-n", str(args.jobs)]
    for option in PASSTHROUGH:
        value = getattr(args, option.lstrip("-").replace("-", "_"))
        if value is not None:
            command += [option, value]
    return command


def write_report(args: argparse.Namespace, source: CheckInput, derived: list[Derived]) -> int:
    reports: Path = args.reports_dir
    path = results_dir(reports) / f"{RESULTS_NAME}.json"
    try:
        results = load(path)
    except ResultsError as exc:
        print(f"jhsc check: the run left no readable results: {exc}", file=sys.stderr)
        return 1
    found = findings(derived, results.cells, upgrade_target(source))
    text = render(found, source.describe())
    matrix = render_markdown(merge([(str(path.relative_to(reports)), results)]))
    atomic_write(reports / "check.md", text + "\n" + matrix)
    link_from_index(build_report(reports).html, found)
    print(text)
    print(f"report: {reports / 'check.md'} (matrix of every run: {reports / 'index.html'})")
    return exit_code(found)


def link_from_index(index: Path, found: list[Finding]) -> None:
    """Put the findings' verdict and a link to check.md at the top of the merged HTML report."""
    html = index.read_text(encoding="utf-8")
    banner = (
        f'<p class="check-findings"><strong>jhsc check: {worst(found).upper()}</strong> · '
        '<a href="check.md">the findings in plain words (check.md)</a></p>'
    )
    atomic_write(index, html.replace("<body>", "<body>\n" + banner, 1))


def check(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    try:
        source, derived, directory = prepare(args)
    except CheckInputError as exc:
        print(f"jhsc check: {exc}", file=sys.stderr)
        return BAD_INPUT
    print(f"jhsc check: {source.describe()}: {len(derived)} scenarios in {directory}", flush=True)
    log = args.reports_dir / "check" / "run.log"
    status = progress.run(
        pytest_command(args, source, directory),
        log,
        len(derived),
        results_dir(args.reports_dir) / f"{RESULTS_NAME}.json",
    )
    if status not in (0, 1):
        print(f"jhsc check: pytest exited {status}; see {log}", file=sys.stderr)
    return write_report(args, source, derived)


COMMANDS = {"check": check}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: jhsc {{{','.join(COMMANDS)}}} ...  (jhsc check --help)", file=sys.stderr)
        return BAD_INPUT
    return COMMANDS[argv[0]](argv[1:])


def entry() -> None:
    sys.exit(main())
