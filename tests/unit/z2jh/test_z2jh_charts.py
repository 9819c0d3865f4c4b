"""The chart table: known releases, their pinned versions, and a clear error for any other."""

from __future__ import annotations

import pytest

from harness.versions import KUBESPAWNER_MATRIX
from harness.z2jh import CHARTS, UnknownChartError, chart_release
from harness.z2jh.rules import rules_for
from harness.z2jh.walk import Use


@pytest.mark.parametrize(
    ("chart", "kubespawner", "jupyterhub", "pvc_template", "volume_template"),
    [
        pytest.param(
            "3.3.8",
            "6.2.0",
            "4.1.6",
            "claim-{username}{servername}",
            "volume-{username}{servername}",
            id="3.3.8: images/hub/requirements.txt + values.yaml dynamic.*NameTemplate",
        ),
        pytest.param(
            "4.0.0", "7.0.0", "5.2.1", None, "volume-{user_server}", id="4.0.0: pvcNameTemplate empty"
        ),
        pytest.param(
            "4.4.0", "7.0.0", "5.5.0", None, "volume-{user_server}", id="4.4.0: pvcNameTemplate empty"
        ),
    ],
)
def test_chart_table(
    chart: str, kubespawner: str, jupyterhub: str, pvc_template: str | None, volume_template: str
) -> None:
    release = chart_release(chart)
    assert release.versions == (kubespawner, jupyterhub)
    dynamic = release.defaults["singleuser"]["storage"]["dynamic"]
    assert (dynamic["pvcNameTemplate"], dynamic["volumeNameTemplate"]) == (pvc_template, volume_template)
    assert ("subPath" in dynamic) is release.config.dynamic_sub_path
    assert all(f"@{chart}" in evidence for evidence in release.evidence.values())


def test_every_chart_ships_a_kubespawner_the_harness_runs() -> None:
    assert {release.versions.kubespawner for release in CHARTS.values()} <= set(KUBESPAWNER_MATRIX)


@pytest.mark.parametrize("chart", ["3.3.9", "4", "v3.3.8", "", None, 338])
def test_unknown_chart_lists_the_known_ones(chart: object) -> None:
    with pytest.raises(UnknownChartError) as info:
        chart_release(chart)  # type: ignore[arg-type]
    assert str(info.value) == f"unknown z2jh chart version {chart!r}; known: 3.3.8, 4.0.0, 4.4.0"


@pytest.mark.parametrize("chart", list(CHARTS))
def test_every_mapped_key_has_a_default_or_is_optional(chart: str) -> None:
    """A mapped key the defaults lack would make a user null behave differently from Helm."""
    release = chart_release(chart)
    for path, rule in rules_for(release).items():
        if rule.use is not Use.MAPPED or path[-1] in ("hub", "singleuser"):
            continue
        node = release.defaults
        for part in path[:-1]:
            node = node[part]
        assert path[-1] in node, path
