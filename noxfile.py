"""Sessions: ``tests`` (the harness's own tests), ``e2e`` (scenarios per KubeSpawner release), ``report``
(the merged conformance report), ``lint``, ``schema`` (regenerate the scenario JSON Schema),
``kubespawner-suite`` (KubeSpawner's own tests on the embedded cluster).

``nox -s e2e`` is the main job: every scenario under ``scenarios/`` against each KubeSpawner release
of the matrix, on the embedded cluster unless ``JHSC_CLUSTER`` / ``-- --cluster ...`` say otherwise.
Each of its sessions writes ``reports/results/<session>.json`` and ends by merging every results file
into ``reports/index.html``, ``summary.md`` and ``conformance-junit.xml`` (the plugin does it, so a
plain ``pytest scenarios/`` does too); after the last one the report holds the whole matrix.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from harness.versions import KUBESPAWNER_MATRIX, default_jupyterhub_for  # noqa: E402

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "tests"]
nox.options.error_on_missing_interpreters = True

#: The embedded cluster builds pod environments with uv; keep one beside the session's python.
EMBEDDED_TOOLS = ["uv"]
#: xdist workers of ``nox -s e2e`` (JHSC_E2E_WORKERS overrides; 0 = no xdist).
E2E_WORKERS = os.environ.get("JHSC_E2E_WORKERS", "2")


@nox.session
def tests(session: nox.Session) -> None:
    """The harness's own unit and integration tests (integration ones need root, as on CI), and every
    scenario in scenarios/ for the newest KubeSpawner release of the matrix."""
    newest = KUBESPAWNER_MATRIX[-1]
    jupyterhub = default_jupyterhub_for(newest)
    session.install(
        "-e",
        ".[test,kind]",
        f"jupyterhub-kubespawner=={newest}",
        f"jupyterhub=={jupyterhub}",
        *EMBEDDED_TOOLS,
    )
    # the whole scenario library runs too, on the embedded cluster for the newest release: a change
    # that breaks a scenario cannot land (nox -s e2e covers every release)
    session.run(
        "pytest",
        "-n",
        "auto",
        "-p",
        "no:cacheprovider",
        "tests/",
        "scenarios/",
        "--kubespawner-version",
        newest,
        "--jupyterhub-version",
        jupyterhub,
        *session.posargs,
    )


@nox.session
@nox.parametrize("kubespawner", list(KUBESPAWNER_MATRIX))
def e2e(session: nox.Session, kubespawner: str) -> None:
    """All scenarios against one KubeSpawner release and the JupyterHub recorded for it; ends with the
    merged report of every results file so far (reports/index.html) and its matrix in the terminal."""
    jupyterhub = default_jupyterhub_for(kubespawner)
    session.install(
        ".[kind]", f"jupyterhub-kubespawner=={kubespawner}", f"jupyterhub=={jupyterhub}", *EMBEDDED_TOOLS
    )
    session.run(
        "pytest",
        "scenarios/",
        "--kubespawner-version",
        kubespawner,
        "--jupyterhub-version",
        jupyterhub,
        "-p",
        "no:cacheprovider",
        "-v",
        # Two xdist workers, each with a cluster of its own (started by its first scenario): on 2
        # cores the waits of one scenario overlap the other's CPU. worksteal
        # rebalances when one worker draws the long scenarios. `-- -n 0` runs them in one process.
        "-n",
        E2E_WORKERS,
        "--dist",
        "worksteal",
        *session.posargs,
    )


@nox.session(name="kubespawner-suite")
def kubespawner_suite(session: nox.Session) -> None:
    """KubeSpawner's own test suite (the 7.1.0 tag, unmodified) against the embedded cluster: the
    fidelity check, 207 passed on a real Kubernetes 1.20. ``-- --ks-source DIR|GIT_URL`` says where
    the suite comes from (default: clone the tag from GitHub); other arguments go to pytest. Needs root."""
    session.install("-e", ".", *EMBEDDED_TOOLS)
    session.run("python", "-m", "harness.kubespawner_suite", *session.posargs)


@nox.session
@nox.parametrize("kubespawner", list(KUBESPAWNER_MATRIX))
def compare(session: nox.Session, kubespawner: str) -> None:
    """The differential: every scenario on the embedded cluster and on the real cluster that the
    existing backend's settings name (JHSC_KUBECONFIG, JHSC_HUB_IMAGE, ... as for --cluster existing),
    then one line per cell: same verdict at the same step, or the first step where they differ.
    Arguments after -- go to both pytest runs (e.g. -k names)."""
    jupyterhub = default_jupyterhub_for(kubespawner)
    session.install(
        ".[kind]", f"jupyterhub-kubespawner=={kubespawner}", f"jupyterhub=={jupyterhub}", *EMBEDDED_TOOLS
    )
    names = {cluster: f"compare-{kubespawner}-{cluster}" for cluster in ("embedded", "existing")}
    for cluster, name in names.items():
        session.run(
            "pytest",
            "scenarios/",
            "--cluster",
            cluster,
            "--kubespawner-version",
            kubespawner,
            "--jupyterhub-version",
            jupyterhub,
            "--results-name",
            name,
            "-p",
            "no:cacheprovider",
            *session.posargs,
            success_codes=[0, 1],  # failing cells are data here; the comparison decides
        )
    session.run(
        "python",
        "-m",
        "harness.report.compare",
        names["embedded"],
        names["existing"],
        "--markdown",
        f"reports/compare-{kubespawner}.md",
    )


@nox.session
def report(session: nox.Session) -> None:
    """Merge reports/results/*.json into reports/index.html, summary.md and conformance-junit.xml, print
    the matrix, and append summary.md to $GITHUB_STEP_SUMMARY when set. Takes --junit-steps."""
    session.install("-e", ".")
    session.run("python", "-m", "harness.report", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint + format), mypy, the structure limits of harness/ (no import cycle, no module over 400
    lines, no function over 60: tools/check_structure.py) and actionlint over the GitHub workflows."""
    session.install("-e", ".[lint,test,kind]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy", "harness", "noxfile.py", "conftest.py", "tools/")
    session.run("python", "tools/check_structure.py")
    workflows = sorted(
        str(path.relative_to(ROOT)) for path in (ROOT / ".github" / "workflows").glob("*.y*ml")
    )
    session.run("actionlint", *workflows)


@nox.session
def schema(session: nox.Session) -> None:
    """Regenerate scenarios/scenario.schema.json from the pydantic models."""
    session.install("-e", ".")
    text = session.run("python", "-m", "harness.scenario.schema", silent=True)
    if not isinstance(text, str):  # nox returns None when it did not run (e.g. --install-only)
        return
    (ROOT / "scenarios" / "scenario.schema.json").write_text(text, encoding="utf-8")
    session.log("wrote scenarios/scenario.schema.json")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks for the closing note: the API server alone (reports/bench-apiserver.json, RSS < 150
    MiB), pod start-up vs bare processes (bench-pods.json), spawns through a deployed hub vs a bare
    jupyter-server (bench-spawn.json), where the KubeSpawner suite's server start goes
    (bench-suite-start.json) and the whole e2e matrix, serial, parallel and cold (bench-e2e.json); ends
    with one table of the numbers. All but the first need root.

    ``nox -s bench -- --quick`` runs a subset of each that takes minutes (the e2e one: two scenarios,
    one release, no cold phase); other arguments go to bench_e2e.py (``--releases``, ``--scenarios``,
    ``--workers``, ``--no-cold``)."""
    session.install("-e", ".", *EMBEDDED_TOOLS)
    quick = "--quick" in session.posargs
    session.run("python", "tests/bench/bench_apiserver.py", *(["--latency-samples", "50"] if quick else []))
    session.run(
        "python",
        "tests/bench/bench_pods.py",
        *(["--trivial-runs", "5", "--jupyter-runs", "3"] if quick else []),
    )
    session.run("python", "tests/bench/bench_spawn.py", *(["--respawns", "3"] if quick else []))
    session.run("python", "tests/bench/bench_suite_start.py")
    session.run("python", "tests/bench/bench_e2e.py", *session.posargs)
    session.run("python", "tests/bench/bench_summary.py")
