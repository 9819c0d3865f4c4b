"""``action.yml``: the composite action's structure (actionlint checks the workflow that uses it)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_action_is_a_composite_with_the_documented_inputs() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert {"name", "description", "inputs", "runs"} <= set(action)
    assert {"kubespawner", "values", "scenarios", "cluster"} <= set(action["inputs"])
    assert action["inputs"]["cluster"]["default"] == "kind"
    assert action["runs"]["using"] == "composite"
    for step in action["runs"]["steps"]:
        assert ("run" in step) != ("uses" in step), step
        if "run" in step:
            assert step.get("shell") == "bash", f"composite run steps need a shell: {step.get('name')}"
            # inputs reach scripts through env, never by ${{ }} expansion inside the script
            assert "${{" not in step["run"], step["name"]
    used = set(re.findall(r"inputs\.([a-z-]+)", (ROOT / "action.yml").read_text(encoding="utf-8")))
    assert used <= set(action["inputs"]), used - set(action["inputs"])


def test_a_workflow_uses_the_action() -> None:
    workflows = [
        yaml.safe_load(p.read_text(encoding="utf-8")) for p in (ROOT / ".github" / "workflows").glob("*.yml")
    ]
    uses = [
        step.get("uses") for w in workflows for job in w["jobs"].values() for step in job.get("steps", [])
    ]
    assert "./" in uses
