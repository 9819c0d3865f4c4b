"""Write ``scenarios/EVIDENCE.md``'s table from results files of a real cluster and of the embedded one.

Why a tool: the evidence is only worth something if every row comes from a results file that a run
wrote, with the progress line that proves the verdict, never typed by hand. Each side may be given
several files (a release's run split into parts); cells are keyed by scenario × KubeSpawner ×
JupyterHub, and the newest cell wins when a key repeats. Agreement is
``harness.report.compare.first_difference``: the same status at every step, then the same verdict.

    python tools/evidence_table.py --real R1.json R2.json --embedded E1.json E2.json > table.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.report.cells import Cell
from harness.report.compare import first_difference
from harness.report.results import ResultsError, load
from harness.results import StepRecord, Verdict

Key = tuple[str, str, str]
#: Longest evidence line kept in a table cell.
LINE_MAX = 260


def _cells(paths: list[Path]) -> dict[Key, Cell]:
    cells: dict[Key, Cell] = {}
    for path in paths:
        for cell in load(path).cells:
            key = (cell.scenario, cell.column.kubespawner, cell.column.jupyterhub)
            if key not in cells or cell.finished > cells[key].finished:
                cells[key] = cell
    return cells


def _deciding_step(cell: Cell) -> StepRecord | None:
    """The step that gives the verdict: the failed, known or hazard step, else the last main step."""
    for step in cell.steps:
        if step.status.value in ("failed", "known", "known-fixed", "error"):
            return step
    for step in cell.steps:
        if step.hazard:
            return step
    main = [
        step for step in cell.steps if not step.index.startswith("finally") and step.status.value == "passed"
    ]
    return main[-1] if main else None


def _verdict(cell: Cell | None) -> str:
    if cell is None:
        return "not run"
    if cell.verdict is Verdict.PASS:
        return "PASS"
    step = _deciding_step(cell)
    if cell.verdict is Verdict.SKIP or step is None:
        return f"{cell.verdict.value} ({cell.reason})" if cell.reason else cell.verdict.value
    return f"{cell.verdict.value} @ {step.index} {step.label}"


def _line(cell: Cell | None) -> str:
    step = _deciding_step(cell) if cell is not None else None
    if step is None:
        return ""
    text = " ".join(step.line.split())
    return (text[: LINE_MAX - 1] + "…") if len(text) > LINE_MAX else text


def _cell_text(text: str) -> str:
    return text.replace("|", "/")


def render(real: dict[Key, Cell], embedded: dict[Key, Cell]) -> list[str]:
    lines = [
        "| scenario | KubeSpawner | JupyterHub | realk8s (k8s 1.20.2) | embedded | agreement "
        "| wall realk8s s | wall embedded s | evidence (realk8s progress line) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    differing = 0
    for key in sorted(real.keys() | embedded.keys(), key=lambda k: (k[0], tuple(map(int, k[1].split("."))))):
        a, b = real.get(key), embedded.get(key)
        if a is None or b is None:
            agreement = "not run on " + ("realk8s" if a is None else "embedded")
            differing += 1
        else:
            difference = first_difference(a, b, ("realk8s", "embedded"))
            agreement = "same verdict, same step" if difference is None else f"DIFFERS: {difference}"
            differing += difference is not None
        walls = [f"{cell.wall:.0f}" if cell is not None else "-" for cell in (a, b)]
        lines.append(
            "| "
            + " | ".join(
                _cell_text(text)
                for text in (*key, _verdict(a), _verdict(b), agreement, *walls, f"`{_line(a)}`" if a else "")
            )
            + " |"
        )
    lines += ["", f"{len(real.keys() | embedded.keys())} cells, {differing} not in agreement"]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--real", nargs="+", type=Path, required=True, help="results files of the real cluster"
    )
    parser.add_argument("--embedded", nargs="+", type=Path, required=True, help="results files of embedded")
    args = parser.parse_args(argv)
    try:
        real, embedded = _cells(args.real), _cells(args.embedded)
    except ResultsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(render(real, embedded)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
