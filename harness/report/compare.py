"""The differential: the same scenarios on two clusters, cell by cell.

The embedded cluster's verdicts are worth what their agreement with a real cluster is worth, so
this compares two results files (say ``...-embedded.json`` and ``...-existing.json``) and, for every
scenario × KubeSpawner × JupyterHub cell they share, says whether both reached the same verdict at
the same step, or names the first step where they part and how. Steps are paired by their index
(``3``, ``finally 1``): both runs executed the same scenario file, so index N is the same item.

``python -m harness.report.compare LEFT RIGHT`` exits 0 when every shared cell agrees, 1 when any
differs or a cell ran on one side only, 2 when a file cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from harness.report.cells import Cell
from harness.report.results import ResultsError, ResultsFile, load, results_dir
from harness.results import StepRecord

CellKey = tuple[str, str, str]


@dataclass(frozen=True)
class Agreement:
    """One cell of the differential."""

    scenario: str
    kubespawner: str
    jupyterhub: str
    left: str | None
    right: str | None
    #: None when the two agree; otherwise the first difference in one line.
    difference: str | None

    @property
    def agrees(self) -> bool:
        return self.difference is None


def _key(cell: Cell) -> CellKey:
    return (cell.scenario, cell.column.kubespawner, cell.column.jupyterhub)


#: A step note in the table is its first line, cut here: a hub error page can be a note's whole body.
NOTE_MAX = 160


def _step_text(step: StepRecord | None) -> str:
    if step is None:
        return "not run"
    note = step.note.strip().splitlines()[0] if step.note.strip() else ""
    if len(note) > NOTE_MAX:
        note = note[: NOTE_MAX - 1] + "…"
    return step.status.value + (f" ({note})" if note else "")


def first_difference(left: Cell, right: Cell, names: tuple[str, str]) -> str | None:
    """The first step whose outcome differs, else a verdict difference, else None."""
    by_index = {step.index: step for step in right.steps}
    seen = set()
    for step in left.steps:
        seen.add(step.index)
        other = by_index.get(step.index)
        if other is None or other.status is not step.status:
            return (
                f"step {step.index} {step.label} ({step.location}): {names[0]} {_step_text(step)}; "
                f"{names[1]} {_step_text(other)}"
            )
    for step in right.steps:
        if step.index not in seen:
            return (
                f"step {step.index} {step.label} ({step.location}): {names[0]} not run; "
                f"{names[1]} {_step_text(step)}"
            )
    if left.verdict is not right.verdict:
        return f"verdict {left.verdict.value} on {names[0]}, {right.verdict.value} on {names[1]}"
    return None


def side_names(left: ResultsFile, right: ResultsFile) -> tuple[str, str]:
    """How messages name the two sides: the backends, or the sessions when both ran on one backend."""
    return (left.cluster, right.cluster) if left.cluster != right.cluster else (left.session, right.session)


def compare(left: ResultsFile, right: ResultsFile) -> list[Agreement]:
    names = side_names(left, right)
    lefts = {_key(cell): cell for cell in left.cells}
    rights = {_key(cell): cell for cell in right.cells}
    out = []
    for key in sorted(lefts.keys() | rights.keys()):
        a, b = lefts.get(key), rights.get(key)
        if a is None or b is None:
            missing = names[0] if a is None else names[1]
            difference: str | None = f"not run on {missing}"
        else:
            difference = first_difference(a, b, names)
        out.append(
            Agreement(
                *key,
                left=a.verdict.value if a else None,
                right=b.verdict.value if b else None,
                difference=difference,
            )
        )
    return out


def render(agreements: list[Agreement], names: tuple[str, str]) -> list[str]:
    """A Markdown table, readable in a terminal too."""
    lines = [
        f"| scenario | KubeSpawner | JupyterHub | {names[0]} | {names[1]} | agreement |",
        "|---|---|---|---|---|---|",
    ]
    for row in agreements:
        verdict = "same verdict, same step" if row.agrees else f"DIFFERS: {row.difference}"
        lines.append(
            f"| {row.scenario} | {row.kubespawner} | {row.jupyterhub} | {row.left or '-'} | "
            f"{row.right or '-'} | {verdict.replace('|', '/')} |"
        )
    differing = sum(not row.agrees for row in agreements)
    lines.append("")
    lines.append(f"{len(agreements)} cells, {differing} differences")
    return lines


def _resolve(argument: str, reports_dir: Path) -> Path:
    """A results file path, or a session name under ``<reports>/results/``."""
    path = Path(argument)
    if path.suffix == ".json" or path.exists():
        return path
    return results_dir(reports_dir) / f"{argument}.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness.report.compare", description=__doc__.splitlines()[0]
    )
    parser.add_argument("left", help="results file or session name (e.g. the embedded run)")
    parser.add_argument("right", help="results file or session name (e.g. the real cluster's run)")
    parser.add_argument(
        "--reports-dir", default="reports", type=Path, help="where session names are looked up"
    )
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    try:
        left, right = (load(_resolve(arg, args.reports_dir)) for arg in (args.left, args.right))
    except ResultsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    agreements = compare(left, right)
    lines = render(agreements, side_names(left, right))
    print("\n".join(lines))
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0 if all(row.agrees for row in agreements) else 1


if __name__ == "__main__":
    sys.exit(main())
