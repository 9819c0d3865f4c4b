"""Turn z2jh chart values into the KubeSpawner and hub config that chart release would produce.

A scenario that says "z2jh chart 3.3.8 with these values" must run the hub configured exactly as the
chart's own ``jupyterhub_config.py`` would configure it, or an upgrade test (3.3.8 -> 4.x) tests
something no real deployment does. So this module replays, for the storage-relevant part, what that
file does at that tag, in the same order: merge the values over the chart defaults as Helm does
(and read them back key-sorted, as Helm's ``toYaml`` writes them), then the ``hub.*`` JupyterHub
traits, ``common_labels`` (they end up on every PVC), the ``singleuser`` traits, the home volume for
``storage.type``, the extra volumes, and the ``hub.config`` pass-through, which therefore
overrides everything before it; last the one hub command-line flag that matters (``--upgrade-db``).
Where the releases differ the ``ChartRelease`` entry says how, so there is one code path for all.

The output uses the scenario language's own shapes: ``kubespawner`` is ``trait -> value`` as
``c.KubeSpawner.<trait>`` takes it, ``hub_config`` is ``"Class.trait" -> value``. Template strings
such as ``{username}`` are passed on unexpanded: KubeSpawner expands them, per its own release.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.scenario.errors import format_path
from harness.z2jh.charts import CHART_NAME, ChartRelease, ChartVersions, chart_release
from harness.z2jh.helm import as_rendered, coalesce
from harness.z2jh.problems import Z2jhValuesError
from harness.z2jh.schema import inspect_values

#: The Helm release name the labels use (``release``, ``app.kubernetes.io/instance``) by default.
DEFAULT_RELEASE = "jupyterhub"


@dataclass(frozen=True)
class Z2jhConfig:
    """What one chart release makes of one values mapping."""

    chart: str
    versions: ChartVersions
    #: ``c.KubeSpawner.<trait>`` -> value, as a scenario's ``kubespawner:`` takes it.
    kubespawner: dict[str, Any] = field(default_factory=dict)
    #: ``"Class.trait"`` -> value for every other class, as a scenario's ``hub_config:`` takes it.
    hub_config: dict[str, Any] = field(default_factory=dict)
    #: Dotted paths of keys the values set that do not touch storage and so are not applied.
    ignored: tuple[str, ...] = ()


class _Values:
    """``z2jh.get_config`` over the merged values: a missing key (or a non-mapping parent) gives the
    default, a key present with null gives None, exactly as the chart's helper does."""

    def __init__(self, merged: Mapping[str, Any]) -> None:
        self._merged = merged

    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self._merged
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return copy.deepcopy(node)


@dataclass
class _Out:
    kubespawner: dict[str, Any] = field(default_factory=dict)
    hub_config: dict[str, Any] = field(default_factory=dict)
    #: The home volume/mount from storage.type, each under the key the 4.3+ dict form uses.
    volumes: list[tuple[str, Any]] = field(default_factory=list)
    mounts: list[tuple[str, Any]] = field(default_factory=list)

    def set_if_not_none(self, trait: str, value: Any) -> None:
        """The chart's ``set_config_if_not_none``."""
        if value is not None:
            self.kubespawner[trait] = value


_Step = Callable[[ChartRelease, _Values, _Out, str], None]


def _hub_traits(chart: ChartRelease, values: _Values, out: _Out, release: str) -> None:
    """``c.JupyterHub`` from ``hub.*`` ("c.JupyterHub configuration from Helm chart's configmap")."""
    for trait, key in (
        ("allow_named_servers", "allowNamedServers"),
        ("named_server_limit_per_user", "namedServerLimitPerUser"),
    ):
        value = values.get(f"hub.{key}")
        if value is not None:
            out.hub_config[f"JupyterHub.{trait}"] = value


