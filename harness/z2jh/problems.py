"""What is wrong with a z2jh values mapping, as key paths the scenario loader can point at.

The values are written by hand inside a scenario file, so every problem carries the key path as a
tuple (``("singleuser", "storage", "capacity")``, list indices as ints) relative to the values root;
the loader, which knows where each path sits in the YAML, turns it into ``file:line:column``. The
message never repeats the path, so the loader can render ``path: message`` in its own style.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from harness.scenario.errors import format_path

ValuesPath = tuple[str | int, ...]


class ValuesProblem(NamedTuple):
    """One problem in a values mapping."""

    path: ValuesPath
    message: str
    #: True when the problem is the key itself (unknown, misspelt): point at the key, not its value.
    key: bool = False

    def __str__(self) -> str:
        where = format_path(self.path)
        return f"{where}: {self.message}" if where else self.message


class Z2jhValuesError(ValueError):
    """The values cannot be mapped; ``problems`` lists every reason, ``path``/``message`` the first."""

    def __init__(self, problems: Sequence[ValuesProblem]) -> None:
        if not problems:
            raise ValueError("Z2jhValuesError needs at least one problem")
        self.problems = tuple(problems)
        self.path: ValuesPath = self.problems[0].path
        self.message = self.problems[0].message
        super().__init__("\n".join(str(problem) for problem in self.problems))
