"""The matrix for the terminal: one line per scenario, numbered columns explained below it.

Columns are numbered rather than named so that a line per scenario stays within a terminal's width
however many releases and clusters were merged; each number is then spelled out once.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from harness.report.cells import NOT_RUN, VERDICT_ORDER, VERDICT_WORDS, Column
from harness.report.merge import Matrix


def legend() -> str:
    return "  ".join(f"{v.letter} {VERDICT_WORDS[v]}" for v in VERDICT_ORDER) + f"  {NOT_RUN} not run"


def render_terminal(matrix: Matrix, this_run: Collection[Column] = ()) -> list[str]:
    """The matrix lines; columns in ``this_run`` are marked as written by the current session."""
    if not matrix.cells:
        return ["no results to show"]
    width = max([len("scenario"), *(len(row.name) for row in matrix.rows)])
    numbers = [str(n) for n in range(1, len(matrix.columns) + 1)]
    cell_width = max(2, *(len(n) for n in numbers)) + 1
    lines = [f"{'scenario':<{width}} " + "".join(f"{n:>{cell_width}}" for n in numbers)]
    for row in matrix.rows:
        marks = []
        for column in matrix.columns:
            cell = matrix.cell(row, column)
            marks.append(f"{cell.verdict.letter if cell else NOT_RUN:>{cell_width}}")
        lines.append(f"{row.name:<{width}} " + "".join(marks))
    lines.append(legend())
    for number, column in zip(numbers, matrix.columns, strict=True):
        when = matrix.column_finished(column)[:16].replace("T", " ")
        mark = "this run" if column in this_run else f"from {when} UTC"
        lines.append(f"{number:>{cell_width}}: {column.label} ({mark})")
    lines += [f"! {problem}" for problem in matrix.problems]
    return lines


def shown(path: Path, base: Path | None = None) -> str:
    """``path`` relative to ``base`` (default: the current directory) when inside it, else absolute."""
    try:
        return str(path.resolve().relative_to((base or Path.cwd()).resolve()))
    except ValueError:
        return str(path)