def _common_labels(chart: ChartRelease, values: _Values, out: _Out, release: str) -> None:
    """``common_labels`` ("implement common labels"); KubeSpawner puts them on pods *and* PVCs."""
    name_override = values.get("nameOverride")
    app = CHART_NAME if name_override is None else name_override
    chart_label = f"{CHART_NAME}-{chart.version.replace('+', '_')}"
    labels: dict[str, str]
    if chart.config.labels == "3":
        labels = {"app": app, "heritage": "jupyterhub", "chart": chart_label}
        if release:
            labels["release"] = release
    else:
        labels = {"app.kubernetes.io/name": app, "app": app}
        if release:
            labels["app.kubernetes.io/instance"] = labels["release"] = release
        labels["helm.sh/chart"] = labels["chart"] = chart_label
        labels["app.kubernetes.io/managed-by"] = "kubespawner"
    out.kubespawner["common_labels"] = labels


def _singleuser_traits(chart: ChartRelease, values: _Values, out: _Out, release: str) -> None:
    """The storage-relevant entries of the chart's ``singleuser.*`` -> ``c.KubeSpawner`` loop."""
    for trait, key in (("uid", "uid"), ("fs_gid", "fsGid"), ("storage_extra_labels", "storage.extraLabels")):
        out.set_if_not_none(trait, values.get(f"singleuser.{key}"))


def _dynamic(chart: ChartRelease, values: _Values, out: _Out) -> None:
    """``storage_type == "dynamic"``: KubeSpawner creates one PVC per server and mounts it as home."""
    template = values.get("singleuser.storage.dynamic.pvcNameTemplate")
    if chart.config.pvc_name_template_always_set or template:
        out.kubespawner["pvc_name_template"] = template
    volume_name = values.get("singleuser.storage.dynamic.volumeNameTemplate")
    out.kubespawner["storage_pvc_ensure"] = True
    out.set_if_not_none("storage_class", values.get("singleuser.storage.dynamic.storageClass"))
    out.set_if_not_none("storage_access_modes", values.get("singleuser.storage.dynamic.storageAccessModes"))
    out.set_if_not_none("storage_capacity", values.get("singleuser.storage.capacity"))
    claim = template if chart.config.home_claim_name == "pvc_name_template" else chart.config.home_claim_name
    out.volumes.append((volume_name, {"name": volume_name, "persistentVolumeClaim": {"claimName": claim}}))
    mount = {"mountPath": values.get("singleuser.storage.homeMountPath"), "name": volume_name}
    if chart.config.dynamic_sub_path:
        mount["subPath"] = values.get("singleuser.storage.dynamic.subPath")
    out.mounts.append((volume_name, mount))


def _static(chart: ChartRelease, values: _Values, out: _Out) -> None:
    """``storage_type == "static"``: every server mounts one existing PVC, at ``static.subPath``."""
    claim = values.get("singleuser.storage.static.pvcName")
    out.volumes.append(("home", {"name": "home", "persistentVolumeClaim": {"claimName": claim}}))
    out.mounts.append(
        (
            "home",
            {
                "mountPath": values.get("singleuser.storage.homeMountPath"),
                "name": "home",
                "subPath": values.get("singleuser.storage.static.subPath"),
            },
        )
    )


def _no_home(chart: ChartRelease, values: _Values, out: _Out) -> None:
    """``type: none`` (or anything else): the chart configures no home volume at all."""


_HOME: dict[str, Callable[[ChartRelease, _Values, _Out], None]] = {
    "dynamic": _dynamic,
    "static": _static,
    "none": _no_home,
}


def _home_storage(chart: ChartRelease, values: _Values, out: _Out, release: str) -> None:
    _HOME.get(values.get("singleuser.storage.type"), _no_home)(chart, values, out)


