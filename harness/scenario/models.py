"""The scenario language: what a scenario file may say, as pydantic models.

A scenario is an admin's KubeSpawner configuration (``kubespawner:``, trait name -> value, exactly as
``c.KubeSpawner.<trait>`` is written) plus an ordered list of steps that drive a hub and check what
ended up in the cluster. Steps are data; ``harness/runner.py`` executes them.

Each step item is a mapping with exactly one step key and, optionally, version gates next to it::

    - expect_pvc: {name: claim-alice, size: 1Gi}
      kubespawner: ">=7"        # PEP 440 specifier; the step only applies to these releases

The gates sit *beside* the step (not inside its body) so they can never clash with a body field:
``restart_hub`` has its own ``kubespawner:`` field, the version to switch to. A version-dependent
expectation is written as two items with disjoint specifiers. Gates are evaluated against the
versions the hub runs at that point of the scenario (``restart_hub`` may change them).
"""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Union

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    create_model,
    field_validator,
    model_validator,
)

from harness.scenario.errors import SourceLocation

if TYPE_CHECKING:
    from harness.z2jh import Z2jhConfig

#: Version gates a step item may carry next to its step key.
GATE_KEYS: tuple[str, ...] = ("jupyterhub", "kubespawner")
#: Every key a step item may carry next to its step key: the gates plus its verdict annotations.
ITEM_KEYS: tuple[str, ...] = (*GATE_KEYS, "known_issue", "hazard")
#: ``kubespawner#937``, ``z2jh#3574``, ``jupyterhub#4800``: an upstream issue or PR the report links.
_UPSTREAM_REF = re.compile(r"^(kubespawner|z2jh|jupyterhub)#[0-9]+$")

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
#: Scenario names end up in test ids and namespace names (with a suffix), so keep room for one.
MAX_NAME_LENGTH = 40


class _Strict(BaseModel):
    """Base of every model: unknown fields are errors and YAML types are not coerced.

    Strict mode matters for hand-written YAML: ``server: no`` is a boolean and ``size: 1.5`` a float,
    and silently turning them into strings would hide the author's mistake.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# --------------------------------------------------------------------------------------------- bodies
class _Body(_Strict):
    """A step body. ``- restart_cluster:`` (a null body) means the same as ``{}``."""

    @model_validator(mode="before")
    @classmethod
    def _null_is_empty(cls, data: Any) -> Any:
        return {} if data is None else data


class ServerRef(_Body):
    """Names one server of one user; ``server: ""`` (the default) is the user's default server."""

    user: str = Field(description="JupyterHub user name; must be declared under `users:`.")
    server: str = Field("", description='Named server, or "" for the default server.')


class StartStep(ServerRef):
    """Start the server through the hub REST API and wait until it is ready."""

    timeout: float = Field(300.0, gt=0, description="Seconds to wait for the server to be ready.")


class StopStep(ServerRef):
    """Stop the server (the pod goes away; what happens to its PVC is what scenarios check)."""


class DeleteServerStep(ServerRef):
    """Delete a named server for good (``remove: true``), which is when ``delete_pvc`` acts."""


class DeleteUserStep(_Body):
    """Delete the user from the hub (stopping and removing all their servers)."""

    user: str


