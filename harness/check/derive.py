"""The scenarios that exercise one admin's storage config, as scenario data (written as YAML to run).

A check does not predict what KubeSpawner will do: it drives the hub the way users and admins do
(start, write, stop/start, hub restart, named servers, deletion, the planned upgrade) and records
what is there with ``observe`` steps, whose notes ``findings`` turns into sentences. The only
judgements in these scenarios are the ones that hold for every sane storage config: a user's file
is still there after a stop/start, a hub restart and an upgrade.

Each user gets scenarios of their own so that one user's failure (a name 6.x cannot label, a claim
the upgrade cannot find) never hides what happens to the others; two plain users share one scenario
to see whether their servers share a claim and what deleting one of them does to the other.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from harness.check.inputs import CheckInput, TraitsInput, ValuesInput, allows_named_servers
from harness.scenario.models import MAX_NAME_LENGTH, Scenario
from harness.scenario.schema import SCHEMA_HEADER

#: User names that exercise the slug schemes: a DNS label, '.', '@', upper case (JupyterHub lower-cases
#: names before KubeSpawner sees them, so the hub's 'upper.case' is what an 'Upper.Case' login becomes),
#: and a name longer than a Kubernetes label value (63) may be.
DEFAULT_USERS: tuple[str, ...] = ("alice", "dot.user", "user@example.com", "upper.case", "x" * 70)
#: The named server tried when the config allows named servers.
NAMED_SERVER = "work"
#: The two plain users of the sharing scenario.
PAIR = ("alice", "bob")
#: Generated scenarios carry this prefix (the findings know theirs by it).
PREFIX = "check-"
#: Seconds to wait for a start after the upgrade: a pod waiting for a claim never gets ready.
UPGRADE_START_TIMEOUT = 240.0
#: The size of a static claim whose values give no ``singleuser.storage.capacity``.
STATIC_CLAIM_SIZE = "10Gi"


def file_name(user: str, server: str = "") -> str:
    """One file per server, so servers that share a claim (the hazard to find) never overwrite each other."""
    return "jhsc-check-" + re.sub(r"[^a-z0-9.-]+", "-", f"{user}--{server or 'default'}") + ".txt"


def file_content(user: str, server: str = "") -> str:
    return f"{user}/{server} was here\n"


def scenario_name(stem: str, suffix: str = "") -> str:
    """``check-dot-user`` / ``check-dot-user-upgrade``: a DNS label of at most MAX_NAME_LENGTH."""
    room = MAX_NAME_LENGTH - len(PREFIX) - len(suffix)
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    if len(slug) > room:
        slug = f"{slug[: room - 9].rstrip('-')}-{len(stem)}chars"[:room]
    return f"{PREFIX}{slug or 'user'}{suffix}"


# --------------------------------------------------------------------------------------- config
def _config(source: CheckInput) -> dict[str, Any]:
    """The scenario fields that say "the admin's config" (z2jh values or KubeSpawner traits)."""
    if isinstance(source, ValuesInput):
        return {"z2jh": {"chart": source.chart, "values_file": str(source.path.resolve())}}
    config: dict[str, Any] = {"kubespawner": dict(source.kubespawner_traits)}
    if source.hub_config:
        config["hub_config"] = dict(source.hub_config)
    return config


def _upgrade_step(source: CheckInput) -> dict[str, Any] | None:
    if isinstance(source, ValuesInput):
        if source.upgrade_to_chart is None:
            return None
        return {
            "upgrade_chart": {"chart": source.upgrade_to_chart, "values_file": str(source.path.resolve())}
        }
    if source.upgrade_to is None:
        return None
    return {"restart_hub": {"kubespawner": source.upgrade_to}}


def upgrade_target(source: CheckInput) -> str | None:
    """``chart 4.4.0`` / ``KubeSpawner 7.1.0``: the planned upgrade, as sentences name it."""
    if isinstance(source, ValuesInput):
        return f"chart {source.upgrade_to_chart}" if source.upgrade_to_chart else None
    return f"KubeSpawner {source.upgrade_to}" if source.upgrade_to else None


def _with_upgrade_db(config: dict[str, Any], source: CheckInput) -> dict[str, Any]:
    """A KubeSpawner upgrade may bring a newer JupyterHub, whose database needs upgrading."""
    if isinstance(source, TraitsInput):
        config = copy.deepcopy(config)
        config.setdefault("hub_config", {}).setdefault("JupyterHub.upgrade_db", True)
    return config


# ---------------------------------------------------------------------------------------- steps
def _servers(source: CheckInput) -> list[str]:
    return ["", NAMED_SERVER] if allows_named_servers(source) else [""]


def _ref(user: str, server: str) -> dict[str, str]:
    return {"user": user, "server": server} if server else {"user": user}


def _start_and_write(
    user: str, server: str, label: str, timeout: float | None = None
) -> list[dict[str, Any]]:
    start: dict[str, Any] = _ref(user, server)
    if timeout is not None:
        start["timeout"] = timeout
    return [
        {"start": start},
        {
            "write_file": {
                **_ref(user, server),
                "path": file_name(user, server),
                "content": file_content(user, server),
            }
        },
        {"observe": {**_ref(user, server), "label": label}},
    ]


def _expect_file(user: str, server: str) -> dict[str, Any]:
    return {
        "expect_file": {
            **_ref(user, server),
            "path": file_name(user, server),
            "content": file_content(user, server),
        }
    }


def _user_entry(user: str, servers: list[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": user}
    named = [s for s in servers if s]
    if named:
        entry["named_servers"] = named
    return entry


def lifecycle(source: CheckInput, user: str) -> dict[str, Any]:
    """Start, stop/start, hub restart and deletion of one user's servers."""
    servers = _servers(source)
    steps: list[dict[str, Any]] = []
    for server in servers:
        steps += _start_and_write(user, server, "started")
    for server in servers:
        steps += [{"stop": _ref(user, server)}, {"start": _ref(user, server)}, _expect_file(user, server)]
    steps.append({"restart_hub": {}})
    steps += [_expect_file(user, server) for server in servers]
    steps += [{"stop": _ref(user, server)} for server in reversed(servers)]
    steps.append({"observe": {"label": "stopped"}})
    for server in servers[1:]:
        steps += [
            {"delete_server": _ref(user, server)},
            {"observe": {"label": "after deleting the named server"}},
        ]
    steps += [{"delete_user": {"user": user}}, {"observe": {"label": "after deleting the user"}}]
    return {
        "name": scenario_name(user),
        "description": f"jhsc check: {user}'s servers through stop/start, a hub restart and deletion, "
        f"on {source.describe()}.",
        **_config(source),
        "users": [_user_entry(user, servers)],
        "steps": steps,
        "finally": [{"delete_user": {"user": user}}],
    }