def _volumes(chart: ChartRelease, values: _Values, out: _Out, release: str) -> None:
    """The home volume plus ``extraVolumes``/``extraVolumeMounts`` ("Inject extraVolumes")."""
    extra_volumes = values.get(
        "singleuser.storage.extraVolumes", default=[] if not chart.config.volumes_as_dict else {}
    )
    extra_mounts = values.get(
        "singleuser.storage.extraVolumeMounts", default=[] if not chart.config.volumes_as_dict else {}
    )
    if not chart.config.volumes_as_dict:
        # 3.x/4.0-4.2: lists, home first, extras appended as given (a null was deleted by Helm).
        out.kubespawner["volumes"] = [volume for _, volume in out.volumes] + list(extra_volumes or [])
        out.kubespawner["volume_mounts"] = [mount for _, mount in out.mounts] + list(extra_mounts or [])
        return
    # 4.3+: dicts keyed by volume name (list items) or by the user's keys (mapping form); a list
    # item named like the home volume replaces it; mounts from a list are keyed "<index>-<name>".
    volumes: dict[str, Any] = dict(out.volumes)
    if isinstance(extra_volumes, dict):
        volumes.update(extra_volumes)
    elif isinstance(extra_volumes, list):
        for volume in extra_volumes:
            volumes[volume["name"]] = volume
    mounts: dict[str, Any] = dict(out.mounts)
    if isinstance(extra_mounts, dict):
        mounts.update(extra_mounts)
    elif isinstance(extra_mounts, list):
        for index, mount in enumerate(extra_mounts):
            mounts[f"{index}-{mount['name']}"] = mount
    out.kubespawner["volumes"] = volumes
    out.kubespawner["volume_mounts"] = mounts


def _hub_config(chart: ChartRelease, values: _Values, out: _Out, release: str) -> None:
    """``hub.config`` pass-through, last, so it overrides what the chart set above."""
    for section, traits in (values.get("hub.config", {}) or {}).items():
        if not traits:
            continue
        if section == "KubeSpawner":
            out.kubespawner.update(traits)
        else:
            for trait, value in traits.items():
                out.hub_config[f"{section}.{trait}"] = value


def _upgrade_db(chart: ChartRelease, values: _Values, out: _Out, release: str) -> None:
    """The hub Deployment's ``--upgrade-db`` flag: a command-line flag, so it wins over the config file.

    The chart passes it for its default sqlite-pvc DB unless ``hub.db.upgrade`` is false, so a chart
    upgrade that brings a newer JupyterHub migrates the DB instead of refusing to start.
    """
    upgrade = values.get("hub.db.upgrade")
    if upgrade is True or (upgrade is None and values.get("hub.db.type") == "sqlite-pvc"):
        out.hub_config["JupyterHub.upgrade_db"] = True


#: The order of jupyterhub_config.py (then the command line), which decides who wins when two set
#: the same trait.
_STEPS: tuple[_Step, ...] = (
    _hub_traits,
    _common_labels,
    _singleuser_traits,
    _home_storage,
    _volumes,
    _hub_config,
    _upgrade_db,
)


def map_values(chart: str, values: Mapping[str, Any], *, release: str = DEFAULT_RELEASE) -> Z2jhConfig:
    """What chart release ``chart`` configures from ``values`` (a user's ``config.yaml``).

    Raises UnknownChartError for a chart the table does not know and Z2jhValuesError (every problem,
    with its key path) for values it would reject or that would leave the hub unable to spawn.
    ``release`` is the Helm release name; it only shows in labels.
    """
    spec = chart_release(chart)
    problems, ignored = inspect_values(chart, values)
    if problems:
        raise Z2jhValuesError(problems)
    merged = _Values(as_rendered(coalesce(spec.defaults, values)))
    out = _Out()
    for step in _STEPS:
        step(spec, merged, out, release)
    return Z2jhConfig(
        chart=spec.version,
        versions=spec.versions,
        kubespawner=out.kubespawner,
        hub_config=out.hub_config,
        ignored=tuple(format_path(path) for path in ignored),
    )
