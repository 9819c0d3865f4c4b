"""map_values pinned case by case against what each chart release's jupyterhub_config.py does.

Each row is (chart, values, expected KubeSpawner traits, expected other hub config). Only the traits
the row names are compared, each exactly (``ABSENT``: the chart does not set it); the id names the
chart source line the row pins. The expectations were written from the chart files at the tags and
cross-checked by executing those files (see the report of the z2jh branch), not taken from the code.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.hub.config import HubConfigInput, merged_config, render_hub_config
from harness.scenario.kubespawner_traits import KUBESPAWNER_TRAITS
from harness.scenario.loader import _HUB_CONFIG_KEY
from harness.z2jh import DEFAULT_RELEASE, map_values

ABSENT = object()

LABELS_3 = {
    "app": "jupyterhub",
    "heritage": "jupyterhub",
    "chart": "jupyterhub-3.3.8",
    "release": "jupyterhub",
}


def labels_4(chart: str, app: str = "jupyterhub", release: str = DEFAULT_RELEASE) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": app,
        "app": app,
        "app.kubernetes.io/instance": release,
        "release": release,
        "helm.sh/chart": f"jupyterhub-{chart}",
        "chart": f"jupyterhub-{chart}",
        "app.kubernetes.io/managed-by": "kubespawner",
    }


HOME_338 = {
    "name": "volume-{username}{servername}",
    "persistentVolumeClaim": {"claimName": "claim-{username}{servername}"},
}
MOUNT_338 = {"mountPath": "/home/jovyan", "name": "volume-{username}{servername}"}
HOME_4 = {"name": "volume-{user_server}", "persistentVolumeClaim": {"claimName": "{pvc_name}"}}
MOUNT_4 = {"mountPath": "/home/jovyan", "name": "volume-{user_server}", "subPath": None}
STATIC_HOME = {"name": "home", "persistentVolumeClaim": {"claimName": "shared-home"}}
STATIC_MOUNT = {"mountPath": "/home/jovyan", "name": "home", "subPath": "{username}"}
SHARED = {"name": "shared", "persistentVolumeClaim": {"claimName": "shared-data"}}
SHARED_MOUNT = {"name": "shared", "mountPath": "/shared", "readOnly": True}
#: The chart's own hub.config default (values.yaml "hub.config.JupyterHub").
HUB_DEFAULTS = {
    "JupyterHub.allow_named_servers": False,
    "JupyterHub.admin_access": True,
    "JupyterHub.authenticator_class": "dummy",
}
NO_DYNAMIC = {
    "pvc_name_template": ABSENT,
    "storage_pvc_ensure": ABSENT,
    "storage_class": ABSENT,
    "storage_access_modes": ABSENT,
    "storage_capacity": ABSENT,
}
STATIC = {"singleuser": {"storage": {"type": "static", "static": {"pvcName": "shared-home"}}}}
EXTRA_LIST = {
    "singleuser": {"storage": {"extraVolumes": [SHARED], "extraVolumeMounts": [SHARED_MOUNT]}},
}
CUSTOM_DYNAMIC = {
    "singleuser": {
        "storage": {
            "capacity": "1Gi",
            "homeMountPath": "/home/user",
            "dynamic": {
                "storageClass": "fast",
                "pvcNameTemplate": "home-{username}--{servername}",
                "volumeNameTemplate": "home",
                "storageAccessModes": ["ReadWriteMany"],
            },
        }
    }
}


def row(
    chart: str, values: dict[str, Any], kubespawner: dict[str, Any], hub: dict[str, Any] | None, pins: str
) -> Any:
    return pytest.param(chart, values, kubespawner, hub or {}, id=f"{chart}:jupyterhub_config.py {pins}")


CASES = [
    # --------------------------------------------------------------------------------- defaults only
    row(
        "3.3.8",
        {},
        {
            "common_labels": LABELS_3,
            "uid": 1000,
            "fs_gid": 100,
            "storage_extra_labels": {},
            "pvc_name_template": "claim-{username}{servername}",
            "storage_pvc_ensure": True,
            "storage_class": ABSENT,
            "storage_access_modes": ["ReadWriteOnce"],
            "storage_capacity": "10Gi",
            "volumes": [HOME_338],
            "volume_mounts": [MOUNT_338],
        },
        HUB_DEFAULTS,
        'defaults: "c.KubeSpawner.pvc_name_template = pvc_name_template" claimName: pvc_name_template',
    ),
    *(
        row(
            chart,
            {},
            {
                "common_labels": labels_4(chart),
                "uid": 1000,
                "fs_gid": 100,
                "storage_extra_labels": {},
                "pvc_name_template": ABSENT,
                "storage_pvc_ensure": True,
                "storage_class": ABSENT,
                "storage_access_modes": ["ReadWriteOnce"],
                "storage_capacity": "10Gi",
                "volumes": volumes,
                "volume_mounts": mounts,
            },
            HUB_DEFAULTS,
            'defaults: "if pvc_name_template:" unset, claimName "{pvc_name}", subPath dynamic.subPath',
        )
        for chart, volumes, mounts in (
            ("4.0.0", [HOME_4], [MOUNT_4]),
            ("4.4.0", {"volume-{user_server}": HOME_4}, {"volume-{user_server}": MOUNT_4}),
        )
    ),
    # ------------------------------------------------------------------------------ dynamic, custom
    row(
        "3.3.8",
        CUSTOM_DYNAMIC,
        {
            "pvc_name_template": "home-{username}--{servername}",
            "storage_pvc_ensure": True,
            "storage_class": "fast",
            "storage_access_modes": ["ReadWriteMany"],
            "storage_capacity": "1Gi",
            "volumes": [
                {"name": "home", "persistentVolumeClaim": {"claimName": "home-{username}--{servername}"}}
            ],
            "volume_mounts": [{"mountPath": "/home/user", "name": "home"}],
        },
        None,
        "\"storage_type == 'dynamic'\" custom template/class/capacity/access modes",
    ),
    *(
        row(
            chart,
            CUSTOM_DYNAMIC,
            {
                "pvc_name_template": "home-{username}--{servername}",
                "storage_pvc_ensure": True,
                "storage_class": "fast",
                "storage_access_modes": ["ReadWriteMany"],
                "storage_capacity": "1Gi",
                "volumes": volumes,
                "volume_mounts": mounts,
            },
            None,
            "\"storage_type == 'dynamic'\" custom template/class/capacity/access modes",
        )
        for chart, volumes, mounts in (
            (
                "4.0.0",
                [{"name": "home", "persistentVolumeClaim": {"claimName": "{pvc_name}"}}],
                [{"mountPath": "/home/user", "name": "home", "subPath": None}],
            ),
            (
                "4.4.0",
                {"home": {"name": "home", "persistentVolumeClaim": {"claimName": "{pvc_name}"}}},
                {"home": {"mountPath": "/home/user", "name": "home", "subPath": None}},
            ),
        )
    ),
    *(
        row(
            chart,
            {"singleuser": {"storage": {"dynamic": {"pvcNameTemplate": ""}}}},
            {"pvc_name_template": ABSENT, "storage_pvc_ensure": True},
            None,
            '"if pvc_name_template:" an empty template leaves KubeSpawner\'s default',
        )
        for chart in ("4.0.0", "4.4.0")
    ),
    row(
        "4.0.0",
        {"singleuser": {"storage": {"dynamic": {"subPath": "{username}"}}}},
        {
            "volume_mounts": [
                {"mountPath": "/home/jovyan", "name": "volume-{user_server}", "subPath": "{username}"}
            ]
        },
        None,
        '"subPath": get_config("singleuser.storage.dynamic.subPath")',
    ),
    row(
        "4.4.0",
        {"singleuser": {"storage": {"dynamic": {"subPath": "{username}"}}}},
        {
            "volume_mounts": {
                "volume-{user_server}": {
                    "mountPath": "/home/jovyan",
                    "name": "volume-{user_server}",
                    "subPath": "{username}",
                }
            }
        },
        None,
        '"subPath": get_config("singleuser.storage.dynamic.subPath")',
    ),
    *(
        row(
            chart,
            {
                "singleuser": {
                    "storage": {"capacity": None, "dynamic": {"storageAccessModes": None, "storageClass": ""}}
                }
            },
            {"storage_capacity": ABSENT, "storage_access_modes": ABSENT, "storage_class": ""},
            None,
            'set_config_if_not_none: a null deletes the default, "" is not None',
        )
        for chart in ("3.3.8", "4.0.0", "4.4.0")
    ),
    # ------------------------------------------------------------------------------------- static
    *(
        row(
            chart,
            STATIC,
            {**NO_DYNAMIC, "volumes": volumes, "volume_mounts": mounts},
            None,
            "\"storage_type == 'static'\" pvcName, subPath default '{username}'",
        )
        for chart, volumes, mounts in (
            ("3.3.8", [STATIC_HOME], [STATIC_MOUNT]),
            ("4.0.0", [STATIC_HOME], [STATIC_MOUNT]),
            ("4.4.0", {"home": STATIC_HOME}, {"home": STATIC_MOUNT}),
        )
    ),
    *(
        row(
            chart,
            {
                "singleuser": {
                    "storage": {"type": "static", "static": {"pvcName": "shared-home", "subPath": None}}
                }
            },
            {"volume_mounts": mounts},
            None,
            "\"storage_type == 'static'\" a null subPath deletes '{username}': the whole PVC is home",
        )
        for chart, mounts in (
            ("3.3.8", [{**STATIC_MOUNT, "subPath": None}]),
            ("4.4.0", {"home": {**STATIC_MOUNT, "subPath": None}}),
        )
    ),
    # --------------------------------------------------------------------------------------- none
    *(
        row(
            chart,
            {"singleuser": {"storage": {"type": "none"}}},
            {**NO_DYNAMIC, "volumes": empty, "volume_mounts": empty},
            None,
            'type none: no branch taken; "Inject extraVolumes" leaves the volumes empty',
        )
        for chart, empty in (("3.3.8", []), ("4.0.0", []), ("4.4.0", {}))
    ),
    # ------------------------------------------------------------------------------ extra volumes
    *(
        row(
            chart,
            EXTRA_LIST,
            {"volumes": [home, SHARED], "volume_mounts": [mount, SHARED_MOUNT]},
            None,
            '"c.KubeSpawner.volumes.extend(...extraVolumes...)" appended after home',
        )
        for chart, home, mount in (("3.3.8", HOME_338, MOUNT_338), ("4.0.0", HOME_4, MOUNT_4))
    ),
    row(
        "4.4.0",
        EXTRA_LIST,
        {
            "volumes": {"volume-{user_server}": HOME_4, "shared": SHARED},
            "volume_mounts": {"volume-{user_server}": MOUNT_4, "0-shared": SHARED_MOUNT},
        },
        None,
        "\"volumes[volume['name']] = volume\" / \"volume_mounts[f'{idx}-{name}']\" list form keyed",
    ),
    row(
        "4.4.0",
        {
            "singleuser": {
                "storage": {"extraVolumes": {"b": SHARED}, "extraVolumeMounts": {"b": SHARED_MOUNT}}
            }
        },
        {
            "volumes": {"volume-{user_server}": HOME_4, "b": SHARED},
            "volume_mounts": {"volume-{user_server}": MOUNT_4, "b": SHARED_MOUNT},
        },
        None,
        '"volumes.update(extra_volumes)" dict form keeps the user\'s keys',
    ),
    row(
        "4.4.0",
        {
            "singleuser": {
                "storage": {
                    **STATIC["singleuser"]["storage"],
                    "extraVolumes": [{"name": "home", "emptyDir": {}}],
                    "extraVolumeMounts": {"home": {"name": "home", "mountPath": "/tmp/home"}},
                }
            }
        },
        {
            "volumes": {"home": {"name": "home", "emptyDir": {}}},
            "volume_mounts": {"home": {"name": "home", "mountPath": "/tmp/home"}},
        },
        None,
        "\"volumes[volume['name']] = volume\" an extra volume named 'home' replaces the static home",
    ),
    row(
        "4.4.0",
        {"singleuser": {"storage": {"type": "none", "extraVolumes": None, "extraVolumeMounts": None}}},
        {"volumes": {}, "volume_mounts": {}},
        None,
        '"isinstance(extra_volumes, dict)" a null (the 4.4.0 default) adds nothing',
    ),
    row(
        "3.3.8",
        {"singleuser": {"storage": {"type": "none", "extraVolumes": [SHARED], "extraVolumeMounts": None}}},
        {"volumes": [SHARED], "volume_mounts": []},
        None,
        '"volumes.extend(...)" on type none; a null deletes the [] default',
    ),
    # ----------------------------------------------------------------------- labels, uid, fs_gid
    *(
        row(
            chart,
            {"singleuser": {"storage": {"extraLabels": {"team": "a", "hub.jupyter.org/x": "y"}}}},
            {"storage_extra_labels": {"hub.jupyter.org/x": "y", "team": "a"}},
            None,
            '("storage_extra_labels", "storage.extraLabels") keys sorted as Helm\'s toYaml writes them',
        )
        for chart in ("3.3.8", "4.4.0")
    ),
    *(
        row(
            chart,
            {"singleuser": {"uid": 0, "fsGid": None}},
            {"uid": 0, "fs_gid": ABSENT},
            None,
            '("uid", None), ("fs_gid", None): 0 is set, a null deletes 100',
        )
        for chart in ("3.3.8", "4.0.0", "4.4.0")
    ),
    row(
        "3.3.8",
        {"nameOverride": "myhub"},
        {"common_labels": {**LABELS_3, "app": "myhub"}},
        None,
        'common_labels["app"] = get_config("nameOverride", ...)',
    ),
    row(
        "4.4.0",
        {"nameOverride": "myhub"},
        {"common_labels": labels_4("4.4.0", app="myhub")},
        None,
        'common_labels["app.kubernetes.io/name"] = common_labels["app"] = nameOverride',
    ),
    # ----------------------------------------------------------------------------- hub settings
    *(
        row(
            chart,
            {
                "hub": {
                    "allowNamedServers": True,
                    "namedServerLimitPerUser": 2,
                    "config": {
                        "KubeSpawner": {"delete_pvc": False, "storage_capacity": "5Gi"},
                        "Spawner": {"default_url": "/lab"},
                        "JupyterHub": {"admin_access": None},
                    },
                }
            },
            {"delete_pvc": False, "storage_capacity": "5Gi"},
            {
                "JupyterHub.allow_named_servers": True,
                "JupyterHub.named_server_limit_per_user": 2,
                "JupyterHub.authenticator_class": "dummy",
                "JupyterHub.admin_access": ABSENT,
                "Spawner.default_url": "/lab",
            },
            '"c[app].update(cfg)" passes hub.config through last, over storage.capacity',
        )
        for chart in ("3.3.8", "4.4.0")
    ),
    *(
        row(
            chart,
            {
                "hub": {
                    "config": {"JupyterHub": {"allow_named_servers": True}, "KubeSpawner": {"volumes": []}}
                }
            },
            {"volumes": []},
            {**HUB_DEFAULTS, "JupyterHub.allow_named_servers": True},
            "hub.config.JupyterHub overrides hub.allowNamedServers; KubeSpawner.volumes replaces home",
        )
        for chart in ("3.3.8", "4.0.0", "4.4.0")
    ),
    # -------------------------------------------------------- --upgrade-db (templates/hub/deployment.yaml)
    *(
        row(chart, values, {}, {"JupyterHub.upgrade_db": upgrade}, pins)
        for chart in ("3.3.8", "4.0.0", "4.4.0")
        for values, upgrade, pins in (
            ({}, True, "--upgrade-db: hub.db.upgrade null and hub.db.type sqlite-pvc (both defaults)"),
            ({"hub": {"db": {"upgrade": False}}}, ABSENT, "no --upgrade-db: hub.db.upgrade false"),
            ({"hub": {"db": {"type": "postgres"}}}, ABSENT, "no --upgrade-db: a DB you upgrade yourself"),
            (
                {"hub": {"db": {"type": "postgres", "upgrade": True}}},
                True,
                "--upgrade-db: hub.db.upgrade true, any type",
            ),
            (
                {"hub": {"config": {"JupyterHub": {"upgrade_db": False}}}},
                True,
                "--upgrade-db on the command line wins over hub.config",
            ),
        )
    ),
    row(
        "4.4.0",
        {"hub": {"config": None}},
        {},
        {"JupyterHub.allow_named_servers": False, "JupyterHub.admin_access": ABSENT},
        "\"get_config('hub.config', {})\" a null hub.config deletes the chart's JupyterHub defaults",
    ),
]


def _check(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    for name, value in expected.items():
        if value is ABSENT:
            assert name not in actual, f"{name} should not be set, is {actual[name]!r}"
        else:
            assert name in actual, f"{name} is not set"
            assert actual[name] == value, name
            if isinstance(value, dict):  # dict form: the chart's insertion order, too
                assert list(actual[name]) == list(value), name


@pytest.mark.parametrize(("chart", "values", "kubespawner", "hub_config"), CASES)
def test_map_values(
    chart: str, values: dict[str, Any], kubespawner: dict[str, Any], hub_config: dict[str, Any]
) -> None:
    config = map_values(chart, values)
    _check(config.kubespawner, kubespawner)
    _check(config.hub_config, hub_config)


@pytest.mark.parametrize(
    ("chart", "kubespawner", "jupyterhub"),
    [("3.3.8", "6.2.0", "4.1.6"), ("4.0.0", "7.0.0", "5.2.1"), ("4.4.0", "7.0.0", "5.5.0")],
)
def test_versions_come_from_the_chart(chart: str, kubespawner: str, jupyterhub: str) -> None:
    config = map_values(chart, {})
    assert (config.chart, config.versions.kubespawner, config.versions.jupyterhub) == (
        chart,
        kubespawner,
        jupyterhub,
    )


def test_only_the_storage_traits_and_passthrough_are_set() -> None:
    """Nothing beyond what the chart's storage-relevant lines set, so nothing is invented."""
    config = map_values(
        "4.4.0", {"singleuser": {"memory": {"limit": "1G"}, "image": {"name": "x", "tag": "1"}}}
    )
    assert set(config.kubespawner) == {
        "common_labels",
        "uid",
        "fs_gid",
        "storage_extra_labels",
        "storage_pvc_ensure",
        "storage_access_modes",
        "storage_capacity",
        "volumes",
        "volume_mounts",
    }
    assert config.ignored == ("singleuser.memory", "singleuser.image")