def upgrade(source: CheckInput, user: str, running: bool = False) -> dict[str, Any] | None:
    """A user's servers through the planned upgrade, stopped first (or left running, then stopped and
    started again on the new release: kubespawner#937): same claim, same files?"""
    step = _upgrade_step(source)
    if step is None:
        return None
    servers = [""] if running else _servers(source)
    steps: list[dict[str, Any]] = []
    for server in servers:
        steps += _start_and_write(user, server, "before the upgrade")
    if not running:
        steps += [{"stop": _ref(user, server)} for server in reversed(servers)]
    steps.append(step)
    if running:
        steps += [_expect_file(user, ""), {"stop": _ref(user, "")}]
    for server in servers:
        steps += [
            {"start": {**_ref(user, server), "timeout": UPGRADE_START_TIMEOUT}},
            {"observe": {**_ref(user, server), "label": "after the upgrade"}},
            _expect_file(user, server),
        ]
    how = "running server, stopped and started after" if running else "stopped servers"
    return {
        "name": scenario_name(user, "-upgrade-running" if running else "-upgrade"),
        "description": f"jhsc check: {user}'s {how} the upgrade to "
        f"{upgrade_target(source)}, from {source.describe()}.",
        **_with_upgrade_db(_config(source), source),
        "users": [_user_entry(user, servers)],
        "steps": steps,
        "finally": [{"delete_user": {"user": user}}],
    }


def pair(source: CheckInput) -> dict[str, Any]:
    """Two users: do their servers share a claim, and what does deleting one do to the other's?"""
    first, second = PAIR
    steps = [
        *_start_and_write(first, "", "started"),
        *_start_and_write(second, "", "started"),
        {"stop": {"user": first}},
        {"stop": {"user": second}},
        {"delete_user": {"user": second}},
        {"observe": {"label": f"after deleting {second}"}},
    ]
    return {
        "name": scenario_name("two-users"),
        "description": f"jhsc check: do {first} and {second} share a claim, and what does deleting {second} "
        f"delete? On {source.describe()}.",
        **_config(source),
        "users": [{"name": first}, {"name": second}],
        "steps": steps,
        "finally": [{"delete_user": {"user": second}}, {"delete_user": {"user": first}}],
    }


