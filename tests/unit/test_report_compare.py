"""The embedded-vs-real differential: same verdict at the same step, or the first step that differs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.report.cells import Cell, Column
from harness.report.compare import compare, main, render
from harness.report.results import ResultsFile, write
from harness.results import StepRecord, StepStatus, Verdict


def _cell(scenario: str, cluster: str, verdict: Verdict, *statuses: StepStatus) -> Cell:
    steps = [
        StepRecord(str(i), "start", f"start alice/ #{i}", f"s.yaml:{i + 5}:5", status, note=status.value)
        for i, status in enumerate(statuses, start=1)
    ]
    return Cell(
        scenario=scenario,
        source="s.yaml",
        description="",
        upstream=[],
        nodeid="",
        column=Column("7.1.0", "6.1.1", cluster),
        verdict=verdict,
        steps=steps,
        finished="2026-12-02T00:01:00Z",
    )


def _file(cluster: str, *cells: Cell) -> ResultsFile:
    return ResultsFile(
        "ks-7.1.0-" + cluster, "2026-12-02T00:00:00Z", "7.1.0", "6.1.1", cluster, cells=list(cells)
    )


P, F, K, G = StepStatus.PASSED, StepStatus.FAILED, StepStatus.KNOWN, StepStatus.GATED


@pytest.mark.parametrize(
    ("embedded", "existing", "difference"),
    [
        pytest.param((Verdict.PASS, P, G, P), (Verdict.PASS, P, G, P), None, id="same-pass"),
        pytest.param((Verdict.KNOWN, P, K), (Verdict.KNOWN, P, K), None, id="same-known-same-step"),
        pytest.param(
            (Verdict.FAIL, P, F),
            (Verdict.PASS, P, P),
            "step 2 start alice/ #2 (s.yaml:7:5): embedded failed (failed); existing passed (passed)",
            id="embedded-fails-where-real-passes",
        ),
        pytest.param(
            (Verdict.FAIL, P, P, F),
            (Verdict.FAIL, P, F),
            "step 2 start alice/ #2 (s.yaml:7:5): embedded passed (passed); existing failed (failed)",
            id="same-verdict-other-step",
        ),
        pytest.param(
            (Verdict.PASS, P),
            (Verdict.HAZARD, P),
            "verdict PASS on embedded, HAZARD on existing",
            id="verdict-only",
        ),
    ],
)
def test_first_difference(embedded: tuple, existing: tuple, difference: str | None) -> None:
    left = _file("embedded", _cell("x", "embedded", *embedded))
    right = _file("existing", _cell("x", "existing", *existing))
    [row] = compare(left, right)
    assert row.difference == difference


def test_a_cell_run_on_one_side_only_is_a_difference_and_the_cli_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    left = _file("embedded", _cell("x", "embedded", Verdict.PASS, P), _cell("y", "embedded", Verdict.PASS, P))
    right = _file("existing", _cell("x", "existing", Verdict.PASS, P))
    results = tmp_path / "results"
    write(left, results / "ks-7.1.0-embedded.json")
    write(right, results / "ks-7.1.0-existing.json")
    assert main(["ks-7.1.0-embedded", "ks-7.1.0-existing", "--reports-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "| y | 7.1.0 | 6.1.1 | PASS | - | DIFFERS: not run on existing |" in out
    assert "2 cells, 1 differences" in out
    rows = render(compare(left, right), ("embedded", "existing"))
    assert "| x | 7.1.0 | 6.1.1 | PASS | PASS | same verdict, same step |" in rows


def test_unreadable_results_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "jupyterhub-storage-conformance/results/v1"}))
    assert main([str(bad), str(bad)]) == 2
    assert "bad.json" in capsys.readouterr().err


def test_a_long_or_multi_line_note_is_cut_to_its_first_line() -> None:
    left = _file("embedded", _cell("x", "embedded", Verdict.PASS, P))
    right = _file("existing", _cell("x", "existing", Verdict.FAIL, F))
    right.cells[0].steps[0].note = "spawn failed, but with '<html>\n" + "x" * 500
    [row] = compare(left, right)
    assert row.difference is not None and row.difference.endswith(
        "existing failed (spawn failed, but with '<html>)"
    )
    right.cells[0].steps[0].note = "y" * 500
    [row] = compare(left, right)
    assert row.difference is not None and len(row.difference) < 300 and row.difference.endswith("…)")
