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


def _step(name: str) -> dict[str, object]:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    (step,) = [step for step in action["runs"]["steps"] if step.get("name") == name]
    return step  # type: ignore[no-any-return]


def _run_step(name: str, tmp_path: Path, env: dict[str, str]) -> tuple[int, str, dict[str, str], str]:
    """Run a step's script in bash, `python` and `jhsc` faked to log their arguments.

    Returns the exit code, stdout, what it wrote to $GITHUB_OUTPUT and the fakes' log.
    """
    import os
    import subprocess

    fakes = tmp_path / "fakes"
    fakes.mkdir(exist_ok=True)
    log = tmp_path / "calls.log"
    for tool in ("python", "jhsc"):
        (fakes / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> "{log}"\n')
        (fakes / tool).chmod(0o755)
    outputs = tmp_path / "github-output"
    outputs.write_text("")
    base = {"PATH": f"{fakes}{os.pathsep}{os.environ['PATH']}", "GITHUB_OUTPUT": str(outputs)}
    proc = subprocess.run(
        ["bash", "-e", "-c", str(_step(name)["run"])], env={**base, **env}, capture_output=True, text=True
    )
    pairs = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return proc.returncode, proc.stdout, pairs, log.read_text() if log.exists() else ""


def _install_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {"ACTION_PATH": "/action", "KUBESPAWNER": "7.1.0", "KUBESPAWNER_PATH": "", "RESULTS_NAME": ""}
    return {**env, "WORKSPACE": str(tmp_path / "ws"), "CLUSTER": "kind", **overrides}


def test_kubespawner_path_means_the_checked_out_repository(tmp_path: Path) -> None:
    (tmp_path / "ws" / "ks").mkdir(parents=True)
    code, _, out, log = _run_step("Install the harness", tmp_path, _install_env(tmp_path, KUBESPAWNER="path"))
    assert code == 0 and out == {"source": str(tmp_path / "ws"), "results-name": "kubespawner-source-kind"}
    assert "python -m pip install /action[kind]" in log
    env = _install_env(tmp_path, KUBESPAWNER="path", KUBESPAWNER_PATH="ks", RESULTS_NAME="pr")
    assert _run_step("Install the harness", tmp_path, env)[2] == {
        "source": str(tmp_path / "ws" / "ks"),
        "results-name": "pr",
    }
    env = _install_env(tmp_path, KUBESPAWNER="./ks")
    assert _run_step("Install the harness", tmp_path, env)[2]["source"] == str(tmp_path / "ws" / "ks")
    code, _, out, _ = _run_step("Install the harness", tmp_path, _install_env(tmp_path))
    assert code == 0 and out == {"source": "", "results-name": "kubespawner-7.1.0-kind"}


def test_a_missing_kubespawner_path_is_an_error_annotation(tmp_path: Path) -> None:
    env = _install_env(tmp_path, KUBESPAWNER="path", KUBESPAWNER_PATH="nowhere")
    code, stdout, _, log = _run_step("Install the harness", tmp_path, env)
    assert code == 2 and f"::error::kubespawner: {tmp_path}/ws/nowhere is not a directory" in stdout
    assert log == ""


def test_the_run_step_passes_the_source_to_pytest_and_jhsc_check(tmp_path: Path) -> None:
    run = {
        "ACTION_PATH": "/action",
        "KUBESPAWNER": "path",
        "VALUES": "",
        "CHART": "4.4.0",
        "UPGRADE_TO_CHART": "",
    }
    run.update(SCENARIOS="", CLUSTER="kind", SOURCE="/ws/ks", RESULTS_NAME="kubespawner-source-kind")
    code, _, out, log = _run_step("Run", tmp_path, run)
    assert code == 0 and out == {"exit-code": "0"}
    assert log.strip() == (
        "python -m pytest /action/scenarios -p no:cacheprovider -v --cluster kind "
        "--kubespawner-source /ws/ks --results-name kubespawner-source-kind"
    )
    (tmp_path / "calls.log").unlink()
    _run_step("Run", tmp_path, {**run, "SOURCE": "", "KUBESPAWNER": "7.0.0", "RESULTS_NAME": "r"})
    assert "--kubespawner-version 7.0.0 --results-name r" in (tmp_path / "calls.log").read_text()
    (tmp_path / "calls.log").unlink()
    _run_step("Run", tmp_path, {**run, "VALUES": "v.yaml"})
    assert (tmp_path / "calls.log").read_text().strip() == (
        "jhsc check --values v.yaml --chart 4.4.0 --cluster kind --kubespawner-source /ws/ks"
    )


def test_the_readmes_kubespawner_pr_workflow_passes_actionlint(tmp_path: Path) -> None:
    """The copy-paste example must be a valid workflow using the action's real inputs."""
    import shutil
    import subprocess
    import sys

    actionlint = shutil.which("actionlint") or str(Path(sys.executable).parent / "actionlint")
    if not Path(actionlint).exists():
        import pytest

        pytest.skip("actionlint is not installed (pip install -e '.[lint]')")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("```yaml\n", readme.index("**A KubeSpawner PR against the last release.**")) + 8
    example = readme[start : readme.index("```", start)]
    assert "kubespawner: path" in example and "needs: [release, pr]" in example
    workflow = tmp_path / ".github" / "workflows" / "storage-conformance.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(example.replace("<owner>", "someone"), encoding="utf-8")
    proc = subprocess.run([actionlint, str(workflow)], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
