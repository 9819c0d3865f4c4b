"""Problems found in a scenario file, each pinned to the line and column an author has to fix.

A scenario is data written by hand, so a bad one must read like a compiler error
(``file:line:column: path: what is wrong; what is allowed``), one line per problem, and never
as a traceback. Every check in the loader reports through these two classes.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SourceLocation:
    """Where something is in a scenario file; line and column are 1-based, as editors show them."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class ScenarioProblem:
    """One thing wrong with a scenario file."""

    location: SourceLocation
    #: Field path such as ``steps[3].start.user``; empty for the document as a whole.
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.location}: {where}{self.message}"


class ScenarioError(Exception):
    """A scenario file could not be loaded; ``problems`` lists every reason, by file, in line order."""

    def __init__(self, problems: Sequence[ScenarioProblem]) -> None:
        # file order is the order problems were found in (the scenario, then a values file it names)
        files: dict[str, int] = {}
        for problem in problems:
            files.setdefault(problem.location.file, len(files))
        self.problems = tuple(
            sorted(
                problems,
                key=lambda p: (files[p.location.file], p.location.line, p.location.column, p.path, p.message),
            )
        )
        super().__init__("\n".join(str(p) for p in self.problems))


def format_path(parts: Iterable[str | int]) -> str:
    """Render a field path the way authors read it: ``steps[3].start.user``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ``" (did you mean 'x'?)"`` suffix for the closest choice, or "" when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


def describe_value(value: object) -> str:
    """How a message names a YAML value: ``integer 10``, ``string 'x'``, ``null``, ``a mapping``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__