class _FileRef(_Body):
    """A file either of a server (``user``/``server``: through its contents API) or of a claim (``pvc``).

    ``pvc`` reaches a PersistentVolumeClaim's contents through a short-lived pod while no server has
    to run: that shows where the data really is after an upgrade or a config change went wrong.
    """

    user: str | None = Field(None, description="JupyterHub user name (declared under `users:`); or `pvc`.")
    server: str = Field("", description='Named server, or "" for the default server (with `user`).')
    pvc: str | None = Field(
        None, description="PVC name: the file on this claim, read/written by a pod; instead of `user`."
    )
    sub_path: str | None = Field(
        None, description="With `pvc`: the directory inside the claim that `path` is relative to."
    )

    @model_validator(mode="after")
    def _user_xor_pvc(self) -> _FileRef:
        if self.user is not None and self.pvc is not None:
            raise ValueError(
                "give either 'user' (a server's file, through its contents API) or 'pvc' (a claim's "
                "file, through a pod), not both"
            )
        if self.user is None and self.pvc is None:
            raise ValueError("missing 'user' (a server's file) or 'pvc' (a claim's file); give one of them")
        if self.pvc is not None and "server" in self.model_fields_set:
            raise ValueError(
                "'server' names a user's server; with 'pvc' there is none (drop it or use 'user')"
            )
        if self.user is not None and self.sub_path is not None:
            raise ValueError("'sub_path' goes with 'pvc'; a server's path is relative to its root directory")
        if self.pvc is not None:
            inside = posixpath.normpath(posixpath.join(self.sub_path or "", getattr(self, "path", "")))
            if posixpath.isabs(inside) or inside == ".." or inside.startswith("../") or inside == ".":
                raise ValueError(
                    f"with 'pvc', sub_path/path must name a file inside the claim, got {inside!r}"
                )
        return self


class WriteFileStep(_FileRef):
    """Write a text file through the running server's contents API, or straight onto a PVC."""

    path: str = Field(description="Path relative to the server's root directory (or the claim's sub_path).")
    content: str


class ExpectFileStep(_FileRef):
    """Read a file through the running server's contents API (or from a PVC) and compare it."""

    path: str = Field(description="Path relative to the server's root directory (or the claim's sub_path).")
    exists: bool = True
    content: str | None = Field(None, description="Exact expected text; omitted: not checked.")


class ExpectPvcStep(_Body):
    """Check a PersistentVolumeClaim in the hub's namespace; omitted fields are not checked."""

    name: str
    exists: bool = True
    labels: dict[str, str] | None = Field(None, description="Labels that must be present (subset).")
    annotations: dict[str, str] | None = Field(None, description="Annotations that must be present.")
    size: str | None = Field(None, description="spec.resources.requests.storage, e.g. 1Gi.")
    storage_class: str | None = Field(None, description="spec.storageClassName.")
    access_modes: list[str] | None = Field(None, description="spec.accessModes, e.g. [ReadWriteOnce].")
    phase: Literal["Pending", "Bound", "Lost"] | None = None


class ExpectPvcsStep(_Body):
    """Check the exact set of user PVCs in the hub's namespace: orphans and surprise claims fail it."""

    only: list[str] = Field(
        description="Every user PVC that must exist, and no other (the harness's own claims aside)."
    )


class ExpectMountStep(ServerRef):
    """Check a volume mount of the server's notebook container."""

    path: str = Field(description="mountPath inside the container.")
    exists: bool = True
    claim: str | None = Field(None, description="Name of the PVC the mounted volume refers to.")
    sub_path: str | None = Field(None, description="subPath of the mount.")
    read_only: bool | None = None
    check: Literal["spec", "runtime", "both"] = Field(
        "both", description="spec: the pod object; runtime: what the running container sees."
    )


#: ``restart_hub: {kubespawner: under-test}``: the release of the matrix row being tested.
UNDER_TEST = "under-test"


def _exact_version(value: str | None) -> str | None:
    if value is not None and value != UNDER_TEST:
        try:
            Version(value)
        except InvalidVersion:
            raise ValueError(
                f"invalid version {value!r}; expected an exact version such as '7.1.0' or {UNDER_TEST!r}"
            ) from None
    return value


