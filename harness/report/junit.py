"""``reports/conformance-junit.xml``: the merged matrix as JUnit, for CI test-report viewers.

One ``<testsuite>`` per column (release x cluster), one ``<testcase>`` per cell with its verdict in
``<properties>``; with ``--junit-steps`` each cell's steps follow it as testcases of their own
(classname ``<scenario>[<column>]``), as kuttl does at step granularity. JUnit knows only passed,
failure, error and skipped, so KNOWN is a ``skipped`` of type ``xfail`` (as pytest writes xfails),
HAZARD passes, and the verdict property always says which it was.

The name differs from pytest's ``--junitxml`` output on purpose, so both can sit in ``reports/``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from harness.report.cells import Cell, Column
from harness.report.merge import Matrix
from harness.results import StepRecord, StepStatus, Verdict

FILENAME = "conformance-junit.xml"

#: Verdict -> (JUnit child element, its ``type``); None: the testcase passed.
_VERDICT_ELEMENT: dict[Verdict, tuple[str, str] | None] = {
    Verdict.PASS: None,
    Verdict.HAZARD: None,
    Verdict.FAIL: ("failure", "FAIL"),
    Verdict.ERROR: ("error", "ERROR"),
    Verdict.KNOWN: ("skipped", "xfail"),
    Verdict.SKIP: ("skipped", "SKIP"),
}
_STEP_ELEMENT: dict[StepStatus, tuple[str, str] | None] = {
    StepStatus.PASSED: None,
    StepStatus.FAILED: ("failure", "failed"),
    StepStatus.KNOWN_FIXED: ("failure", "known-fixed"),
    StepStatus.KNOWN: ("skipped", "xfail"),
    StepStatus.SKIPPED: ("skipped", "skipped"),
    StepStatus.GATED: ("skipped", "gated"),
}


def suite_name(column: Column) -> str:
    return f"kubespawner-{column.kubespawner}-jupyterhub-{column.jupyterhub}-{column.cluster}-" + (
        column.kubernetes or "kubernetes-unknown"
    )


def _properties(parent: ET.Element, pairs: list[tuple[str, str]]) -> None:
    if pairs:
        props = ET.SubElement(parent, "properties")
        for name, value in pairs:
            ET.SubElement(props, "property", name=name, value=value)


def _outcome(parent: ET.Element, element: tuple[str, str] | None, message: str, text: str) -> str | None:
    if element is None:
        return None
    tag, kind = element
    child = ET.SubElement(parent, tag, message=message, type=kind)
    if text:
        child.text = text
    return tag


def _cell_case(cell: Cell, classname: str) -> tuple[ET.Element, str | None]:
    case = ET.Element(
        "testcase", classname=classname, name=cell.scenario, file=cell.source, time=f"{cell.wall:.3f}"
    )
    pairs = [("verdict", cell.verdict.value)]
    pairs += [("known_issue", issue) for issue in cell.known_issues]
    pairs += [("hazard", hazard) for hazard in cell.hazards]
    pairs += [("upstream", ref) for ref in cell.upstream]
    if cell.failure:
        pairs.append(("failure_location", cell.failure.location))
    if cell.bundle:
        pairs.append(("bundle", cell.bundle))
    if cell.spawn_times:
        pairs.append(("spawn_times", ",".join(f"{t:.3f}" for t in cell.spawn_times)))
    _properties(case, pairs)
    details = "\n".join([*cell.errors, *([f"diagnostics bundle: {cell.bundle}"] if cell.bundle else [])])
    tag = _outcome(case, _VERDICT_ELEMENT[cell.verdict], cell.reason or cell.verdict.value, details)
    if cell.log:
        ET.SubElement(case, "system-out").text = "\n".join(cell.log)
    return case, tag


def _file_line(location: str) -> tuple[str, str]:
    """``scenarios/x.yaml:12:5`` -> (``scenarios/x.yaml``, ``12``), as pytest's JUnit writes file and line."""
    parts = location.rsplit(":", 2)
    if len(parts) == 3 and parts[1].isdigit():
        return parts[0], parts[1]
    return location, "0"


def _step_case(step: StepRecord, classname: str) -> tuple[ET.Element, str | None]:
    name = f"{step.index} {step.label}" if step.index != "-" else step.label
    path, line = _file_line(step.location)
    case = ET.Element("testcase", classname=classname, name=name, file=path, line=line)
    case.set("time", f"{step.duration:.3f}")
    pairs = [("status", step.status.value)]
    pairs += [("known_issue", step.known_issue)] if step.known_issue else []
    pairs += [("hazard", step.hazard)] if step.hazard else []
    _properties(case, pairs)
    tag = _outcome(case, _STEP_ELEMENT[step.status], step.note or step.status.value, step.line)
    return case, tag


def render_junit(matrix: Matrix, steps: bool = False) -> str:
    root = ET.Element("testsuites", name="jupyterhub-storage-conformance")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    for column in matrix.columns:
        name = suite_name(column)
        suite = ET.SubElement(root, "testsuite", name=name)
        _properties(
            suite,
            [
                ("kubespawner", column.kubespawner),
                ("jupyterhub", column.jupyterhub),
                ("cluster", column.cluster),
                ("kubernetes", column.kubernetes or "unknown"),
            ],
        )
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        elapsed = 0.0
        for row in matrix.rows:
            cell = matrix.cell(row, column)
            if cell is None:
                continue
            cases = [_cell_case(cell, name)]
            if steps:
                cases += [_step_case(step, f"{cell.scenario}[{name}]") for step in cell.steps]
            for case, tag in cases:
                suite.append(case)
                counts["tests"] += 1
                if tag == "failure":
                    counts["failures"] += 1
                elif tag is not None:
                    counts["errors" if tag == "error" else "skipped"] += 1
            elapsed += cell.wall
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", f"{elapsed:.3f}")
        suite.set("timestamp", matrix.column_finished(column))
        total_time += elapsed
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{total_time:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
