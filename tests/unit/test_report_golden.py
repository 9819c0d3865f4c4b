"""Golden tests of the report formats, as kuttl tests its reports: a fixed results set, pinned outputs.

``report_golden/results/`` is a hand-made set of two results files (KubeSpawner 6.2.0 and 7.1.0) that
holds every verdict, a cell not run on one column, a collection error and a cell that never reached
the cluster. ``report_golden/expected/`` holds what each format renders from it. After an intended
change of a format, regenerate with ``JHSC_UPDATE_GOLDEN=1 pytest tests/unit/test_report_golden.py``
and review the diff.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.report.junit import render_junit
from harness.report.markdown import render_markdown
from harness.report.merge import Matrix, load_dir
from harness.report.terminal import render_terminal

HERE = Path(__file__).parent / "report_golden"

RENDERERS: dict[str, Callable[[Matrix], str]] = {
    "summary.md": render_markdown,
    "conformance-junit.xml": lambda m: render_junit(m, steps=False),
    "conformance-junit-steps.xml": lambda m: render_junit(m, steps=True),
    "terminal.txt": lambda m: "\n".join(render_terminal(m)) + "\n",
}


@pytest.fixture(scope="module")
def matrix() -> Matrix:
    loaded = load_dir(HERE)
    assert loaded.problems == []
    return loaded


def test_the_fixed_set_covers_every_verdict_and_a_gap(matrix: Matrix) -> None:
    assert all(matrix.counts().values())
    assert len(matrix.columns) == 2 and len(matrix.rows) == 6
    assert len(matrix.cells) < len(matrix.rows) * len(
        matrix.columns
    )  # the broken file ran on one column only


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_report_format_matches_golden(matrix: Matrix, name: str) -> None:
    text = RENDERERS[name](matrix)
    golden = HERE / "expected" / name
    if os.environ.get("JHSC_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_junit_is_well_formed_and_counts_add_up(matrix: Matrix) -> None:
    import xml.etree.ElementTree as ET

    for steps, cases in (
        (False, len(matrix.cells)),
        (True, len(matrix.cells) + sum(len(c.steps) for c in matrix.cells.values())),
    ):
        root = ET.fromstring(render_junit(matrix, steps=steps))
        assert int(root.get("tests", "-1")) == cases == len(root.findall("./testsuite/testcase"))
        for suite in root.findall("testsuite"):
            found = {tag: len(suite.findall(f"./testcase/{tag}")) for tag in ("failure", "error", "skipped")}
            assert found == {
                "failure": int(suite.get("failures", "")),
                "error": int(suite.get("errors", "")),
                "skipped": int(suite.get("skipped", "")),
            }
        verdicts = [p.get("value") for p in root.iter("property") if p.get("name") == "verdict"]
        assert len(verdicts) == len(matrix.cells)
