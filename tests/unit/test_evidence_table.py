"""tools/evidence_table.py: EVIDENCE.md rows come from results files, newest cell per key, with proof."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from harness.report.cells import Cell, Column
from harness.report.results import ResultsFile, write
from harness.results import StepRecord, StepStatus, Verdict

TOOL = Path(__file__).resolve().parents[2] / "tools" / "evidence_table.py"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("evidence_table", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cell(
    cluster: str, verdict: Verdict, status: StepStatus, finished: str, hazard: str | None = None
) -> Cell:
    steps = [
        StepRecord("1", "start", "start alice/", "s.yaml:6:5", StepStatus.PASSED, line="✓ 1 start alice/"),
        StepRecord(
            "2",
            "expect_pvc",
            "expect_pvc claim-alice",
            "s.yaml:7:5",
            status,
            hazard=hazard,
            line=f"✓ 2 expect_pvc claim-alice on {cluster}",
        ),
    ]
    return Cell(
        "s",
        "s.yaml",
        "",
        [],
        "",
        Column("7.1.0", "6.1.1", cluster),
        verdict,
        steps=steps,
        finished=finished,
        wall=12.4,
    )


def _write(tmp_path: Path, name: str, cluster: str, *cells: Cell) -> Path:
    path = tmp_path / f"{name}.json"
    write(ResultsFile(name, "2026-12-02T00:00:00Z", "7.1.0", "6.1.1", cluster, cells=list(cells)), path)
    return path


def test_rows_take_the_newest_cell_and_its_proof_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _cell("existing", Verdict.FAIL, StepStatus.FAILED, "2026-12-02T01:00:00Z")
    new = _cell("existing", Verdict.HAZARD, StepStatus.PASSED, "2026-12-02T02:00:00Z", hazard="shared claim")
    real = [_write(tmp_path, "r1", "existing", new), _write(tmp_path, "r2", "existing", old)]
    embedded = [
        _write(
            tmp_path,
            "e1",
            "embedded",
            _cell("embedded", Verdict.HAZARD, StepStatus.PASSED, "2026-12-02T02:00:00Z", "shared claim"),
        )
    ]
    assert _tool().main(["--real", *map(str, real), "--embedded", *map(str, embedded)]) == 0
    out = capsys.readouterr().out
    assert (
        "| s | 7.1.0 | 6.1.1 | HAZARD @ 2 expect_pvc claim-alice | HAZARD @ 2 expect_pvc claim-alice |" in out
    )
    assert "same verdict, same step" in out and "✓ 2 expect_pvc claim-alice on existing" in out
    assert out.rstrip().endswith("1 cells, 0 not in agreement")


def test_a_cell_on_one_side_only_or_a_different_step_is_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = _write(
        tmp_path, "r", "existing", _cell("existing", Verdict.FAIL, StepStatus.FAILED, "2026-12-02T01:00:00Z")
    )
    embedded = _write(
        tmp_path, "e", "embedded", _cell("embedded", Verdict.PASS, StepStatus.PASSED, "2026-12-02T01:00:00Z")
    )
    assert _tool().main(["--real", str(real), "--embedded", str(embedded)]) == 0
    out = capsys.readouterr().out
    assert "DIFFERS: step 2 expect_pvc claim-alice (s.yaml:7:5): realk8s failed" in out
    assert out.rstrip().endswith("1 cells, 1 not in agreement")
