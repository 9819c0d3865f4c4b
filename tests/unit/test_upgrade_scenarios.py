"""Upgrade scenarios: deploy_with sets the starting release, under-test the target, applies_to skips."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness import runner
from harness.clusters.base import HubVersions
from harness.scenario import ScenarioError
from harness.scenario.loader import parse_scenario
from harness.steps.restart_hub import target_versions

UPGRADE = """
name: upgrade
description: from 6.2.0 to the release under test
applies_to: {kubespawner: ">=7"}
deploy_with: {kubespawner: "6.2.0"}
users: [{name: alice}]
steps:
  - restart_hub: {kubespawner: under-test}
"""

MATRIX = HubVersions("7.0.0", "6.1.1")


def _body(**fields: str | None) -> SimpleNamespace:
    return SimpleNamespace(**{"kubespawner": None, "jupyterhub": None, **fields})


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(_body(), None, id="no-versions-keeps-the-running-ones"),
        pytest.param(_body(kubespawner="under-test"), MATRIX, id="under-test-is-the-matrix-row"),
        pytest.param(_body(kubespawner="7.1.0"), HubVersions("7.1.0", "6.1.1"), id="exact-takes-recorded-jh"),
        pytest.param(_body(jupyterhub="6.1.1"), HubVersions("6.2.0", "6.1.1"), id="jupyterhub-only"),
        pytest.param(
            _body(kubespawner="under-test", jupyterhub="5.5.4"),
            HubVersions("7.0.0", "5.5.4"),
            id="under-test-jh",
        ),
    ],
)
def test_restart_versions(body: SimpleNamespace, expected: HubVersions | None) -> None:
    assert target_versions(body, HubVersions("6.2.0", "5.5.4"), MATRIX) == expected


def test_deploy_with_starts_at_its_release_and_applies_to_skips_other_cells() -> None:
    scenario = parse_scenario(UPGRADE, "upgrade.yaml")
    ctx = SimpleNamespace(versions=MATRIX)
    assert runner.initial_versions(scenario, ctx) == HubVersions("6.2.0", "5.5.4")  # type: ignore[arg-type]
    assert runner.not_applicable_reason(scenario, MATRIX) is None
    reason = runner.not_applicable_reason(scenario, HubVersions("6.2.0", "5.5.4"))
    assert reason == "upgrade is about kubespawner >=7, not kubespawner 6.2.0"
    assert "needs a hub the harness deploys" in str(
        runner.not_applicable_reason(scenario, MATRIX, existing_hub=True)
    )


def test_deploy_with_needs_an_exact_release() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(UPGRADE.replace('"6.2.0"', "under-test"), "upgrade.yaml")
    assert "upgrade.yaml:5:28: deploy_with.kubespawner: 'under-test' is for restart_hub" in str(info.value)
