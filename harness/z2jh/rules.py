"""Every values key each chart release accepts, with what it may hold (the chart's values.schema.yaml).

The mapped keys are listed here; the ignored ones come from ``harness.z2jh.ignored_keys``; the
release decides the few that differ (volumes as a mapping from 4.3.0, ``dynamic.subPath``, extra
top-level keys).
"""

from __future__ import annotations

from harness.z2jh import checks
from harness.z2jh.charts import ChartRelease
from harness.z2jh.ignored_keys import HUB_IGNORED, SINGLEUSER_IGNORED, TOP_IGNORED
from harness.z2jh.problems import ValuesPath
from harness.z2jh.walk import JsonType, Rule, Use

_STRING_OR_NULL: tuple[JsonType, ...] = ("string", "null")


def _singleuser_rules(release: ChartRelease) -> dict[str, Rule]:
    """The mapped ``singleuser`` keys (the users' storage, uid and fsGid), by dotted path."""
    volume_types: tuple[JsonType, ...] = ("array",)
    volume_hint = "; the mapping form is accepted from chart 4.3.0 on"
    if release.config.volumes_as_dict:
        volume_types, volume_hint = ("object", "array", "null"), ""
    table: dict[str, Rule] = {
        "singleuser": Rule(("object",)),
        "singleuser.uid": Rule(("integer", "null")),
        "singleuser.fsGid": Rule(("integer", "null")),
        "singleuser.extraFiles": Rule(
            ("object",),
            Use.REJECTED,
            reason="not supported: the chart mounts these from its own k8s Secret, which the harness "
            "does not create; use storage.extraVolumes",
        ),
        "singleuser.profileList": Rule(
            ("array",),
            Use.REJECTED,
            reason="not supported: profiles override traits per spawn through the spawn form; set the "
            "storage values directly",
        ),
        "singleuser.storage": Rule(("object",)),
        "singleuser.storage.type": Rule(("string",), enum=("dynamic", "static", "none"), required=True),
        "singleuser.storage.capacity": Rule(_STRING_OR_NULL),
        "singleuser.storage.homeMountPath": Rule(("string",), required=True),
        "singleuser.storage.extraLabels": Rule(("object",), check=checks.string_values),
        "singleuser.storage.extraVolumes": Rule(
            volume_types, check=checks.entries("volume", ("name",)), hint=volume_hint
        ),
        "singleuser.storage.extraVolumeMounts": Rule(
            volume_types, check=checks.entries("volume mount", ("name", "mountPath")), hint=volume_hint
        ),
        "singleuser.storage.static": Rule(("object",)),
        "singleuser.storage.static.pvcName": Rule(_STRING_OR_NULL),
        "singleuser.storage.static.subPath": Rule(_STRING_OR_NULL),
        "singleuser.storage.dynamic": Rule(("object",)),
        "singleuser.storage.dynamic.storageClass": Rule(_STRING_OR_NULL),
        "singleuser.storage.dynamic.pvcNameTemplate": Rule(_STRING_OR_NULL),
        "singleuser.storage.dynamic.volumeNameTemplate": Rule(_STRING_OR_NULL),
        "singleuser.storage.dynamic.storageAccessModes": Rule(("array",), check=checks.string_items),
    }
    if release.config.dynamic_sub_path:
        table["singleuser.storage.dynamic.subPath"] = Rule(_STRING_OR_NULL)
    return table


def _hub_rules() -> dict[str, Rule]:
    """The mapped (and refused) ``hub`` keys, by dotted path; the same in every release."""
    return {
        "hub": Rule(("object",)),
        "hub.config": Rule(("object",), check=checks.hub_config),
        "hub.allowNamedServers": Rule(("boolean", "null")),
        # the harness's hub always keeps its own sqlite DB; type and upgrade decide --upgrade-db
        "hub.db": Rule(("object",)),
        "hub.db.type": Rule(("string",), enum=("sqlite-pvc", "sqlite-memory", "mysql", "postgres", "other")),
        "hub.db.upgrade": Rule(("boolean", "null")),
        "hub.db.pvc": Rule(("object",), Use.IGNORED),
        "hub.db.url": Rule(_STRING_OR_NULL, Use.IGNORED),
        "hub.db.password": Rule(_STRING_OR_NULL, Use.IGNORED),
        "hub.namedServerLimitPerUser": Rule(("integer", "null")),
        "hub.extraConfig": Rule(
            ("object",),
            Use.REJECTED,
            reason="not supported: arbitrary Python; write traits under hub.config (or the scenario's "
            "kubespawner:) instead",
        ),
        "hub.fsGid": Rule(
            ("integer", "null"),
            Use.REJECTED,
            allow_empty=False,
            reason="the chart refuses to install with hub.fsGid (removed in 2.0.0; it is "
            "hub.podSecurityContext.fsGroup now)",
        ),
    }


def rules_for(release: ChartRelease) -> dict[ValuesPath, Rule]:
    """Every key a values mapping may hold for ``release``, by path."""
    table = {"nameOverride": Rule(_STRING_OR_NULL), **_singleuser_rules(release), **_hub_rules()}
    for prefix, ignored in (("singleuser.", SINGLEUSER_IGNORED), ("hub.", HUB_IGNORED), ("", TOP_IGNORED)):
        for name, types in ignored.items():
            table[prefix + name] = Rule(types, Use.IGNORED)
    for name in release.extra_top_level_keys:
        table[name] = Rule(("object",), Use.IGNORED)
    return {tuple(dotted.split(".")): rule for dotted, rule in table.items()}
