"""``reports/index.html``: the matrix a person reads at a glance, in one self-contained file.

No CDN, no fonts, no external fetch: CSS and a few lines of script are inline, so the file works from
a CI artifact, an email attachment or ``file://``. Every cell is a link to ``#cell=<id>``; the
fragment is the expanded state, so a link to one failure can be shared, and the page opens that
cell's steps, reason and diagnostics bundle. Without script every cell's details are simply shown
below the matrix. Each verdict has a colour AND a letter and a word, so it reads without colour.
"""

from __future__ import annotations

import datetime as _dt
from functools import lru_cache
from html import escape
from pathlib import Path
from urllib.parse import quote

from harness.report.cells import NOT_RUN, VERDICT_ORDER, VERDICT_WORDS, Cell, Column, upstream_url
from harness.report.merge import Matrix, Row
from harness.results import StepRecord, StepStatus

#: Step status -> the mark its progress line starts with (as the runner prints them).
_STEP_MARKS: dict[StepStatus, str] = {
    StepStatus.PASSED: "✓",
    StepStatus.FAILED: "✗",
    StepStatus.KNOWN_FIXED: "✗",
    StepStatus.KNOWN: "◌",
    StepStatus.SKIPPED: "↷",
    StepStatus.GATED: "–",
}

_ASSETS = Path(__file__).with_name("assets")


@lru_cache(maxsize=2)
def _asset(name: str) -> str:
    return (_ASSETS / name).read_text(encoding="utf-8")


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _letter(letter: str) -> str:
    return f'<span class="letter" aria-hidden="true">{_e(letter)}</span>'


def _upstream(refs: tuple[str, ...] | list[str]) -> str:
    links = []
    for ref in refs:
        url = upstream_url(ref)
        links.append(f'<a href="{_e(url)}">{_e(ref)}</a>' if url else _e(ref))
    return f'<div class="up">{" ".join(links)}</div>' if links else ""


def _legend(matrix: Matrix) -> str:
    counts = matrix.counts()
    chips = [
        f'<span class="chip v-{v.value}">{_letter(v.letter)}{_e(v.value)} · {_e(VERDICT_WORDS[v])}'
        f" ({counts[v]})</span>"
        for v in VERDICT_ORDER
    ]
    chips.append(f'<span class="chip"><span class="letter notrun">{NOT_RUN}</span>not run</span>')
    return f'<p class="legend">{"".join(chips)}</p>'


def _head(matrix: Matrix) -> str:
    cols = []
    for column in matrix.columns:
        when = matrix.column_finished(column)[:16].replace("T", " ")
        cols.append(
            f'<th scope="col" title="{_e(column.label)}; newest cell {_e(when)} UTC">'
            f"KubeSpawner {_e(column.kubespawner)}"
            f'<span class="sub">JupyterHub {_e(column.jupyterhub)}</span>'
            f'<span class="sub">{_e(column.cluster)}</span>'
            f'<span class="sub">Kubernetes {_e(column.kubernetes or "unknown")}</span></th>'
        )
    return f'<thead><tr><th class="scn" scope="col">scenario</th>{"".join(cols)}</tr></thead>'


def _matrix_cell(cell: Cell | None) -> str:
    if cell is None:
        return f'<td><span class="notrun" title="not run">{NOT_RUN}</span></td>'
    verdict = cell.verdict
    title = f"{verdict.value}: {cell.reason}" if cell.reason else verdict.value
    return (
        f'<td><a class="cell v-{verdict.value}" href="#cell={_e(cell.id)}" data-cell="{_e(cell.id)}" '
        f'aria-controls="d-{_e(cell.id)}" aria-expanded="false" title="{_e(title)}">'
        f'{_letter(verdict.letter)}<span class="word">{_e(VERDICT_WORDS[verdict])}</span></a></td>'
    )


def _row(matrix: Matrix, row: Row) -> str:
    cells = "".join(_matrix_cell(matrix.cell(row, column)) for column in matrix.columns)
    return (
        f'<tr id="row-{_e(row.name)}"><th scope="row"><div class="name">{_e(row.name)}</div>'
        f'<div class="desc" title="{_e(row.description)}">{_e(row.description)}</div>'
        f"{_upstream(row.upstream)}</th>{cells}</tr>"
    )


def _step_row(step: StepRecord, source: str) -> str:
    """One step: mark, index, label and note, then ``:line:col`` (the file is the cell's) and duration."""
    note = f' <span class="note">{_e(step.note)}</span>' if step.note else ""
    known = f" · {_e(step.known_issue)}" if step.known_issue else ""
    hazard = f" · HAZARD: {_e(step.hazard)}" if step.hazard else ""
    where = step.location.removeprefix(source) if step.location.startswith(f"{source}:") else step.location
    took = "" if step.status in (StepStatus.GATED, StepStatus.SKIPPED) else f"{step.duration:.1f}s"
    return (
        f'<tr class="s-{step.status.value}" title="{_e(step.status.value)}">'
        f'<td class="mark">{_STEP_MARKS[step.status]}</td><td class="idx">{_e(step.index)}</td>'
        f"<td>{_e(step.label)}{known}{hazard}{note}</td>"
        f'<td class="loc" title="{_e(step.location)}">{_e(where)}</td><td class="dur">{took}</td></tr>'
    )