class RestartHubStep(_Body):
    """Restart the hub, optionally switching the KubeSpawner / JupyterHub release and changing config.

    The config changes apply on top of the config in force (the scenario's, plus earlier restarts'),
    and the hub restarts once with both the new config and the new release.
    """

    kubespawner: str | None = Field(
        None,
        description=(
            f"Exact KubeSpawner version to restart with, or {UNDER_TEST!r}: the matrix row's release "
            "(an upgrade scenario deployed with `deploy_with` upgrades to the release being tested)."
        ),
    )
    jupyterhub: str | None = Field(
        None, description=f"Exact JupyterHub version to restart with, or {UNDER_TEST!r}."
    )
    kubespawner_set: dict[str, Any] = Field(
        default_factory=dict, description="KubeSpawner traits to set from now on: trait name -> value."
    )
    kubespawner_unset: list[str] = Field(
        default_factory=list,
        description="KubeSpawner traits to drop (the harness's or KubeSpawner's default applies again).",
    )
    hub_config_set: dict[str, Any] = Field(
        default_factory=dict, description="Other config to set from now on: 'Class.trait' -> value."
    )

    _versions = field_validator("kubespawner", "jupyterhub")(_exact_version)

    @property
    def changes_config(self) -> bool:
        return bool(self.kubespawner_set or self.kubespawner_unset or self.hub_config_set)


class ChartValues(_Strict):
    """Zero to JupyterHub chart values: the hub is configured as that chart release configures it.

    The loader resolves the values (inline, or read from ``values_file``), checks them against the
    chart release and maps them (``harness/z2jh/``); ``config`` is that mapping.
    """

    chart: str = Field(description="z2jh chart release, e.g. '3.3.8' (harness/z2jh/charts.py lists them).")
    values: dict[str, Any] | None = Field(
        None, description="The chart values (your config.yaml, as `helm install -f` takes it); default: none."
    )
    values_file: str | None = Field(
        None, description="A values YAML file instead of `values`, relative to the scenario file."
    )
    kubespawner: str | None = Field(
        None,
        description=(
            f"KubeSpawner to run instead of the chart's pinned one: {UNDER_TEST!r} (the matrix row's "
            "release) or an exact version. The chart's JupyterHub stays."
        ),
    )
    jupyterhub: str | None = Field(
        None, description=f"JupyterHub to run instead of the chart's pinned one: {UNDER_TEST!r} or exact."
    )
    #: The mapping (a ``harness.z2jh.Z2jhConfig``) and where the values came from; set by the loader.
    _config: Any = PrivateAttr(default=None)
    _values_source: str = PrivateAttr(default="")

    _versions = field_validator("kubespawner", "jupyterhub")(_exact_version)

    @model_validator(mode="after")
    def _one_source(self) -> ChartValues:
        if self.values is not None and self.values_file is not None:
            raise ValueError("give either 'values' (inline) or 'values_file' (a path), not both")
        return self

    @property
    def config(self) -> Z2jhConfig:
        """What the chart makes of the values; only a scenario read by the loader has it."""
        if self._config is None:
            raise RuntimeError(
                f"z2jh chart {self.chart}: values not mapped (load the scenario with the loader)"
            )
        config: Z2jhConfig = self._config
        return config

    @property
    def values_source(self) -> str:
        """``values_file prod.yaml`` / ``inline values``: for progress lines."""
        return self._values_source


class Z2jhInput(ChartValues):
    """Configure the hub from z2jh chart values instead of (or below) `kubespawner:` / `hub_config:`."""


class UpgradeChartStep(ChartValues, _Body):
    """Restart the hub as `helm upgrade` to another chart release would: that chart's mapping of the
    given values becomes the config (the scenario's `kubespawner:`/`hub_config:` still on top), and
    the chart's releases (or `kubespawner: under-test`) the hub's."""


class RestartClusterStep(_Body):
    """Restart the cluster node(s) like a reboot; API objects and volume data survive."""


class ExpectSpawnFailureStep(ServerRef):
    """Start the server and expect the spawn to fail, with ``message`` in one of the reason's sources."""

    message: str = Field(
        description="Substring looked for in every source of the failure's reason: the Kubernetes Status "
        "and the spawner's exception in the hub log, the Events of the server's PVC and pod, and the "
        "hub's own API/progress messages."
    )
    timeout: float = Field(300.0, gt=0)


