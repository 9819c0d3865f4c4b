"""The results file: ``reports/results/<session>.json``, one per run, validated by ``results.schema.json``.

One file per session (release x cluster by default) so that the sessions of a matrix, run one
after another or on different machines, never overwrite each other; the report merges them all.
Files are written atomically (a reader never sees half a file) after every cell, so an interrupted
run still leaves what it did, marked ``"complete": false``.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness.report.cells import Cell

#: The ``format`` every results file carries; bump the last part on an incompatible change.
FORMAT = "jupyterhub-storage-conformance/results/v1"
SCHEMA_PATH = Path(__file__).with_name("results.schema.json")


def utc_now() -> str:
    """``2026-12-02T10:15:00Z``: the timestamps of results files."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class ResultsError(ValueError):
    """A results file cannot be used; the message names the file and the offending field."""


def results_dir(reports_dir: Path) -> Path:
    return reports_dir / "results"


@dataclass
class ResultsFile:
    """What one session ran: its environment and its cells."""

    session: str
    started: str
    kubespawner: str
    jupyterhub: str
    cluster: str
    kubernetes: str | None = None
    finished: str | None = None
    #: False while the run is going, or when it was interrupted.
    complete: bool = False
    exitstatus: int | None = None
    harness: str = ""
    cells: list[Cell] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "session": self.session,
            "started": self.started,
            "finished": self.finished,
            "complete": self.complete,
            "exitstatus": self.exitstatus,
            "harness": self.harness,
            "kubespawner": self.kubespawner,
            "jupyterhub": self.jupyterhub,
            "cluster": self.cluster,
            "kubernetes": self.kubernetes,
            "cells": [cell.to_json() for cell in self.cells],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ResultsFile:
        return cls(
            session=data["session"],
            started=data["started"],
            kubespawner=data["kubespawner"],
            jupyterhub=data["jupyterhub"],
            cluster=data["cluster"],
            kubernetes=data.get("kubernetes"),
            finished=data.get("finished"),
            complete=bool(data.get("complete")),
            exitstatus=data.get("exitstatus"),
            harness=data.get("harness", ""),
            cells=[Cell.from_json(cell) for cell in data["cells"]],
        )


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


def problems(data: Any) -> list[str]:
    """Every way ``data`` breaks the schema, as ``$.cells[2].verdict: 'WAT' is not one of ...``."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    found = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        found.append(f"{where}: {error.message}")
    return found


def write(results: ResultsFile, path: Path) -> None:
    atomic_write(path, json.dumps(results.to_json(), indent=2, ensure_ascii=False) + "\n")


def atomic_write(path: Path, text: str) -> None:
    """Replace ``path`` at once: readers (a concurrent ``nox -s report``) see the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path) -> ResultsFile:
    """Read and validate one results file; ResultsError says what is wrong, and where."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None
    if isinstance(data, dict) and data.get("format") not in (None, FORMAT):
        raise ResultsError(
            f"{path}: $.format: {data['format']!r} is not {FORMAT!r} (written by another version?)"
        )
    found = problems(data)
    if found:
        more = f" (+{len(found) - 3} more)" if len(found) > 3 else ""
        raise ResultsError(f"{path}: " + "; ".join(found[:3]) + more)
    return ResultsFile.from_json(data)
