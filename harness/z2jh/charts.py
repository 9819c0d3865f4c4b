"""The Zero to JupyterHub chart releases the harness can imitate, and what each one ships.

A z2jh scenario names a chart version, not a KubeSpawner version: the chart pins the hub image's
KubeSpawner and JupyterHub, and its ``values.yaml`` and ``jupyterhub_config.py`` decide how storage
values become KubeSpawner traits. This table records, per chart release, the pinned versions, the
chart defaults the mapping reads (only the storage-relevant subset of ``values.yaml``) and the few
ways the chart's config file differs between releases. Every entry was read from the chart's own
files at the release tag (``file@tag``); change one only with the file that proves it.

Evidence, all from github.com/jupyterhub/zero-to-jupyterhub-k8s at the tag named:

- versions: ``images/hub/requirements.txt`` pins ``jupyterhub-kubespawner==6.2.0`` and
  ``jupyterhub==4.1.6`` @3.3.8; ``7.0.0`` and ``5.2.1`` @4.0.0; ``7.0.0`` and ``5.5.0`` @4.4.0
  (``jupyterhub/Chart.yaml`` ``appVersion`` agrees: 4.1.6, 5.2.1, 5.5.0).
- defaults: ``jupyterhub/values.yaml`` ``singleuser:`` / ``hub:`` @tag. 3.3.8 sets
  ``dynamic.pvcNameTemplate: claim-{username}{servername}`` and
  ``volumeNameTemplate: volume-{username}{servername}``; 4.0.0 leaves ``pvcNameTemplate`` empty
  (KubeSpawner's own ``claim-{user_server}`` applies), sets ``volume-{user_server}`` and adds
  ``dynamic.subPath``; 4.4.0 changes ``extraVolumes``/``extraVolumeMounts`` from ``[]`` to null.
- config file: ``jupyterhub/files/hub/jupyterhub_config.py`` @tag. 3.3.8 mounts
  ``claimName: <pvcNameTemplate>`` and always sets ``pvc_name_template``; 4.0.0 mounts
  ``claimName: "{pvc_name}"`` and sets the template only when non-empty (z2jh PR #3537); 4.3.0 and
  later build ``volumes``/``volume_mounts`` as dicts (PR #3690) and exit on a ``hub.config`` section
  that does not start with a capital letter (the same file is in 4.3.0 … 4.4.0).
- hub DB upgrade: ``jupyterhub/templates/hub/deployment.yaml`` @3.3.8, @4.0.0 and @4.4.0 pass
  ``--upgrade-db`` when ``hub.db.upgrade`` is true, or when it is null (the default) and
  ``hub.db.type`` is ``sqlite-pvc`` (the default); ``values.yaml`` ``hub.db`` @tag has both defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, NamedTuple

#: The Helm chart's ``Chart.Name`` (``jupyterhub/Chart.yaml``), used in the pods' and PVCs' labels.
CHART_NAME = "jupyterhub"


class ChartVersions(NamedTuple):
    """The releases a chart's hub image runs."""

    kubespawner: str
    jupyterhub: str


@dataclass(frozen=True)
class ConfigFile:
    """How one generation of the chart's ``jupyterhub_config.py`` maps storage values.

    The file text is identical across the tags of a generation (checked by hash): 3.0.3 … 3.3.8,
    4.0.0 … 4.2.0, and 4.3.0 … 4.4.0.
    """

    #: What the home volume's ``persistentVolumeClaim.claimName`` is: the PVC name template itself
    #: (3.x), or KubeSpawner 7's ``{pvc_name}`` field, which follows a remembered or legacy PVC name.
    home_claim_name: Literal["pvc_name_template", "{pvc_name}"]
    #: 3.x sets ``c.KubeSpawner.pvc_name_template`` even when the value is null or empty; 4.x only
    #: when it is non-empty (``if pvc_name_template:``).
    pvc_name_template_always_set: bool
    #: The file reads ``singleuser.storage.dynamic.subPath`` (4.0.0 and later).
    dynamic_sub_path: bool
    #: ``c.KubeSpawner.volumes``/``volume_mounts`` are dicts (4.3.0 and later) instead of lists.
    volumes_as_dict: bool
    #: ``common_labels`` scheme: 3.x ``app/heritage/chart/release``; 4.x adds the
    #: ``app.kubernetes.io/*`` and ``helm.sh/chart`` labels and drops ``heritage``.
    labels: Literal["3", "4"]
    #: What the file does with a ``hub.config`` section whose name is not capitalised.
    lowercase_hub_config_section: Literal["ignored", "fatal"]


