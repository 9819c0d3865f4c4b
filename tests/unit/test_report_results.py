"""Results files, their schema, the merge and the verdict rules, without pytest runs or clusters."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from harness.report import __main__ as report_cli
from harness.report import results
from harness.report.cells import Column, PytestEnd, judge, upstream_url
from harness.report.merge import load_dir, merge
from harness.report.results import ResultsError
from harness.results import ScenarioOutcome, StepRecord, StepStatus, Verdict

GOLDEN = Path(__file__).parent / "report_golden"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads JHSC_* and appends to $GITHUB_STEP_SUMMARY: never the real ones of a CI job."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    for name in [n for n in os.environ if n.startswith("JHSC_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    shutil.copytree(GOLDEN / "results", tmp_path / "results")
    return tmp_path


# ------------------------------------------------------------------------------------------ schema
def test_golden_files_validate_and_round_trip() -> None:
    for path in sorted((GOLDEN / "results").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert results.problems(data) == []
        assert results.load(path).to_json() == data


def test_schema_is_itself_valid() -> None:
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(results.schema())


def test_a_bad_field_is_named_with_its_file(reports: Path) -> None:
    path = next((reports / "results").glob("*.json"))
    data = json.loads(path.read_text())
    data["cells"][1]["verdict"] = "MAYBE"
    del data["cells"][0]["steps"][0]["status"]
    path.write_text(json.dumps(data))
    with pytest.raises(ResultsError) as caught:
        results.load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert "$.cells[0].steps[0]: 'status' is a required property" in message
    assert "$.cells[1].verdict: 'MAYBE' is not one of" in message


def test_not_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{\n  "session": nope\n}\n')
    with pytest.raises(ResultsError, match=r"x\.json:2:14: not JSON"):
        results.load(path)


def test_another_format_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"format": "jupyterhub-storage-conformance/results/v9"}))
    with pytest.raises(ResultsError, match=r"\$\.format: .*v9.* is not"):
        results.load(path)


# ------------------------------------------------------------------------------------------- merge
def test_merge_is_idempotent_and_order_free(reports: Path) -> None:
    files = [(p.name, results.load(p)) for p in sorted((reports / "results").glob("*.json"))]
    once, twice, reverse = merge(files), merge(files + files), merge(files[::-1])
    assert once.cells == twice.cells == reverse.cells
    assert once.columns == reverse.columns and once.rows == reverse.rows


def test_a_rerun_of_a_cell_replaces_the_older_one(reports: Path) -> None:
    path = reports / "results" / "kubespawner-7.1.0-jupyterhub-6.1.1-embedded.json"
    rerun = results.load(path)
    rerun.session = "rerun"
    rerun.cells = [c for c in rerun.cells if c.scenario == "persistence-restarts"]
    rerun.cells[0].verdict, rerun.cells[0].finished = Verdict.PASS, "2026-12-03T08:00:00Z"
    results.write(rerun, reports / "results" / "rerun.json")
    matrix = load_dir(reports)
    column = next(c for c in matrix.columns if c.kubespawner == "7.1.0")
    row = next(r for r in matrix.rows if r.name == "persistence-restarts")
    cell = matrix.cell(row, column)
    assert cell is not None and cell.verdict is Verdict.PASS


def test_a_cell_that_never_reached_the_cluster_joins_its_runs_column(reports: Path) -> None:
    matrix = load_dir(reports)
    assert {c.kubernetes for c in matrix.columns} == {"v1.30.0-embedded"}
    restart = next(
        c for c in matrix.cells.values() if c.scenario == "restart-node" and c.verdict is Verdict.ERROR
    )
    assert restart.column == Column("7.1.0", "6.1.1", "embedded", "v1.30.0-embedded")


def test_an_unreadable_file_is_a_problem_not_a_crash(reports: Path) -> None:
    (reports / "results" / "junk.json").write_text("[]")
    matrix = load_dir(reports)
    assert len(matrix.files) == 2 and len(matrix.problems) == 1
    assert "junk.json: $: [] is not of type 'object'" in matrix.problems[0]


# ------------------------------------------------------------------------------------------- judge
def _outcome(*statuses: StepStatus, errors: tuple[str, ...] = ()) -> ScenarioOutcome:
    steps = [
        StepRecord(
            str(i),
            "start",
            "start alice/",
            f"s.yaml:{i}:5",
            status,
            note=f"note {i}",
            known_issue="kubespawner#937" if status in (StepStatus.KNOWN, StepStatus.KNOWN_FIXED) else None,
        )
        for i, status in enumerate(statuses, start=1)
    ]
    return ScenarioOutcome(steps=steps, errors=list(errors))


CALL_PASSED = PytestEnd("call", "passed")
CALL_FAILED = PytestEnd("call", "failed", message="boom")


@pytest.mark.parametrize(
    ("end", "outcome", "expected"),
    [
        (CALL_PASSED, _outcome(StepStatus.PASSED), (Verdict.PASS, None)),
        (
            CALL_FAILED,
            _outcome(StepStatus.PASSED, StepStatus.FAILED),
            (Verdict.FAIL, "s.yaml:2:5: 2 start alice/: note 2"),
        ),
        (
            PytestEnd("call", "skipped", xfail=True),
            _outcome(StepStatus.KNOWN),
            (Verdict.KNOWN, "known issue kubespawner#937: s.yaml:1:5: 1 start alice/: note 1"),
        ),
        (CALL_FAILED, _outcome(StepStatus.KNOWN_FIXED), (Verdict.FAIL, "s.yaml:1:5: 1 start alice/: note 1")),
        (
            CALL_FAILED,
            _outcome(errors=("deploy hub: TimeoutError: x\ntrace",)),
            (Verdict.ERROR, "deploy hub: TimeoutError: x"),
        ),
        # the harness raised although every step passed: no verdict on storage
        (CALL_FAILED, _outcome(StepStatus.PASSED), (Verdict.ERROR, "boom")),
        # the cluster never started: no outcome at all
        (
            PytestEnd("call", "failed", message="embedded cluster: no bridge"),
            None,
            (Verdict.ERROR, "embedded cluster: no bridge"),
        ),
        (
            PytestEnd("call", "skipped", message="no node restarts here"),
            _outcome(),
            (Verdict.SKIP, "no node restarts here"),
        ),
        (PytestEnd("setup", "skipped", message="marked skip"), None, (Verdict.SKIP, "marked skip")),
        (
            PytestEnd("setup", "failed", message="fixture broke"),
            None,
            (Verdict.ERROR, "setup: fixture broke"),
        ),
        (PytestEnd("teardown", "failed", message="leak"), None, (Verdict.ERROR, "teardown: leak")),
        (PytestEnd("setup", "passed"), None, None),
    ],
    ids=[
        "pass",
        "fail",
        "known",
        "known-fixed",
        "deploy-error",
        "crash",
        "no-cluster",
        "skip",
        "setup-skip",
        "setup-error",
        "teardown-error",
        "setup-passed",
    ],
)
def test_judge(end: PytestEnd, outcome: ScenarioOutcome | None, expected: object) -> None:
    assert judge(end, outcome) == expected


def test_upstream_refs_link_to_their_repositories() -> None:
    assert upstream_url("kubespawner#937") == "https://github.com/jupyterhub/kubespawner/issues/937"
    assert upstream_url("z2jh#3574") == "https://github.com/jupyterhub/zero-to-jupyterhub-k8s/issues/3574"
    assert upstream_url("jupyterhub#4800") == "https://github.com/jupyterhub/jupyterhub/issues/4800"
    assert upstream_url("other#1") is None


# --------------------------------------------------------------------------------------------- CLI
def test_cli_writes_every_format_and_the_step_summary(
    reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = reports / "step-summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert report_cli.main(["--reports-dir", str(reports), "--junit-steps"]) == 0
    out = capsys.readouterr().out
    assert "named-server-pvc        K  F" in out
    assert "HTML report: " in out and "index.html" in out
    for name in ("index.html", "summary.md", "conformance-junit.xml"):
        assert (reports / name).stat().st_size > 0
    assert summary.read_text() == "earlier step\n" + (reports / "summary.md").read_text()
    assert 'name="1 start alice/"' in (reports / "conformance-junit.xml").read_text()  # --junit-steps


def test_cli_without_results_says_what_to_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert report_cli.main(["--reports-dir", str(tmp_path)]) == 1
    assert "no results files under" in capsys.readouterr().err
    assert "No results yet" in (tmp_path / "summary.md").read_text()


def test_cli_reports_a_broken_file_and_still_writes_the_rest(
    reports: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (reports / "results" / "broken.json").write_text("{")
    assert report_cli.main(["--reports-dir", str(reports)]) == 1
    assert "broken.json:1:2: not JSON" in capsys.readouterr().err
    assert "delete-pvc-true" in (reports / "index.html").read_text()


def test_html_is_self_contained(reports: Path) -> None:
    import re

    from harness.report.build import build_report

    html = build_report(reports).html.read_text()
    for fetching in ("<link", " src=", "url(", "@import", "<iframe", "<img"):
        assert fetching not in html
    outside = [h for h in re.findall(r'href="([^"]+)"', html) if re.match(r"[a-z]+:", h)]
    assert outside and all(
        h.startswith("https://github.com/jupyterhub/") for h in outside
    )  # upstream issue links