def test_release_name_only_changes_labels() -> None:
    named = map_values("3.3.8", {}, release="jhub")
    unnamed = map_values("3.3.8", {}, release="")
    assert named.kubespawner["common_labels"]["release"] == "jhub"
    assert "release" not in unnamed.kubespawner["common_labels"]
    assert {k: v for k, v in named.kubespawner.items() if k != "common_labels"} == {
        k: v for k, v in unnamed.kubespawner.items() if k != "common_labels"
    }


def test_values_are_not_shared_with_the_input() -> None:
    values = {"singleuser": {"storage": {"extraVolumes": [{"name": "a", "emptyDir": {}}]}}}
    config = map_values("3.3.8", values)
    config.kubespawner["volumes"][1]["emptyDir"]["medium"] = "Memory"
    assert values["singleuser"]["storage"]["extraVolumes"][0] == {"name": "a", "emptyDir": {}}
    assert map_values("3.3.8", values).kubespawner["volumes"][1] == {"name": "a", "emptyDir": {}}


@pytest.mark.parametrize(("chart", "values", "kubespawner", "hub_config"), CASES)
def test_output_is_what_a_scenario_may_say(
    chart: str, values: dict[str, Any], kubespawner: dict[str, Any], hub_config: dict[str, Any]
) -> None:
    """The lead feeds the output into the scenario's kubespawner:/hub_config:, so it must pass the same
    name checks and render as literals in the hub's jupyterhub_config.py."""
    config = map_values(chart, values)
    assert set(config.kubespawner) <= KUBESPAWNER_TRAITS
    assert all(_HUB_CONFIG_KEY.match(key) and not key.startswith("KubeSpawner.") for key in config.hub_config)
    inp = HubConfigInput("ns", "img:1", "Never", kubespawner=config.kubespawner, hub_config=config.hub_config)
    rendered = merged_config(inp)
    assert {k: rendered["KubeSpawner"][k] for k in config.kubespawner} == config.kubespawner
    render_hub_config(inp)
