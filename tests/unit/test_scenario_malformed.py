"""Golden tests: every malformed scenario gives exactly the pinned, human-readable messages.

Each ``scenarios_malformed/<case>.yaml`` has a ``<case>.expected`` with the full error text. After an
intended wording change, regenerate with ``JHSC_UPDATE_GOLDEN=1 pytest tests/unit/test_scenario_malformed.py``
and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.scenario import ScenarioError, load_scenario

HERE = Path(__file__).parent
CASES = sorted((HERE / "scenarios_malformed").glob("*.yaml"))
VALUES_FILES = [
    f"scenarios_malformed/values/{p.name}" for p in (HERE / "scenarios_malformed/values").glob("*")
]


def test_there_are_a_dozen_cases() -> None:
    assert len(CASES) >= 12


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_malformed_scenario_message(case: Path) -> None:
    display = f"scenarios_malformed/{case.name}"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(case, display=display)
    message = str(caught.value) + "\n"
    golden = case.with_suffix(".expected")
    if os.environ.get("JHSC_UPDATE_GOLDEN") == "1":
        golden.write_text(message, encoding="utf-8")
    assert message == golden.read_text(encoding="utf-8")
    for problem in caught.value.problems:
        # a z2jh values_file's own mistakes are placed in that file (kept in scenarios_malformed/values/)
        assert problem.location.file in (display, *VALUES_FILES)
        assert problem.location.line >= 1 and problem.location.column >= 1
    assert "Traceback" not in message