CONFIG_3 = ConfigFile(
    home_claim_name="pvc_name_template",
    pvc_name_template_always_set=True,
    dynamic_sub_path=False,
    volumes_as_dict=False,
    labels="3",
    lowercase_hub_config_section="ignored",
)
#: z2jh PR #3537 ("fix default pvc mounting with kubespawner 7") and "Allow subPath on dynamic storage".
CONFIG_4_0 = replace(
    CONFIG_3,
    home_claim_name="{pvc_name}",
    pvc_name_template_always_set=False,
    dynamic_sub_path=True,
    labels="4",
)
#: z2jh PR #3690 (volumes as dicts) and "raise on invalid keys in hub.config".
CONFIG_4_3 = replace(CONFIG_4_0, volumes_as_dict=True, lowercase_hub_config_section="fatal")


@dataclass(frozen=True)
class ChartRelease:
    """One chart release: pinned versions, storage defaults, and its config file's generation."""

    version: str
    versions: ChartVersions
    config: ConfigFile
    #: The subset of the chart's ``values.yaml`` the mapping reads, nested as in the file.
    defaults: Mapping[str, Any]
    #: Top-level values keys this release has beyond the common set (mapping ignores them).
    extra_top_level_keys: tuple[str, ...] = ()
    #: Where each fact above was read.
    evidence: Mapping[str, str] = field(default_factory=dict)


def _release(
    version: str,
    versions: ChartVersions,
    config: ConfigFile,
    *,
    pvc_name_template: str | None,
    volume_name_template: str,
    extra_volumes: list[Any] | None,
    extra_top_level_keys: tuple[str, ...] = (),
) -> ChartRelease:
    dynamic: dict[str, Any] = {
        "storageClass": None,
        "pvcNameTemplate": pvc_name_template,
        "volumeNameTemplate": volume_name_template,
        "storageAccessModes": ["ReadWriteOnce"],
    }
    if config.dynamic_sub_path:
        dynamic["subPath"] = None
    defaults = {
        "nameOverride": None,
        "hub": {
            "config": {"JupyterHub": {"admin_access": True, "authenticator_class": "dummy"}},
            "allowNamedServers": False,
            "namedServerLimitPerUser": None,
            "db": {"type": "sqlite-pvc", "upgrade": None},
            "extraConfig": {},
        },
        "singleuser": {
            "extraFiles": {},
            "profileList": [],
            "uid": 1000,
            "fsGid": 100,
            "storage": {
                "type": "dynamic",
                "extraLabels": {},
                "extraVolumes": None if extra_volumes is None else list(extra_volumes),
                "extraVolumeMounts": None if extra_volumes is None else list(extra_volumes),
                "static": {"pvcName": None, "subPath": "{username}"},
                "capacity": "10Gi",
                "homeMountPath": "/home/jovyan",
                "dynamic": dynamic,
            },
        },
    }
    requirements = f"images/hub/requirements.txt@{version}"
    evidence = {
        "kubespawner": f"{requirements}: jupyterhub-kubespawner=={versions.kubespawner}",
        "jupyterhub": f"{requirements}: jupyterhub=={versions.jupyterhub}; "
        f'jupyterhub/Chart.yaml@{version}: appVersion: "{versions.jupyterhub}"',
        "defaults": f"jupyterhub/values.yaml@{version}: singleuser.storage, singleuser.uid/fsGid, "
        "hub.config, hub.allowNamedServers, hub.db.type/upgrade",
        "mapping": f"jupyterhub/files/hub/jupyterhub_config.py@{version}",
        "upgrade_db": f"jupyterhub/templates/hub/deployment.yaml@{version}: --upgrade-db",
    }
    return ChartRelease(version, versions, config, defaults, extra_top_level_keys, evidence)


CHARTS: dict[str, ChartRelease] = {
    release.version: release
    for release in (
        _release(
            "3.3.8",
            ChartVersions(kubespawner="6.2.0", jupyterhub="4.1.6"),
            CONFIG_3,
            pvc_name_template="claim-{username}{servername}",
            volume_name_template="volume-{username}{servername}",
            extra_volumes=[],
        ),
        _release(
            "4.0.0",
            ChartVersions(kubespawner="7.0.0", jupyterhub="5.2.1"),
            CONFIG_4_0,
            pvc_name_template=None,
            volume_name_template="volume-{user_server}",
            extra_volumes=[],
        ),
        _release(
            "4.4.0",
            ChartVersions(kubespawner="7.0.0", jupyterhub="5.5.0"),
            CONFIG_4_3,
            pvc_name_template=None,
            volume_name_template="volume-{user_server}",
            extra_volumes=None,
            extra_top_level_keys=("httpRoute",),
        ),
    )
}


class UnknownChartError(ValueError):
    """The scenario names a chart version this table does not describe."""

    def __init__(self, chart: object) -> None:
        self.chart = chart
        known = ", ".join(CHARTS)
        super().__init__(f"unknown z2jh chart version {chart!r}; known: {known}")


def chart_release(chart: str) -> ChartRelease:
    """The table entry for ``chart``; UnknownChartError (listing the known ones) otherwise."""
    release = CHARTS.get(chart) if isinstance(chart, str) else None
    if release is None:
        raise UnknownChartError(chart)
    return release
