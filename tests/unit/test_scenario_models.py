"""The scenario language accepts what the README documents and keeps what the runner needs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.scenario import STEP_BODIES, ScenarioError, parse_scenario
from harness.scenario.kubespawner_traits import KUBESPAWNER_TRAITS
from harness.scenario.loader import load_scenario
from harness.scenario.schema import SCHEMA_HEADER, render_schema

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))

EXAMPLE = """\
name: example
description: every step once
kubespawner:
  storage_pvc_ensure: true
  volumes: [{name: home, persistentVolumeClaim: {claimName: "claim-{username}"}}]
hub_config:
  JupyterHub.allow_named_servers: true
users:
  - name: alice
    named_servers: [work]
steps:
  - start: {user: alice, server: work}
  - write_file: {user: alice, path: a.txt, content: "x"}
  - expect_file: {user: alice, path: a.txt, content: "x"}
  - expect_pvc: {name: claim-alice, size: 1Gi, storage_class: standard, access_modes: [ReadWriteOnce]}
    kubespawner: ">=7"
  - expect_pvc: {name: claim-alice, exists: false}
    kubespawner: "<7"
    jupyterhub: ">=5"
  - expect_mount: {user: alice, path: /home/jovyan, claim: claim-alice, sub_path: home, check: spec}
  - expect_spawn_failure: {user: alice, message: "exceeded quota"}
  - restart_hub: {kubespawner: 7.1.0}
  - restart_cluster:
  - stop: {user: alice}
  - delete_server: {user: alice, server: work}
  - upgrade_chart: {chart: "4.4.0", values: {hub: {allowNamedServers: true}}, kubespawner: under-test}
  - restart_hub: {kubespawner_set: {pvc_name_template: "claim-{username}-home"}, kubespawner_unset: [cmd]}
  - expect_pvcs: {only: [claim-alice, claim-alice-home]}
  - write_file: {pvc: claim-alice, sub_path: home, path: b.txt, content: "y"}
  - expect_file: {pvc: claim-alice, path: home/b.txt, content: "y"}
  - create_pv: {name: home, size: 1Gi, access_modes: [ReadWriteMany]}
  - create_pvc: {name: home, size: 1Gi, access_modes: [ReadWriteMany], volume_name: home}
  - resize_pvc: {name: home, size: 2Gi, rejected: "only dynamically provisioned pvc can be resized"}
  - delete_pod: {user: alice}
  - delete_pvc: {name: home, wait: false}
  - observe: {user: alice, server: work, label: at the end}
finally:
  - delete_user: {user: alice}
