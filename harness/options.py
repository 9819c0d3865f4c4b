"""Harness options, resolved from command line, environment and defaults, usable without pytest.

Every option has an environment-variable twin (``--cluster`` / ``JHSC_CLUSTER``) so CI jobs and
other repos can configure the harness without touching their pytest command lines. Precedence is
command line, then environment, then default. ``OPTION_SPECS`` is the single list the pytest plugin
turns into command-line options and the README's table describes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

from packaging.version import InvalidVersion, Version

from harness.clusters.backends import BACKENDS as BACKEND_CLASSES
from harness.clusters.base import HubVersions
from harness.clusters.source_tree import SourceTree, SourceTreeError
from harness.versions import KUBESPAWNER_MATRIX, default_jupyterhub_for

BACKENDS: tuple[str, ...] = tuple(BACKEND_CLASSES)
PULL_POLICIES: tuple[str, ...] = ("Always", "IfNotPresent", "Never")
SERVICE_ACCESS: tuple[str, ...] = ("clusterip", "port-forward")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})
_RESULTS_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

OptionKind = Literal["str", "bool", "path", "paths", "choice"]


class OptionsError(ValueError):
    """An option value is invalid; the message names the flag or variable it came from."""


@dataclass(frozen=True)
class OptionSpec:
    """One option: its ``HarnessOptions`` field, command-line flag and environment twin."""

    field: str
    flag: str
    env: str
    kind: OptionKind
    help: str
    choices: tuple[str, ...] = ()
    #: Only meaningful on clusters the harness does not create itself (kind, existing).
    real_cluster_only: bool = False

    @property
    def metavar(self) -> str | None:
        if self.kind in ("bool", "choice"):
            return None
        return "PATH" if self.kind in ("path", "paths") else self.field.split("_")[-1].upper()


OPTION_SPECS: tuple[OptionSpec, ...] = (
    OptionSpec(
        "cluster", "--cluster", "JHSC_CLUSTER", "choice", "where scenarios run (default: embedded)", BACKENDS
    ),
    OptionSpec(
        "keep_cluster",
        "--keep-cluster",
        "JHSC_KEEP_CLUSTER",
        "bool",
        "leave the cluster (and its data) up after the session, for debugging",
    ),
    OptionSpec(
        "kubeconfig",
        "--kubeconfig",
        "JHSC_KUBECONFIG",
        "path",
        "kubeconfig of an existing cluster (existing), or where kind writes one",
    ),
    OptionSpec("context", "--context", "JHSC_CONTEXT", "str", "kubeconfig context to use (existing)"),
    OptionSpec(
        "hub_url",
        "--hub-url",
        "JHSC_HUB_URL",
        "str",
        "drive an already-deployed hub at this URL instead of deploying one",
    ),
    OptionSpec("hub_token", "--hub-token", "JHSC_HUB_TOKEN", "str", "admin API token for --hub-url"),
    OptionSpec(
        "scenario_paths",
        "--storage-scenarios",
        "JHSC_STORAGE_SCENARIOS",
        "paths",
        "scenario files or directories to collect (env: separated by the OS path separator)",
    ),
    OptionSpec(
        "kubespawner_version",
        "--kubespawner-version",
        "JHSC_KUBESPAWNER_VERSION",
        "str",
        "KubeSpawner release under test (default: the installed one, else the newest in the matrix)",
    ),
    OptionSpec(
        "kubespawner_source",
        "--kubespawner-source",
        "JHSC_KUBESPAWNER_SOURCE",
        "path",
        "KubeSpawner source tree (git checkout, unpacked sdist) the hub installs instead of a release; "
        "gated and shown as <its version>+source (existing: needs --hub-image)",
    ),
    OptionSpec(
        "jupyterhub_version",
        "--jupyterhub-version",
        "JHSC_JUPYTERHUB_VERSION",
        "str",
        "JupyterHub release the hub runs (default: the one recorded for the KubeSpawner release)",
    ),
    OptionSpec(
        "reports_dir",
        "--reports-dir",
        "JHSC_REPORTS_DIR",
        "path",
        "where diagnostics bundles, results/<name>.json and the report go (default: reports/)",
    ),
    OptionSpec(
        "results_name",
        "--results-name",
        "JHSC_RESULTS_NAME",
        "str",
        "name of this run's results file, reports/results/<NAME>.json "
        "(default: kubespawner-<v>-jupyterhub-<v>-<cluster>)",
    ),
    OptionSpec(
        "junit_steps",
        "--junit-steps",
        "JHSC_JUNIT_STEPS",
        "bool",
        "reports/junit.xml gets one testcase per step besides the one per matrix cell (kuttl style)",
    ),
    OptionSpec(
        "data_dir",
        "--embedded-data-dir",
        "JHSC_EMBEDDED_DATA_DIR",
        "path",
        "state directory of the embedded cluster (default: a fresh temporary one)",
    ),
    OptionSpec(
        "kind_image",
        "--kind-image",
        "JHSC_KIND_IMAGE",
        "str",
        "kind node image (kind)",
        real_cluster_only=True,
    ),
    OptionSpec(
        "hub_image",
        "--hub-image",
        "JHSC_HUB_IMAGE",
        "str",
        "hub image instead of the harness-built one",
        real_cluster_only=True,
    ),
    OptionSpec(
        "singleuser_image",
        "--singleuser-image",
        "JHSC_SINGLEUSER_IMAGE",
        "str",
        "single-user server image instead of the harness-built one",
        real_cluster_only=True,
    ),
    OptionSpec(
        "image_pull_policy",
        "--image-pull-policy",
        "JHSC_IMAGE_PULL_POLICY",
        "choice",
        "imagePullPolicy of harness pods (default: the backend's)",
        PULL_POLICIES,
        real_cluster_only=True,
    ),
    OptionSpec(
        "hub_namespace",
        "--namespace",
        "JHSC_NAMESPACE",
        "str",
        "namespace the --hub-url hub spawns into, so checks can read its PVCs and pods "
        "(deployed hubs always get a fresh namespace per scenario)",
        real_cluster_only=True,
    ),
    OptionSpec(
        "proxy_image",
        "--proxy-image",
        "JHSC_PROXY_IMAGE",
        "str",
        "configurable-http-proxy image (existing; default: the hub image)",
        real_cluster_only=True,
    ),
    OptionSpec(
        "reader_image",
        "--reader-image",
        "JHSC_READER_IMAGE",
        "str",
        "image of the pod that reads PVC contents for checks (existing)",
        real_cluster_only=True,
    ),
    OptionSpec(
        "service_access",
        "--service-access",
        "JHSC_SERVICE_ACCESS",
        "choice",
        "how the harness reaches Services of an existing cluster (default: clusterip)",
        SERVICE_ACCESS,
        real_cluster_only=True,
    ),
    OptionSpec(
        "allow_cluster_restart",
        "--allow-cluster-restart",
        "JHSC_ALLOW_CLUSTER_RESTART",
        "bool",
        "let restart_cluster steps restart the nodes of a cluster the harness did not create",
        real_cluster_only=True,
    ),
    OptionSpec(
        "host_path_dir",
        "--host-path-dir",
        "JHSC_HOST_PATH_DIR",
        "str",
        "absolute directory on the node(s) where create_pv makes hostPath volumes (existing; "
        "kind: /var/local/jhsc-static-volumes; unset on existing: create_pv steps are skipped)",
        real_cluster_only=True,
    ),
    OptionSpec(
        "cluster_restart_command",
        "--cluster-restart-command",
        "JHSC_CLUSTER_RESTART_COMMAND",
        "str",
        "shell command that restarts the nodes of an existing cluster (with --allow-cluster-restart)",
        real_cluster_only=True,
    ),
)


def installed_kubespawner() -> str | None:
    try:
        return version("jupyterhub-kubespawner")
    except PackageNotFoundError:
        return None


def default_kubespawner_version() -> str:
    """The installed KubeSpawner (what a host repo tests), else the newest release in the matrix."""
    return installed_kubespawner() or max(KUBESPAWNER_MATRIX, key=Version)


@dataclass(frozen=True)
class HarnessOptions:
    """Everything a harness run is configured with; see ``OPTION_SPECS`` for what each means."""

    cluster: str = "embedded"
    keep_cluster: bool = False
    kubeconfig: Path | None = None
    context: str | None = None
    hub_url: str | None = None
    hub_token: str | None = None
    scenario_paths: tuple[Path, ...] = ()
    kubespawner_version: str = ""  # "": the default, or the source's version (``__post_init__``)
    kubespawner_source: Path | None = None
    #: "" means "the default for kubespawner_version"; ``__post_init__`` fills it in.
    jupyterhub_version: str = ""
    reports_dir: Path = Path("reports")
    results_name: str | None = None
    junit_steps: bool = False
    data_dir: Path | None = None
    kind_image: str | None = None
    hub_image: str | None = None
    singleuser_image: str | None = None
    image_pull_policy: str | None = None
    hub_namespace: str | None = None
    proxy_image: str | None = None
    reader_image: str | None = None
    service_access: str | None = None
    allow_cluster_restart: bool = False
    cluster_restart_command: str | None = None
    host_path_dir: str | None = None

    def __post_init__(self) -> None:
        self._resolve_kubespawner()
        if not self.jupyterhub_version:
            object.__setattr__(self, "jupyterhub_version", default_jupyterhub_for(self.kubespawner_version))
        for spec in OPTION_SPECS:
            value = getattr(self, spec.field)
            if spec.kind == "choice" and value is not None and value not in spec.choices:
                raise OptionsError(f"{spec.flag}: {value!r} is not one of {', '.join(spec.choices)}")
        for flag, value in (
            ("--kubespawner-version", self.kubespawner_version),
            ("--jupyterhub-version", self.jupyterhub_version),
        ):
            try:
                Version(value)
            except InvalidVersion:
                raise OptionsError(f"{flag}: {value!r} is not a version such as 7.1.0") from None
        if self.results_name is not None and not _RESULTS_NAME.match(self.results_name):
            raise OptionsError(
                f"--results-name: {self.results_name!r} is not a file name; "
                "use letters, digits, '.', '_' and '-'"
            )
        if self.host_path_dir is not None and not self.host_path_dir.startswith("/"):
            raise OptionsError(f"--host-path-dir: {self.host_path_dir!r} is not an absolute path on the node")
        if bool(self.hub_url) != bool(self.hub_token):
            raise OptionsError("--hub-url and --hub-token go together: give both or neither")
        if self.hub_url and self.cluster == "embedded":
            raise OptionsError(
                "--hub-url drives a hub on a cluster you run: use it with --cluster existing/kind"
            )

    def _resolve_kubespawner(self) -> None:
        """The release, or the source tree's version marked ``+source``; both given must agree."""
        if self.kubespawner_source is None:
            if not self.kubespawner_version:
                object.__setattr__(self, "kubespawner_version", default_kubespawner_version())
            return
        try:
            tree = SourceTree.read(self.kubespawner_source)
        except SourceTreeError as exc:
            raise OptionsError(f"--kubespawner-source: {exc}") from None
        given = self.kubespawner_version
        if given and given not in (tree.version, tree.label):
            raise OptionsError(
                f"--kubespawner-version {given} and --kubespawner-source {tree.path} (KubeSpawner "
                f"{tree.version}) disagree: give only --kubespawner-source"
            )
        object.__setattr__(self, "kubespawner_version", tree.label)

    @property
    def kubespawner_tree(self) -> SourceTree | None:
        """The tree ``kubespawner_source`` names (read again: fields stay plain, ``__dict__`` rebuilds)."""
        return SourceTree.read(self.kubespawner_source) if self.kubespawner_source else None

    @property
    def versions(self) -> HubVersions:
        tree = self.kubespawner_tree
        if tree is not None:
            return HubVersions.of_source(tree, self.jupyterhub_version)
        return HubVersions(kubespawner=self.kubespawner_version, jupyterhub=self.jupyterhub_version)

    @property
    def results_session(self) -> str:
        """This run's name in ``reports/results/``: one file per release x cluster unless told otherwise."""
        return self.results_name or f"{self.versions.slug}-{self.cluster}"

    @classmethod
    def resolve(
        cls,
        cli: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        base_dir: Path | None = None,
    ) -> HarnessOptions:
        """Combine command-line values (field -> value or None), the environment and defaults.

        Relative paths are made absolute against ``base_dir`` (default: the current directory), so
        the options mean the same thing whichever directory a worker process later runs in.
        """
        cli = cli or {}
        env = os.environ if env is None else env
        base = base_dir or Path.cwd()
        values: dict[str, Any] = {}
        for spec in OPTION_SPECS:
            raw = cli.get(spec.field)
            source = spec.flag
            if raw is None or raw == [] or raw == ():
                text = env.get(spec.env)
                if text is None or (text == "" and spec.kind != "bool"):
                    continue
                raw, source = _from_env(spec, text), f"{spec.env}={text!r}"
            if spec.kind == "choice" and raw not in spec.choices:
                raise OptionsError(f"{source}: {raw!r} is not one of {', '.join(spec.choices)}")
            values[spec.field] = _absolute(spec, raw, base)
        values.setdefault("reports_dir", base / "reports")
        known = {f.name for f in fields(cls)}
        return cls(**{name: value for name, value in values.items() if name in known})


def _from_env(spec: OptionSpec, text: str) -> Any:
    if spec.kind == "bool":
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise OptionsError(f"{spec.env}={text!r}: expected one of 1/true/yes/on or 0/false/no/off")
    if spec.kind == "paths":
        return [part for part in text.split(os.pathsep) if part]
    return text


def _absolute(spec: OptionSpec, raw: Any, base: Path) -> Any:
    if spec.kind == "path":
        return base / Path(raw).expanduser()
    if spec.kind == "paths":
        return tuple(base / Path(item).expanduser() for item in raw)
    return raw