# ------------------------------------------------------------------------------ out-of-band steps
#: A Kubernetes quantity as admins write storage sizes (``1Gi``, ``500Mi``, ``10G``).
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
#: PersistentVolume access modes of Kubernetes 1.20 (ReadWriteOncePod came in 1.22 as alpha).
AccessMode = Literal["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany"]


def _read_write_once() -> list[AccessMode]:
    return ["ReadWriteOnce"]


def _check_quantity(value: str) -> str:
    if not _QUANTITY.match(value):
        raise ValueError(f"invalid size {value!r}; expected a Kubernetes quantity such as '1Gi' or '500Mi'")
    return value


def _check_object_name(value: str) -> str:
    if not _DNS_SUBDOMAIN.match(value) or len(value) > 253:
        raise ValueError(
            f"invalid name {value!r}; expected a lowercase RFC 1123 subdomain (letters, digits, '-', '.')"
        )
    return value


class DeletePvcStep(_Body):
    """Delete a PVC as ``kubectl delete pvc NAME`` does, and wait until it is gone.

    While a pod uses the claim, the ``kubernetes.io/pvc-protection`` finalizer keeps it Terminating:
    with ``wait: true`` the step then fails saying so; ``wait: false`` expresses "delete it while in
    use" (the step reports Terminating and which pods hold it, and a later ``expect_pvc`` checks it).
    """

    name: str = Field(description="PVC name (mapped like expect_pvc's on an existing hub).")
    wait: bool = Field(True, description="Wait until the PVC is gone; false: return once it is Terminating.")
    timeout: float = Field(60.0, gt=0, description="Seconds to wait for it to be gone.")


class DeletePodStep(ServerRef):
    """Delete the server's pod as ``kubectl delete pod`` does (default grace period), then wait until the
    hub notices (its Spawner poll) and no longer lists the server as running."""

    timeout: float = Field(
        120.0,
        gt=0,
        description="Seconds to wait for the hub to notice (Spawner.poll_interval, 30 by default).",
    )


class ResizePvcStep(_Body):
    """Set a PVC's spec.resources.requests.storage as ``kubectl edit`` / ``kubectl patch`` would."""

    name: str
    size: str = Field(description="New storage request, e.g. 2Gi.")
    rejected: str | None = Field(
        None,
        description=(
            "Substring of the API server's refusal (its Status message): the step passes only if the "
            "change is refused with it. Omitted: the change must be accepted."
        ),
    )

    _size = field_validator("size")(_check_quantity)


class CreatePvStep(_Body):
    """Create a pre-provisioned PersistentVolume (z2jh ``storage.type: static``): a directory on the node,
    made writable for the single-user uid, as a hostPath PV with reclaimPolicy Retain. The harness
    names it ``<namespace>-<name>`` (PVs are cluster-wide) and deletes it and its directory at the end."""

    name: str = Field(description="PV name in the scenario; create_pvc's volume_name refers to it.")
    size: str = Field(description="spec.capacity.storage, e.g. 1Gi.")
    access_modes: list[AccessMode] = Field(default_factory=_read_write_once, min_length=1)
    storage_class: str = Field("", description='spec.storageClassName; "" (the default): no class.')

    _name = field_validator("name")(_check_object_name)
    _size = field_validator("size")(_check_quantity)


class CreatePvcStep(_Body):
    """Create a PersistentVolumeClaim in the hub's namespace as an admin's manifest would (labelled; it
    goes with the namespace)."""

    name: str
    size: str = Field(description="spec.resources.requests.storage, e.g. 1Gi.")
    access_modes: list[AccessMode] = Field(default_factory=_read_write_once, min_length=1)
    storage_class: str | None = Field(
        "",
        description=(
            'spec.storageClassName; "" (the default): no class, so only a PV binds it; null: left out, '
            "so the cluster's default class provisions it."
        ),
    )
    volume_name: str | None = Field(None, description="spec.volumeName: the name of a create_pv step's PV.")

    _name = field_validator("name")(_check_object_name)
    _size = field_validator("size")(_check_quantity)


