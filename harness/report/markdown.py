"""``reports/summary.md``: the matrix in Markdown, to paste into a release PR or a CI step summary.

GitHub Markdown has no cell colours, so each verdict is a coloured emoji plus its letter: it reads
with colour, without colour (the letter) and in plain text. Below the matrix come the reasons of
every cell that is not a plain PASS, so the paste explains itself; descriptions sit in a collapsed
block to keep the PR comment short.
"""

from __future__ import annotations

from harness.report.cells import NOT_RUN, VERDICT_ORDER, VERDICT_WORDS, Cell, Column, upstream_url
from harness.report.merge import Matrix, Row
from harness.results import Verdict

EMOJI: dict[Verdict, str] = {
    Verdict.PASS: "🟢",
    Verdict.FAIL: "🔴",
    Verdict.KNOWN: "🟡",
    Verdict.HAZARD: "🟠",
    Verdict.SKIP: "⚪",
    Verdict.ERROR: "🟣",
}
#: Sections below the matrix, in order: verdict -> heading.
_SECTIONS: dict[Verdict, str] = {
    Verdict.FAIL: "Failures",
    Verdict.ERROR: "Errors (no verdict on storage behaviour)",
    Verdict.KNOWN: "Known upstream issues",
    Verdict.HAZARD: "Hazards (behaviour as expected, and dangerous)",
    Verdict.SKIP: "Skipped",
}


def _escape(text: str) -> str:
    """Text safe inside a table cell or list item (pipes split cells, newlines end them)."""
    return " ".join(text.split()).replace("|", "\\|").replace("<", "&lt;")


def _link(ref: str) -> str:
    url = upstream_url(ref)
    return f"[{ref}]({url})" if url else ref


def legend() -> str:
    parts = [f"{EMOJI[v]} {v.letter} {VERDICT_WORDS[v]}" for v in VERDICT_ORDER]
    return " · ".join(parts) + f" · {NOT_RUN} not run"


def _header(column: Column) -> str:
    return f"KubeSpawner {column.kubespawner}<br>JupyterHub {column.jupyterhub}<br>{_escape(column.where)}"


def _row_title(row: Row) -> str:
    refs = ", ".join(_link(ref) for ref in row.upstream)
    return f"**{_escape(row.name)}**" + (f" ({refs})" if refs else "")


def _mark(cell: Cell | None) -> str:
    return f"{EMOJI[cell.verdict]} {cell.verdict.letter}" if cell else NOT_RUN


def _item(cell: Cell) -> str:
    column = cell.column
    where = f"KubeSpawner {column.kubespawner} / JupyterHub {column.jupyterhub} / {column.where}"
    reason = f": {_escape(cell.reason)}" if cell.reason else ""
    bundle = f" (bundle `{cell.bundle}`)" if cell.bundle else ""
    return f"- {cell.verdict.letter} **{_escape(cell.scenario)}** on {_escape(where)}{reason}{bundle}"


def render_markdown(matrix: Matrix, title: str = "Storage conformance") -> str:
    lines = [f"## {title}", ""]
    if not matrix.cells:
        return "\n".join([*lines, "No results yet: run `nox -s e2e`.", ""])
    counts = matrix.counts()
    total = ", ".join(f"{counts[v]} {VERDICT_WORDS[v]}" for v in VERDICT_ORDER if counts[v])
    lines += [
        f"{len(matrix.rows)} scenarios × {len(matrix.columns)} release × cluster columns: {total}.",
        "",
        legend(),
        "",
        "| scenario | " + " | ".join(_header(c) for c in matrix.columns) + " |",
        "| --- | " + " | ".join(":-:" for _ in matrix.columns) + " |",
    ]
    for row in matrix.rows:
        marks = " | ".join(_mark(matrix.cell(row, c)) for c in matrix.columns)
        lines.append(f"| {_row_title(row)} | {marks} |")
    cells = matrix.ordered_cells()
    for verdict, heading in _SECTIONS.items():
        chosen = [c for c in cells if c.verdict is verdict]
        if chosen:
            lines += ["", f"### {heading}", "", *(_item(c) for c in chosen)]
    lines += ["", "<details><summary>Scenarios</summary>", ""]
    for row in matrix.rows:
        about = f": {_escape(row.description)}" if row.description else ""
        lines.append(f"- **{_escape(row.name)}** (`{row.source}`){about}")
    lines += ["", "</details>"]
    if matrix.problems:
        lines += ["", "### Results files that could not be read", ""]
        lines += [f"- {_escape(problem)}" for problem in matrix.problems]
    return "\n".join(lines) + "\n"
