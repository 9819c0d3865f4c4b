"""Merge ``reports/results/*.json`` and write every report format beside them.

The one entry point both the pytest plugin (at the end of each run) and ``python -m harness.report``
(``nox -s report``) call, so the files a run leaves and the files ``nox -s report`` writes are the
same. Each file is replaced atomically.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.report import junit
from harness.report.html import render_html
from harness.report.markdown import render_markdown
from harness.report.merge import Matrix, load_dir
from harness.report.results import atomic_write

HTML = "index.html"
MARKDOWN = "summary.md"


@dataclass
class Written:
    matrix: Matrix
    html: Path
    markdown: Path
    junit: Path


def build_report(reports_dir: Path, *, junit_steps: bool = False) -> Written:
    """Write ``index.html``, ``summary.md`` and the JUnit XML of every results file under ``reports_dir``."""
    matrix = load_dir(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    written = Written(matrix, reports_dir / HTML, reports_dir / MARKDOWN, reports_dir / junit.FILENAME)
    atomic_write(written.html, render_html(matrix))
    atomic_write(written.markdown, render_markdown(matrix))
    atomic_write(written.junit, junit.render_junit(matrix, steps=junit_steps))
    return written


def append_step_summary(written: Written, env: Mapping[str, str]) -> Path | None:
    """Append ``summary.md`` to ``$GITHUB_STEP_SUMMARY`` when GitHub Actions set it."""
    target = env.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    with open(target, "a", encoding="utf-8") as out:
        out.write(written.markdown.read_text(encoding="utf-8"))
    return Path(target)