class ObserveStep(_Body):
    """Record what is there without judging it: the user PVCs (and whose they are) and, with ``user``,
    the claims that server's pod mounts. Never fails; ``jhsc check`` turns these notes into findings."""

    user: str | None = Field(None, description="Also record the claims this user's server mounts.")
    server: str = Field("", description='Named server of `user`, or "" for the default server.')
    label: str = Field("", description="What the observation is, e.g. 'after the upgrade' (in the note).")


#: Step name -> body model, in the order documentation lists them.
STEP_BODIES: dict[str, type[_Body]] = {
    "start": StartStep,
    "stop": StopStep,
    "write_file": WriteFileStep,
    "expect_file": ExpectFileStep,
    "expect_pvc": ExpectPvcStep,
    "expect_pvcs": ExpectPvcsStep,
    "expect_mount": ExpectMountStep,
    "expect_spawn_failure": ExpectSpawnFailureStep,
    "restart_hub": RestartHubStep,
    "upgrade_chart": UpgradeChartStep,
    "restart_cluster": RestartClusterStep,
    "delete_server": DeleteServerStep,
    "delete_user": DeleteUserStep,
    "delete_pvc": DeletePvcStep,
    "delete_pod": DeletePodStep,
    "resize_pvc": ResizePvcStep,
    "create_pv": CreatePvStep,
    "create_pvc": CreatePvcStep,
    "observe": ObserveStep,
}


# ---------------------------------------------------------------------------------------------- items
def _check_specifier(value: str | None) -> str | None:
    if value is not None:
        try:
            SpecifierSet(value)
        except InvalidSpecifier:
            raise ValueError(
                f"invalid version specifier {value!r}; expected PEP 440 such as '>=7' or '>=6,<7'"
            ) from None
    return value


def _check_upstream_ref(value: str | None) -> str | None:
    if value is not None and not _UPSTREAM_REF.match(value):
        raise ValueError(
            f"invalid upstream reference {value!r}; expected kubespawner#N, z2jh#N or jupyterhub#N"
        )
    return value


class Step(_Strict):
    """One step item: a step body under its name, plus optional version gates."""

    #: The step name (``start``, ``expect_pvc``, ...); set on each concrete item class.
    kind: ClassVar[str] = ""

    kubespawner: str | None = Field(
        None, description="PEP 440 specifier: the step applies only to these KubeSpawner versions."
    )
    jupyterhub: str | None = Field(
        None, description="PEP 440 specifier: the step applies only to these JupyterHub versions."
    )
    known_issue: str | None = Field(
        None,
        description=(
            "Upstream bug (e.g. kubespawner#937) that makes this correct expectation fail on the gated "
            "releases: a failure is reported KNOWN; a pass fails the cell (fixed upstream?)."
        ),
    )
    hazard: str | None = Field(
        None,
        description="One line: the behaviour this step confirms is as expected AND dangerous (HAZARD).",
    )
    _location: SourceLocation = PrivateAttr(default=SourceLocation("<unknown>", 0, 0))

    _gates = field_validator("kubespawner", "jupyterhub")(_check_specifier)

    @field_validator("known_issue")
    @classmethod
    def _upstream_ref(cls, value: str | None) -> str | None:
        return _check_upstream_ref(value)

    @property
    def body(self) -> _Body:
        value: _Body = getattr(self, self.kind)
        return value

    @property
    def location(self) -> SourceLocation:
        """``file:line:column`` of the step item, for progress lines and failures."""
        return self._location

    def applies_to(self, kubespawner: str, jupyterhub: str) -> bool:
        """Whether the gates admit these versions (no gate admits everything, pre-releases too)."""
        return _admits(self.kubespawner, self.jupyterhub, kubespawner, jupyterhub)

    def gates_text(self) -> str:
        """``kubespawner <7``: the gates as the progress line shows them."""
        return ", ".join(f"{k} {getattr(self, k)}" for k in GATE_KEYS if getattr(self, k))


