"""The scenario language: YAML files describing what per-user storage must do, and their loader.

``load_scenario(path) -> Scenario`` raises ``ScenarioError`` whose ``problems`` each carry
``file:line:column``, a field path and what is allowed. Steps are data (``Step`` subclasses, one per
step name in ``STEP_BODIES``); ``harness/runner.py`` executes them.
"""

from harness.scenario.errors import ScenarioError, ScenarioProblem, SourceLocation
from harness.scenario.loader import load_scenario, parse_scenario
from harness.scenario.models import Scenario, User
from harness.scenario.steps import STEP_BODIES, STEP_ITEMS, Step

__all__ = [
    "STEP_BODIES",
    "STEP_ITEMS",
    "Scenario",
    "ScenarioError",
    "ScenarioProblem",
    "SourceLocation",
    "Step",
    "User",
    "load_scenario",
    "parse_scenario",
]