def _bundle_link(bundle: str) -> str:
    href = f"file://{quote(bundle)}" if bundle.startswith("/") else quote(bundle)
    return f'<a href="{_e(href)}/">{_e(bundle)}/</a> (<a href="{_e(href)}/summary.txt">summary.txt</a>)'


def _detail(cell: Cell) -> str:
    verdict = cell.verdict
    facts = []
    if cell.failure:
        failing = f"{cell.failure.step} {cell.failure.label} at {cell.failure.location}"
        facts.append(("failing step", _e(failing)))
    for issue in cell.known_issues:
        url = upstream_url(issue)
        facts.append(("known issue", f'<a href="{_e(url)}">{_e(issue)}</a>' if url else _e(issue)))
    facts += [("hazard", _e(h)) for h in cell.hazards]
    if cell.bundle:
        facts.append(("diagnostics", _bundle_link(cell.bundle)))
    spawns = ", ".join(f"{t:.1f}s" for t in cell.spawn_times) or "none"
    facts.append(("timings", f"{cell.wall:.1f}s wall; spawns: {_e(spawns)}"))
    facts.append(("scenario", f"<code>{_e(cell.source)}</code>"))
    facts.append(("finished", _e(cell.finished.replace("T", " "))))
    facts_html = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts)
    reason = f'<div class="reason">{_e(cell.reason)}</div>' if cell.reason else ""
    errors = "".join(f'<div class="reason">{_e(e)}</div>' for e in cell.errors if e != cell.reason)
    steps = "".join(_step_row(step, cell.source) for step in cell.steps)
    steps_html = f'<table class="steps"><tbody>{steps}</tbody></table>' if steps else ""
    log = (
        f'<details class="log"><summary>progress log ({len(cell.log)} lines)</summary>'
        f"<pre>{_e(chr(10).join(cell.log))}</pre></details>"
        if cell.log
        else ""
    )
    return (
        f'<article hidden class="detail v-{verdict.value}" id="d-{_e(cell.id)}" data-cell="{_e(cell.id)}">'
        f"<h2>{_e(cell.scenario)}</h2>"
        f'<span class="verdict v-{verdict.value}">{_letter(verdict.letter)}{_e(verdict.value)}'
        f" · {_e(VERDICT_WORDS[verdict])}</span>"
        f'<p class="where">{_e(cell.column.label)}</p>'
        f'{reason}{errors}<dl class="facts">{facts_html}</dl>{steps_html}{log}'
        f'<p class="desc-full">{_e(cell.description)}</p>'
        f'<p class="nodeid">pytest id <code>{_e(cell.nodeid)}</code></p></article>'
    )


def _footer(matrix: Matrix) -> str:
    files = []
    for name, loaded in sorted(matrix.files.items()):
        state = "complete" if loaded.complete else "incomplete (still running, or interrupted)"
        files.append(
            f'<li><a href="{_e(quote(name))}">{_e(name)}</a>: {len(loaded.cells)} cells, started '
            f"{_e(loaded.started.replace('T', ' '))}, {state}</li>"
        )
    problems = "".join(f'<li class="problems">{_e(p)}</li>' for p in matrix.problems)
    return (
        "<footer><p>Results files merged (newest cell wins when two hold the same cell):</p>"
        f"<ul>{''.join(files)}{problems}</ul>"
        "<p>Verdicts: PASS every step held · FAIL a step failed, or a known_issue step passed (fixed "
        "upstream?) · KNOWN only steps an upstream bug is known to break failed · HAZARD passed, and what "
        "passed is documented as dangerous · SKIP not run here · ERROR no verdict on storage (the hub, "
        "cluster or harness failed, or the scenario file is broken).</p></footer>"
    )


def render_html(matrix: Matrix, generated: str | None = None) -> str:
    generated = generated or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    columns: list[Column] = matrix.columns
    body_rows = "".join(_row(matrix, row) for row in matrix.rows)
    details = "".join(_detail(cell) for cell in matrix.ordered_cells())
    hint = (
        '<p class="hint" id="hint">Click a cell for its steps, the reason of its verdict and its '
        "diagnostics bundle.</p>"
    )
    summary = (
        f"{len(matrix.rows)} scenarios × {len(columns)} release × cluster columns · generated {_e(generated)}"
        if matrix.cells
        else "No results yet: run <code>nox -s e2e</code>."
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Storage conformance: scenario × release matrix</title>
<style>{_asset("report.css")}</style>
<noscript><style>.detail[hidden] {{ display: block; }} #hint {{ display: none; }}</style></noscript>
</head>
<body>
<header>
<h1>JupyterHub storage conformance</h1>
<p class="meta">{summary}</p>
{_legend(matrix)}
</header>
<main class="layout">
<table class="matrix">{_head(matrix)}<tbody>{body_rows}</tbody></table>
<section id="details" aria-live="polite">{hint}{details}</section>
</main>
{_footer(matrix)}
<script>{_asset("report.js")}</script>
</body>
</html>
"""