def _admits(ks_spec: str | None, jh_spec: str | None, kubespawner: str, jupyterhub: str) -> bool:
    for spec, version in ((ks_spec, kubespawner), (jh_spec, jupyterhub)):
        if spec is not None and not SpecifierSet(spec).contains(version, prereleases=True):
            return False
    return True


def _item_model(kind: str, body: type[_Body]) -> type[Step]:
    model = create_model(  # type: ignore[call-overload]
        "".join(part.title() for part in kind.split("_")) + "Item",
        __base__=Step,
        __doc__=body.__doc__,
        **{kind: (body, ...)},
    )
    model.kind = kind
    return model


STEP_ITEMS: dict[str, type[Step]] = {kind: _item_model(kind, body) for kind, body in STEP_BODIES.items()}


def step_kind_of(item: Any) -> str | None:
    """The step name of a raw step item, or None when it has not exactly one known step key."""
    if isinstance(item, Step):
        return item.kind
    if not isinstance(item, dict):
        return None
    kinds = [key for key in item if key in STEP_BODIES]
    return kinds[0] if len(kinds) == 1 else None


if TYPE_CHECKING:
    StepItem = Step
else:
    #: A step item: validated as the item model its step key names.
    StepItem = Annotated[
        Union[tuple(Annotated[model, Tag(kind)] for kind, model in STEP_ITEMS.items())],  # noqa: UP007
        Discriminator(step_kind_of),
    ]


# ------------------------------------------------------------------------------------------- scenario
class User(_Strict):
    """A hub user the scenario drives; steps may only name declared users and servers."""

    name: str
    admin: bool = False
    named_servers: list[str] = Field(
        default_factory=list, description="Named servers the steps use (the default server is implied)."
    )


class KnownIssue(_Strict):
    """A scenario-level ``known_issue``: which bug, and on which releases it is expected to bite."""

    issue: str = Field(description="kubespawner#N, z2jh#N or jupyterhub#N.")
    kubespawner: str | None = Field(None, description="PEP 440 specifier of the affected releases.")
    jupyterhub: str | None = Field(None, description="PEP 440 specifier of the affected releases.")

    _ref = field_validator("issue")(_check_upstream_ref)
    _gates = field_validator("kubespawner", "jupyterhub")(_check_specifier)

    def applies_to(self, kubespawner: str, jupyterhub: str) -> bool:
        return _admits(self.kubespawner, self.jupyterhub, kubespawner, jupyterhub)


class Releases(_Strict):
    """Exact releases to deploy the hub with before the steps (an upgrade scenario's starting point)."""

    kubespawner: str = Field(description="Exact KubeSpawner version, e.g. 6.2.0.")
    jupyterhub: str | None = Field(
        None, description="Exact JupyterHub version; default: the one recorded for that KubeSpawner."
    )

    _versions = field_validator("kubespawner", "jupyterhub")(_exact_version)

    @field_validator("kubespawner", "jupyterhub")
    @classmethod
    def _not_under_test(cls, value: str | None) -> str | None:
        if value == UNDER_TEST:
            raise ValueError(f"{UNDER_TEST!r} is for restart_hub; deploy_with names an exact release")
        return value


class Applicability(_Strict):
    """The matrix releases a scenario is about; other cells are reported SKIP with this reason."""

    kubespawner: str | None = Field(None, description="PEP 440 specifier of the matrix KubeSpawner.")
    jupyterhub: str | None = Field(None, description="PEP 440 specifier of the matrix JupyterHub.")

    _gates = field_validator("kubespawner", "jupyterhub")(_check_specifier)

    def admits(self, kubespawner: str, jupyterhub: str) -> bool:
        return _admits(self.kubespawner, self.jupyterhub, kubespawner, jupyterhub)

    def text(self) -> str:
        return ", ".join(f"{k} {getattr(self, k)}" for k in GATE_KEYS if getattr(self, k))


