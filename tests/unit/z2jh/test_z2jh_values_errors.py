"""Bad values: every problem names its key path (a tuple the loader maps to file:line:col) and says what
is wrong, never a traceback; map_values raises them all at once."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from harness.z2jh import ValuesProblem, Z2jhValuesError, inspect_values, map_values, validate_values

S = ("singleuser", "storage")
VOLUME = {"name": "v", "emptyDir": {}}


def case(chart: str, values: Any, *problems: tuple[tuple[str | int, ...], str, bool], pins: str) -> Any:
    expected = [ValuesProblem(path, message, key) for path, message, key in problems]
    return pytest.param(chart, values, expected, id=f"{chart}: {pins}")


def storage(**kw: Any) -> dict[str, Any]:
    return {"singleuser": {"storage": kw}}


CASES = [
    case(
        "3.3.8",
        storage(capacity=10),
        ((*S, "capacity"), "expected a string, got integer 10; quote it to make it a string", False),
        pins="values.schema.yaml capacity: type [string, null]",
    ),
    case(
        "4.4.0",
        storage(typo="dynamic"),
        ((*S, "typo"), "unknown key (did you mean 'type'?)", True),
        pins="values.schema.yaml storage: additionalProperties: false",
    ),
    case(
        "4.4.0",
        {"singeluser": {}},
        (("singeluser",), "unknown key (did you mean 'singleuser'?)", True),
        pins="values.schema.yaml top level: additionalProperties: false",
    ),
    case(
        "3.3.8",
        storage(type="dynamik"),
        (
            (*S, "type"),
            "expected one of 'dynamic', 'static', 'none', got string 'dynamik' (did you mean 'dynamic'?)",
            False,
        ),
        pins="values.schema.yaml type: enum [dynamic, static, none]",
    ),
    case(
        "3.3.8",
        storage(dynamic={"subPath": "{username}"}),
        (
            (*S, "dynamic", "subPath"),
            "unknown key; allowed: pvcNameTemplate, storageAccessModes, storageClass, volumeNameTemplate",
            True,
        ),
        pins="dynamic.subPath is new in 4.0.0 (PR 'Allow subPath on dynamic storage')",
    ),
    case(
        "4.0.0",
        storage(extraVolumes={"v": VOLUME}),
        (
            (*S, "extraVolumes"),
            "expected a list, got a mapping; the mapping form is accepted from chart 4.3.0 on",
            False,
        ),
        pins="values.schema.yaml extraVolumes: type array until 4.3.0",
    ),
    case(
        "4.4.0",
        storage(extraVolumes=[{"emptyDir": {}}], extraVolumeMounts={"m": {"name": "v"}, "n": None}),
        ((*S, "extraVolumes", 0), "a volume needs 'name' (a string); it is missing", False),
        ((*S, "extraVolumeMounts", "m"), "a volume mount needs 'mountPath' (a string); it is missing", False),
        ((*S, "extraVolumeMounts", "n"), "expected a mapping (a volume mount), got null", False),
        pins="jupyterhub_config.py \"volumes[volume['name']] = volume\"; KubeSpawner makes V1Volumes",
    ),
    case(
        "3.3.8",
        storage(extraVolumeMounts=["v"]),
        ((*S, "extraVolumeMounts", 0), "expected a mapping (a volume mount), got string 'v'", False),
        pins='jupyterhub_config.py "volume_mounts.extend(...)" items go to V1VolumeMount',
    ),
    case(
        "4.4.0",
        storage(extraLabels={"team": 1, "ok": "yes", "off": None}),
        (
            (*S, "extraLabels", "team"),
            "expected a string, got integer 1; quote it to make it a string",
            False,
        ),
        ((*S, "extraLabels", "off"), "expected a string, got null", False),
        pins="values.schema.yaml extraLabels: patternProperties .*: string",
    ),
    case(
        "3.3.8",
        {"singleuser": {"uid": "1000", "fsGid": True}},
        (("singleuser", "uid"), "expected an integer, got string '1000'", False),
        (("singleuser", "fsGid"), "expected an integer, got boolean true", False),
        pins="values.schema.yaml uid/fsGid: type [integer, null]",
    ),
    case(
        "4.4.0",
        storage(type="static"),
        (
            (*S, "type"),
            "type 'static' needs singleuser.storage.static.pvcName: without it the chart mounts "
            "claimName: null, which the API server rejects",
            False,
        ),
        pins="jupyterhub_config.py \"storage_type == 'static'\" claimName: static.pvcName (default null)",
    ),
    case(
        "3.3.8",
        storage(type="static", static={"pvcName": None}),
        (
            (*S, "static", "pvcName"),
            "type 'static' needs singleuser.storage.static.pvcName: without it the chart "
            "mounts claimName: null, which the API server rejects",
            False,
        ),
        pins="static.pvcName: null points at the key written",
    ),
    case(
        "3.3.8",
        storage(dynamic={"pvcNameTemplate": None}),
        (
            (*S, "dynamic", "pvcNameTemplate"),
            "chart 3.3.8 always sets c.KubeSpawner.pvc_name_template to this "
            "value, and KubeSpawner 6.2.0 cannot name a PVC from an empty or null one",
            False,
        ),
        pins='jupyterhub_config.py "c.KubeSpawner.pvc_name_template = pvc_name_template" unconditionally',
    ),
    case(
        "4.4.0",
        storage(dynamic={"volumeNameTemplate": ""}),
        (
            (*S, "dynamic", "volumeNameTemplate"),
            "type 'dynamic' needs singleuser.storage.dynamic.volumeNameTemplate: "
            "the chart names the home volume with it",
            False,
        ),
        pins='jupyterhub_config.py "name": volume_name_template',
    ),
    case(
        "4.4.0",
        storage(homeMountPath=None, type=None),
        ((*S, "homeMountPath"), "expected a string, got null (a null here deletes the required key)", False),
        (
            (*S, "type"),
            "expected one of 'dynamic', 'static', 'none', got null (a null here deletes the required key)",
            False,
        ),
        pins="values.schema.yaml storage: required [type, homeMountPath]",
    ),
    case(
        "3.3.8",
        {"singleuser": {"storage": None}},
        (
            (*S,),
            "expected a mapping, got null (a null here deletes all the chart's defaults beneath it)",
            False,
        ),
        pins="a null storage would delete type/homeMountPath/dynamic defaults",
    ),
    case(
        "3.3.8",
        {"hub": {"config": {"loadRoles": {"x": {}}}}},
        (
            ("hub", "config", "loadRoles"),
            "'loadRoles' is not a config class name (they start with a capital letter); "
            "did you mean hub.loadRoles?; chart 3.3.8 silently ignores it",
            True,
        ),
        pins='jupyterhub_config.py "c[app].update(cfg)" on a lowercase section is a no-op',
    ),
    case(
        "4.4.0",
        {"hub": {"config": {"jupyterHub": {"x": 1}}}},
        (
            ("hub", "config", "jupyterHub"),
            "'jupyterHub' is not a config class name (they start with a capital letter); "
            "chart 4.4.0 exits on it",
            True,
        ),
        pins='jupyterhub_config.py "if not section[:1].isupper(): ... sys.exit(1)"',
    ),
    case(
        "4.4.0",
        {
            "hub": {
                "config": {
                    "JupyterHub": {"cookie_secret": "x", "services": []},
                    "CryptKeeper": {"keys": ["k"]},
                }
            }
        },
        (
            ("hub", "config", "JupyterHub", "cookie_secret"),
            "not passed through: a secret the chart loads from its k8s Secret",
            True,
        ),
        (
            ("hub", "config", "JupyterHub", "services"),
            "not passed through: dropped by the chart (it builds services from hub.services)",
            True,
        ),
        (
            ("hub", "config", "CryptKeeper", "keys"),
            "not passed through: a secret the chart loads from its k8s Secret",
            True,
        ),
        pins="jupyterhub_config.py \"cfg.pop('cookie_secret', None)\" and friends",
    ),
    case(
        "3.3.8",
        {"hub": {"config": {"KubeSpawner": {"storage_clas": "x"}, "Foo": 5, "Bar": None}}},
        (
            ("hub", "config", "KubeSpawner", "storage_clas"),
            "unknown KubeSpawner trait (did you mean 'storage_class'?); "
            "allowed: the configurable KubeSpawner traits (harness/scenario/kubespawner_traits.py)",
            True,
        ),
        (("hub", "config", "Foo"), "expected a mapping of trait: value, got integer 5", False),
        (("hub", "config", "Bar"), "expected a mapping of trait: value, got null", False),
        pins='jupyterhub_config.py "c[app].update(cfg)" needs a mapping',
    ),
    case(
        "4.4.0",
        {"hub": {"extraConfig": {"a": "c.KubeSpawner.x = 1"}, "fsGid": 1000}},
        (
            ("hub", "extraConfig"),
            "not supported: arbitrary Python; write traits under hub.config (or the scenario's "
            "kubespawner:) instead",
            False,
        ),
        (
            ("hub", "fsGid"),
            "the chart refuses to install with hub.fsGid (removed in 2.0.0; it is "
            "hub.podSecurityContext.fsGroup now)",
            False,
        ),
        pins='jupyterhub_config.py "exec(config_py)"; NOTES.txt "CHANGED: hub.fsGid"',
    ),
    case(
        "4.4.0",
        {"singleuser": {"extraFiles": {"f": {"mountPath": "/f", "stringData": "x"}}, "profileList": [{}]}},
        (
            ("singleuser", "extraFiles"),
            "not supported: the chart mounts these from its own k8s Secret, which the "
            "harness does not create; use storage.extraVolumes",
            False,
        ),
        (
            ("singleuser", "profileList"),
            "not supported: profiles override traits per spawn through the spawn form; "
            "set the storage values directly",
            False,
        ),
        pins='jupyterhub_config.py "secretName": get_name("singleuser")',
    ),
    case(
        "4.4.0",
        {"singleuser": {"memory": "1G", "image": None}, "proxy": {"anything": "goes"}},
        (("singleuser", "memory"), "expected a mapping, got string '1G'", False),
        pins="ignored keys are still type-checked at their own level; nulls and their contents pass",
    ),
    case(
        "3.3.8",
        storage(capacity=datetime.date(2020, 1, 1)),
        ((*S, "capacity"), "YAML read this as a date (2020-01-01); quote it to make it a string", False),
        pins="values are JSON-like data",
    ),
    case("3.3.8", ["singleuser"], ((), "expected a mapping of chart values, got a list", False), pins="root"),
    case("3.3.8", {1: {}}, ((1,), "keys must be strings, got integer 1", True), pins="root keys"),
]


@pytest.mark.parametrize(("chart", "values", "expected"), CASES)
def test_problems(chart: str, values: Any, expected: list[ValuesProblem]) -> None:
    assert validate_values(chart, values) == expected
    with pytest.raises(Z2jhValuesError) as info:
        map_values(chart, values)
    assert list(info.value.problems) == expected
    assert (info.value.path, info.value.message) == (expected[0].path, expected[0].message)


def test_error_text_is_one_line_per_problem_with_dotted_paths() -> None:
    with pytest.raises(Z2jhValuesError) as info:
        map_values("4.4.0", storage(capacity=10, extraVolumes=[{"emptyDir": {}}]))
    assert str(info.value).splitlines() == [
        "singleuser.storage.capacity: expected a string, got integer 10; quote it to make it a string",
        "singleuser.storage.extraVolumes[0]: a volume needs 'name' (a string); it is missing",
    ]


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(storage(type="static", static={"pvcName": "home"}), id="static with a PVC name"),
        pytest.param(
            storage(capacity=None, extraLabels=None, extraVolumes=None), id="nulls that delete defaults"
        ),
        pytest.param(
            {"hub": {"config": {"JupyterHub": None}}}, id="hub.config.JupyterHub: null deletes defaults"
        ),
        pytest.param(
            {"singleuser": {"extraFiles": {}, "profileList": None}}, id="rejected keys at their empty default"
        ),
    ],
)
def test_valid_values_have_no_problems(values: dict[str, Any]) -> None:
    assert validate_values("3.3.8", values) == []


def test_ignored_keys_are_reported() -> None:
    problems, ignored = inspect_values(
        "4.4.0", {"proxy": {}, "singleuser": {"cpu": {"limit": 1}}, "hub": {"db": {"pvc": {}}}}
    )
    assert problems == []
    assert ignored == [("proxy",), ("singleuser", "cpu"), ("hub", "db", "pvc")]
