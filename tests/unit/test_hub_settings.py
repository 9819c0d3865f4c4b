"""Config changes across restarts: how they stack, and the diff the step line shows (pure logic)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.hub.config import HubConfigInput, merged_config
from harness.hub.settings import MISSING, ConfigChange, HubSettings, TraitDiff, describe, diff

BASE = HubSettings(
    kubespawner={
        "pvc_name_template": "claim-{username}--{servername}",
        "storage_capacity": "1Gi",
        "uid": 1001,
    },
    hub_config={"JupyterHub.upgrade_db": False},
)


def _effective(settings: HubSettings) -> dict[str, dict[str, Any]]:
    """The effective config the hub renders, harness defaults included."""
    return merged_config(
        HubConfigInput(
            namespace="ns",
            singleuser_image="img",
            pull_policy="IfNotPresent",
            kubespawner=settings.kubespawner,
            hub_config=settings.hub_config,
        )
    )


def _diff(before: HubSettings, change: ConfigChange) -> tuple[HubSettings, list[TraitDiff]]:
    after = before.changed(change)
    return after, diff(_effective(before), _effective(after), change)


def test_set_unset_and_hub_config_set_apply_on_top_of_the_config_in_force() -> None:
    change = ConfigChange(
        kubespawner_set={"pvc_name_template": "claim-{username}", "storage_class": "fast"},
        kubespawner_unset=("storage_capacity",),
        hub_config_set={"JupyterHub.upgrade_db": True},
    )
    after = BASE.changed(change)
    assert dict(after.kubespawner) == {
        "pvc_name_template": "claim-{username}",
        "uid": 1001,
        "storage_class": "fast",
    }
    assert dict(after.hub_config) == {"JupyterHub.upgrade_db": True}
    assert dict(BASE.kubespawner)["storage_capacity"] == "1Gi"  # the old settings are untouched


def test_two_restarts_accumulate() -> None:
    first = BASE.changed(ConfigChange(kubespawner_set={"pvc_name_template": "claim-{username}"}))
    second = first.changed(ConfigChange(kubespawner_unset=("storage_capacity",)))
    assert dict(second.kubespawner) == {"pvc_name_template": "claim-{username}", "uid": 1001}


def test_diff_text_says_what_each_named_trait_was_and_is() -> None:
    change = ConfigChange(
        kubespawner_set={"pvc_name_template": "claim-{username}", "storage_class": "fast"},
        kubespawner_unset=("storage_capacity",),
    )
    _, diffs = _diff(BASE, change)
    assert describe(diffs) == (
        "set pvc_name_template: 'claim-{username}' (was 'claim-{username}--{servername}'); "
        "set storage_class: 'fast' (was not set); "
        "unset storage_capacity (was '1Gi')"
    )
    assert all(d.took_effect for d in diffs)


def test_unset_of_a_trait_the_harness_defaults_names_the_value_that_takes_over() -> None:
    _, diffs = _diff(BASE, ConfigChange(kubespawner_unset=("uid",)))
    assert describe(diffs) == "unset uid (was 1001; now the harness default 1000)"


@pytest.mark.parametrize(
    ("change", "text"),
    [
        (
            ConfigChange(kubespawner_set={"storage_capacity": "1Gi"}),
            "set storage_capacity: '1Gi' (unchanged)",
        ),
        (ConfigChange(kubespawner_unset=("storage_class",)), "unset storage_class (was not set: no change)"),
        (
            ConfigChange(hub_config_set={"JupyterHub.upgrade_db": True}),
            "set JupyterHub.upgrade_db: True (was False)",
        ),
        (
            ConfigChange(hub_config_set={"Spawner.default_url": "/lab"}),
            "set Spawner.default_url: '/lab' (was not set)",
        ),
    ],
)
def test_no_op_and_hub_config_changes(change: ConfigChange, text: str) -> None:
    _, diffs = _diff(BASE, change)
    assert describe(diffs) == text


def test_an_empty_change_is_false_and_a_body_converts() -> None:
    assert not ConfigChange()

    class Body:
        kubespawner_set = {"a": 1}
        kubespawner_unset = ["b"]
        hub_config_set: dict[str, Any] = {}

    change = ConfigChange.of(Body())
    assert change and change.kubespawner_unset == ("b",)
    assert change.touched() == [("set", "KubeSpawner", "a"), ("unset", "KubeSpawner", "b")]


def test_missing_is_distinct_from_none() -> None:
    before = HubSettings(kubespawner={"storage_class": None})
    _, diffs = _diff(before, ConfigChange(kubespawner_unset=("storage_class",)))
    assert diffs[0].before is None and diffs[0].after is MISSING
    assert diffs[0].text() == "unset storage_class (was None)"