class CheckTemplate(_Strict):
    """How ``jhsc check`` may run this scenario over an admin's own storage config (``check:``)."""

    parameterised: bool = Field(
        False,
        description="The admin's storage config (KubeSpawner traits or z2jh values) replaces this "
        "scenario's `kubespawner:` / `z2jh:`; only the steps in `keep` run then.",
    )
    keep: list[str] = Field(
        default_factory=lambda: ["start", "stop", "write_file", "expect_file", "restart_hub", "delete_user"],
        description="Step kinds that hold for any storage config (no claim names in them).",
    )

    @field_validator("keep")
    @classmethod
    def _known_kinds(cls, value: list[str]) -> list[str]:
        unknown = [kind for kind in value if kind not in STEP_BODIES]
        if unknown:
            raise ValueError(f"unknown step kind(s) {', '.join(unknown)}; expected: {', '.join(STEP_BODIES)}")
        return value


class Scenario(_Strict):
    """One storage conformance scenario (one YAML file)."""

    model_config = ConfigDict(populate_by_name=True)

    name: str = Field(description="Lowercase DNS label; used in test ids and namespace names.")
    description: str
    kubespawner: dict[str, Any] = Field(
        default_factory=dict,
        description="c.KubeSpawner.<trait> = value, as an admin writes it: trait name -> value.",
    )
    hub_config: dict[str, Any] = Field(
        default_factory=dict,
        description="Other hub configuration: 'Class.trait' -> value, e.g. JupyterHub.allow_named_servers.",
    )
    upstream: list[str] = Field(
        default_factory=list,
        description="Upstream issues/PRs this scenario pins (kubespawner#N, z2jh#N, jupyterhub#N).",
    )
    hazard: str | None = Field(
        None, description="One line: what this scenario shows to be as expected AND dangerous (HAZARD)."
    )
    known_issue: KnownIssue | None = Field(
        None,
        description="The whole scenario is correct behaviour that an upstream bug breaks on some releases.",
    )
    applies_to: Applicability | None = Field(
        None,
        description="Matrix releases this scenario is about, e.g. {kubespawner: '>=7'}; other cells SKIP.",
    )
    z2jh: Z2jhInput | None = Field(
        None,
        description=(
            "Zero to JupyterHub chart values: the hub gets that chart's config and releases; "
            "`kubespawner:` / `hub_config:` then apply on top of the chart's."
        ),
    )
    deploy_with: Releases | None = Field(
        None,
        description=(
            "Deploy the hub with these releases instead of the matrix row's; with "
            "`restart_hub: {kubespawner: under-test}` the scenario upgrades to the release under test."
        ),
    )
    check: CheckTemplate | None = Field(
        None, description="`jhsc check` may run this scenario over an admin's storage config."
    )
    users: list[User] = Field(min_length=1)
    steps: list[StepItem] = Field(min_length=1)
    finally_: list[StepItem] = Field(
        default_factory=list,
        alias="finally",
        description="Steps run after `steps`, also when a step failed (cleanup, final checks).",
    )
    _source: str = PrivateAttr(default="<string>")

    @field_validator("upstream")
    @classmethod
    def _upstream_refs(cls, value: list[str]) -> list[str]:
        for ref in value:
            _check_upstream_ref(ref)
        return value

    @field_validator("name")
    @classmethod
    def _dns_label(cls, value: str) -> str:
        if not _DNS_LABEL.match(value) or len(value) > MAX_NAME_LENGTH:
            raise ValueError(
                f"invalid name {value!r}; expected lowercase letters, digits and '-', starting and "
                f"ending with a letter or digit, at most {MAX_NAME_LENGTH} characters"
            )
        return value

    @property
    def source(self) -> str:
        """The file the scenario was loaded from, as shown in messages."""
        return self._source

    def user(self, name: str) -> User:
        return next(user for user in self.users if user.name == name)
