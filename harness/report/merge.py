"""Merge results files into one matrix: scenarios as rows, release x cluster as columns.

Idempotent and order-free: the same files always give the same matrix, so every ``nox -s e2e``
session can merge at its end and the last one leaves the full report. When two files hold the
same cell (a re-run), the one that finished later wins. A file that does not load is reported as a
problem and left out; it never stops the report of the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from harness.report import results
from harness.report.cells import Cell, Column
from harness.report.results import ResultsError, ResultsFile
from harness.results import Verdict


@dataclass(frozen=True)
class Row:
    """A scenario as the matrix shows it beside its cells."""

    name: str
    source: str
    description: str
    upstream: tuple[str, ...]


@dataclass
class Matrix:
    rows: list[Row] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)
    cells: dict[tuple[str, Column], Cell] = field(default_factory=dict)
    #: The files merged, by path (relative to the reports directory where possible).
    files: dict[str, ResultsFile] = field(default_factory=dict)
    #: Files that could not be used, one line each.
    problems: list[str] = field(default_factory=list)

    def cell(self, row: Row, column: Column) -> Cell | None:
        return self.cells.get((row.name, column))

    def counts(self) -> dict[Verdict, int]:
        found = {verdict: 0 for verdict in Verdict}
        for cell in self.cells.values():
            found[cell.verdict] += 1
        return found

    def column_finished(self, column: Column) -> str:
        """When the newest cell of a column finished: how fresh that column is."""
        return max((c.finished for (_, col), c in self.cells.items() if col == column), default="")

    def ordered_cells(self) -> list[Cell]:
        """Every cell, column by column, rows in order: the order JUnit and lists use."""
        return [cell for column in self.columns for row in self.rows if (cell := self.cell(row, column))]


def merge(files: Iterable[tuple[str, ResultsFile]]) -> Matrix:
    matrix = Matrix()
    latest: dict[tuple[str, Column], Cell] = {}
    for name, loaded in files:
        matrix.files[name] = loaded
        for cell in loaded.cells:
            if cell.column.kubernetes is None and loaded.kubernetes:
                # the cell never reached the cluster (an ERROR), but it belongs to the run's column
                cell = replace(cell, column=replace(cell.column, kubernetes=loaded.kubernetes))
            key = (cell.scenario, cell.column)
            if key not in latest or cell.finished >= latest[key].finished:
                latest[key] = cell
    matrix.cells = latest
    matrix.columns = sorted({column for _, column in latest}, key=Column.sort_key)
    newest_row: dict[str, Cell] = {}
    for cell in latest.values():
        if cell.scenario not in newest_row or cell.finished >= newest_row[cell.scenario].finished:
            newest_row[cell.scenario] = cell
    matrix.rows = [
        Row(c.scenario, c.source, c.description, tuple(c.upstream))
        for c in sorted(newest_row.values(), key=lambda c: c.scenario)
    ]
    return matrix


def load_dir(reports_dir: Path) -> Matrix:
    """Merge every ``reports_dir/results/*.json``; unreadable files become ``problems``."""
    loaded: list[tuple[str, ResultsFile]] = []
    problems: list[str] = []
    for path in sorted(results.results_dir(reports_dir).glob("*.json")):
        try:
            loaded.append((str(path.relative_to(reports_dir)), results.load(path)))
        except ResultsError as exc:
            problems.append(str(exc))
    matrix = merge(loaded)
    matrix.problems = problems
    return matrix