# ------------------------------------------------------------------------------- the library's
def _kept(steps: Iterable[Any], keep: set[str]) -> list[dict[str, Any]]:
    """The raw step items of the kinds ``keep`` names; restarts that change releases or config go
    (the admin's own upgrade is checked by the upgrade scenarios)."""
    out = []
    for item in steps:
        kind = item.kind
        if kind not in keep:
            continue
        if kind == "restart_hub" and (
            item.body.kubespawner or item.body.jupyterhub or item.body.changes_config
        ):
            continue
        out.append(item.model_dump(mode="json", exclude_defaults=True, by_alias=True))
    return out


def from_library(source: CheckInput, scenario: Scenario) -> dict[str, Any] | None:
    """A library scenario marked ``check: {parameterised: true}``, over the admin's config."""
    if scenario.check is None or not scenario.check.parameterised:
        return None
    keep = set(scenario.check.keep)
    steps = _kept(scenario.steps, keep)
    if not steps:
        return None
    config = _config(source)
    hub_config = {**scenario.hub_config, **config.pop("hub_config", {})}
    data: dict[str, Any] = {
        "name": scenario_name(scenario.name),
        "description": f"jhsc check: the library's {scenario.name} over {source.describe()}. "
        + scenario.description,
        **config,
        "upstream": list(scenario.upstream),
        "users": [u.model_dump(mode="json", exclude_defaults=True) for u in scenario.users],
        "steps": steps,
        "finally": _kept(scenario.finally_, keep | {"delete_user"}),
    }
    if hub_config:
        data["hub_config"] = hub_config
    if scenario.applies_to is not None:
        data["applies_to"] = scenario.applies_to.model_dump(exclude_none=True)
    return data


Role = Literal["pair", "lifecycle", "upgrade", "upgrade-running", "library"]
#: The two upgrade scenarios of a user: servers stopped first, or the default server left running.
UPGRADES: tuple[tuple[Role, bool], ...] = (("upgrade", False), ("upgrade-running", True))


@dataclass(frozen=True)
class Derived:
    """One generated scenario and what it is for: how ``findings`` reads its observations."""

    role: Role
    data: dict[str, Any]
    #: The user it is about (lifecycle, upgrade).
    user: str = ""

    @property
    def name(self) -> str:
        return str(self.data["name"])


def static_claim_steps(source: CheckInput) -> list[dict[str, Any]]:
    """The claim z2jh's ``storage.type: static`` values name, made first as the admin would have made it:
    a pre-provisioned PV and a claim bound to it (ReadWriteMany: every user's server mounts it)."""
    if not isinstance(source, ValuesInput):
        return []
    storage = (source.values.get("singleuser") or {}).get("storage") or {}
    claim = (storage.get("static") or {}).get("pvcName") if storage.get("type") == "static" else None
    if not isinstance(claim, str) or not claim:
        return []
    size = storage.get("capacity") if isinstance(storage.get("capacity"), str) else STATIC_CLAIM_SIZE
    modes = ["ReadWriteMany"]
    return [
        {"create_pv": {"name": claim, "size": size, "access_modes": modes}},
        {"create_pvc": {"name": claim, "size": size, "access_modes": modes, "volume_name": claim}},
    ]


def derive(source: CheckInput, users: Iterable[str], library: Iterable[Scenario] = ()) -> list[Derived]:
    """Every scenario of one check, in the order they run (each making the static claim first, if any)."""
    scenarios = [Derived("pair", pair(source))]
    for user in users:
        scenarios.append(Derived("lifecycle", lifecycle(source, user), user))
        for role, running in UPGRADES:
            upgraded = upgrade(source, user, running)
            if upgraded is not None:
                scenarios.append(Derived(role, upgraded, user))
    for scenario in library:
        templated = from_library(source, scenario)
        if templated is not None:
            scenarios.append(Derived("library", templated))
    setup = static_claim_steps(source)
    for derived in scenarios:
        derived.data["steps"] = [*copy.deepcopy(setup), *derived.data["steps"]]
    return scenarios


def write(scenarios: Iterable[Derived], directory: Path) -> list[Path]:
    """Write each scenario as ``<name>.yaml`` with the header the plugin collects by."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for derived in scenarios:
        data = derived.data
        path = directory / f"{data['name']}.yaml"
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
        path.write_text(
            f"{SCHEMA_HEADER}\n# generated by jhsc check; edit your config, not this file\n{text}"
        )
        paths.append(path)
    return paths