"""


def test_example_covers_every_step_kind() -> None:
    scenario = parse_scenario(EXAMPLE, "example.yaml")
    kinds = {step.kind for step in [*scenario.steps, *scenario.finally_]}
    assert kinds == set(STEP_BODIES)


def test_steps_keep_their_line_numbers() -> None:
    scenario = parse_scenario(EXAMPLE, "example.yaml")
    assert [step.location.line for step in scenario.steps[:4]] == [12, 13, 14, 15]
    assert str(scenario.steps[0].location) == "example.yaml:12:5"
    assert str(scenario.finally_[0].location) == "example.yaml:38:5"
    assert scenario.source == "example.yaml"


def test_config_is_kept_verbatim() -> None:
    scenario = parse_scenario(EXAMPLE, "example.yaml")
    assert scenario.kubespawner["volumes"][0]["persistentVolumeClaim"]["claimName"] == "claim-{username}"
    assert scenario.hub_config == {"JupyterHub.allow_named_servers": True}


def test_bodies_have_defaults_and_null_body_is_empty() -> None:
    scenario = parse_scenario(EXAMPLE, "example.yaml")
    write = scenario.steps[1].body
    assert write.model_dump() == {
        "user": "alice",
        "server": "",
        "pvc": None,
        "sub_path": None,
        "path": "a.txt",
        "content": "x",
        "rejected": None,
    }
    assert scenario.steps[8].kind == "restart_cluster"
    assert scenario.steps[7].body.model_dump() == {
        "kubespawner": "7.1.0",
        "jupyterhub": None,
        "kubespawner_set": {},
        "kubespawner_unset": [],
        "hub_config_set": {},
    }
    assert not scenario.steps[7].body.changes_config


def test_config_changes_and_claim_files() -> None:
    steps = parse_scenario(EXAMPLE, "example.yaml").steps
    restart, pvcs, write, read = (step.body for step in steps[12:16])
    assert restart.changes_config and restart.kubespawner_set == {
        "pvc_name_template": "claim-{username}-home"
    }
    assert restart.kubespawner_unset == ["cmd"]
    assert pvcs.only == ["claim-alice", "claim-alice-home"]
    assert (write.user, write.pvc, write.sub_path) == (None, "claim-alice", "home")
    assert (read.pvc, read.path, read.content) == ("claim-alice", "home/b.txt", "y")


@pytest.mark.parametrize(
    ("kubespawner", "jupyterhub", "expected"),
    [
        ("7.1.0", "6.1.1", [True, False]),
        ("7.0.0", "4.0.0", [True, False]),
        ("6.2.0", "5.5.4", [False, True]),
        ("6.2.0", "4.1.0", [False, False]),
        ("7.2.0rc1", "6.1.1", [True, False]),
    ],
)
def test_version_gates(kubespawner: str, jupyterhub: str, expected: list[bool]) -> None:
    gated = parse_scenario(EXAMPLE, "example.yaml").steps[3:5]
    assert [step.applies_to(kubespawner, jupyterhub) for step in gated] == expected


def test_ungated_step_applies_everywhere() -> None:
    step = parse_scenario(EXAMPLE, "example.yaml").steps[0]
    assert step.applies_to("0.1", "0.1")


def test_models_are_immutable() -> None:
    scenario = parse_scenario(EXAMPLE, "example.yaml")
    with pytest.raises(ValueError, match="frozen"):
        scenario.name = "other"


def test_all_problems_are_reported_at_once() -> None:
    text = EXAMPLE.replace("start: {user: alice, server: work}", "start: {usr: alice}").replace(
        "storage_pvc_ensure", "pvc"
    )
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "x.yaml")
    assert [problem.path for problem in caught.value.problems] == [
        "kubespawner",
        "steps[0].start",
        "steps[0].start",
    ]


@pytest.mark.parametrize("path", SCENARIOS, ids=[path.stem for path in SCENARIOS])
def test_repository_scenarios_load_and_carry_the_schema_header(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert path.read_text(encoding="utf-8").splitlines()[0] == SCHEMA_HEADER


def test_committed_schema_is_current() -> None:
    committed = (ROOT / "scenarios" / "scenario.schema.json").read_text(encoding="utf-8")
    assert committed == render_schema(), (
        "scenarios/scenario.schema.json is stale; run: python -m harness.scenario.schema > "
        "scenarios/scenario.schema.json (or nox -s schema)"
    )


def test_schema_lists_every_step_and_trait() -> None:
    schema = json.loads(render_schema())
    items = schema["properties"]["steps"]["items"]["oneOf"]
    assert len(items) == len(STEP_BODIES)
    assert set(schema["properties"]["kubespawner"]["propertyNames"]["enum"]) == KUBESPAWNER_TRAITS


def test_trait_list_covers_installed_kubespawner() -> None:
    kubespawner = pytest.importorskip("kubespawner")
    installed = set(kubespawner.KubeSpawner.class_trait_names(config=True))
    missing = installed - KUBESPAWNER_TRAITS
    assert not missing, f"add to harness/scenario/kubespawner_traits.py: {sorted(missing)}"


def _schema_validator() -> Any:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(render_schema())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schema_accepts_what_the_loader_accepts() -> None:
    validator = _schema_validator()
    documents = [yaml.safe_load(EXAMPLE)] + [yaml.safe_load(path.read_text()) for path in SCENARIOS]
    for document in documents:
        assert [error.message for error in validator.iter_errors(document)] == []


@pytest.mark.parametrize(
    "case",
    [
        "unknown-step",
        "unknown-body-field",
        "wrong-types",
        "unknown-trait",
        "two-steps-in-one-item",
        "restart-hub-unknown-traits",
        "restart-hub-wrong-types",
        "expect-pvcs-malformed",
    ],
)
def test_schema_rejects_what_the_loader_rejects(case: str) -> None:
    validator = _schema_validator()
    document = yaml.safe_load((Path(__file__).parent / "scenarios_malformed" / f"{case}.yaml").read_text())
    assert list(validator.iter_errors(document))


def test_readme_example_is_a_valid_scenario() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    scenario = parse_scenario(example, "README.md")
    assert scenario.name == "seed-multi-user"
    assert {step.kind for step in scenario.steps} >= {"start", "expect_pvc", "expect_mount", "write_file"}
    assert [error.message for error in _schema_validator().iter_errors(yaml.safe_load(example))] == []


def test_every_readme_scenario_example_is_valid() -> None:
    """The README shows one complete scenario per capability; each must load and match the schema."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [part.split("```", 1)[0] for part in readme.split("```yaml\n")[1:]]
    examples = [block for block in blocks if block.startswith(SCHEMA_HEADER)]
    kinds: set[str] = set()
    for example in examples:
        scenario = parse_scenario(example, "README.md")
        kinds |= {step.kind for step in scenario.steps}
        assert [error.message for error in _schema_validator().iter_errors(yaml.safe_load(example))] == []
    assert len(examples) >= 3 and {"expect_pvcs", "restart_hub", "write_file"} <= kinds


def test_anchors_and_merge_keys_work_and_keep_locations() -> None:
    text = (
        "name: a\ndescription: d\nusers: [{name: alice}]\nsteps:\n"
        "  - start: &alice {user: alice}\n  - stop: *alice\n"
        "  - write_file: {<<: *alice, path: x, content: y}\n"
    )
    scenario = parse_scenario(text, "a.yaml")
    assert [step.body.model_dump()["user"] for step in scenario.steps] == ["alice"] * 3
    assert [str(step.location) for step in scenario.steps] == ["a.yaml:5:5", "a.yaml:6:5", "a.yaml:7:5"]


def test_write_file_rejected_goes_with_a_server_not_a_claim() -> None:
    from harness.scenario.bodies import WriteFileStep

    assert WriteFileStep(user="alice", path="a", content="x", rejected="Permission denied").rejected
    with pytest.raises(ValueError, match="'rejected' checks a save through a server's contents API"):
        WriteFileStep(pvc="claim-alice", path="a", content="x", rejected="Permission denied")


def test_create_pv_mode_is_octal() -> None:
    from harness.scenario.cluster_bodies import CreatePvStep

    assert CreatePvStep(name="team", size="1Gi").mode == "0777"
    assert CreatePvStep(name="team", size="1Gi", mode="0755").mode == "0755"
    with pytest.raises(ValueError, match="pattern"):
        CreatePvStep(name="team", size="1Gi", mode="rwx")
