"""Read a scenario file into a ``Scenario``, or explain every problem in it with ``file:line:column``.

PyYAML's composer keeps a start mark on every node; the loader turns the node tree into plain data
while recording the mark of every value and every mapping key by field path, validates the data
with the pydantic models, and maps each validation error back to the line an author must edit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from harness.scenario.cluster_bodies import CreatePvcStep, CreatePvStep
from harness.scenario.errors import (
    ScenarioError,
    ScenarioProblem,
    SourceLocation,
    describe_value,
    did_you_mean,
)
from harness.scenario.kubespawner_traits import KUBESPAWNER_TRAITS
from harness.scenario.marked import MarkedDocument as _MarkedDocument
from harness.scenario.marked import Path_
from harness.scenario.marked import compose as _compose
from harness.scenario.models import Applicability, CheckTemplate, KnownIssue, Releases, Scenario, User
from harness.scenario.steps import ITEM_KEYS, STEP_BODIES, Step
from harness.scenario.upgrade_bodies import Z2jhInput
from harness.scenario.z2jh_input import Resolved, check_z2jh
from harness.scenario.z2jh_input import attach as attach_z2jh

_STEP_LISTS = ("steps", "finally")
#: Top-level fields that are mappings of their own model.
_SECTIONS: dict[str, type[BaseModel]] = {
    "z2jh": Z2jhInput,
    "deploy_with": Releases,
    "applies_to": Applicability,
    "known_issue": KnownIssue,
    "check": CheckTemplate,
}
_HUB_CONFIG_KEY = re.compile(r"^[A-Za-z_]\w*\.[A-Za-z_]\w*$")


# ------------------------------------------------------------------------------ validation errors
_describe = describe_value


_EXPECTED = {
    "string_type": "a string",
    "bool_type": "true or false",
    "int_type": "an integer",
    "float_type": "a number",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
}


def _fields_allowed_at(path: Path_) -> list[str] | None:
    """Field names allowed in the mapping at ``path`` (None when it is free-form)."""
    if path == ():
        return sorted(field.alias or name for name, field in Scenario.model_fields.items())
    if len(path) == 1 and path[0] in _SECTIONS:
        return sorted(_SECTIONS[str(path[0])].model_fields)
    if len(path) == 2 and path[0] == "users":
        return sorted(User.model_fields)
    if len(path) == 2 and path[0] in _STEP_LISTS:
        return list(ITEM_KEYS)
    if len(path) == 3 and path[0] in _STEP_LISTS and path[2] in STEP_BODIES:
        return sorted(STEP_BODIES[str(path[2])].model_fields)
    return None


def _normalise_loc(loc: Sequence[str | int]) -> Path_:
    """Drop the union tag pydantic inserts after a step index (``steps.3.start.start.user``)."""
    parts = list(loc)
    out: list[str | int] = []
    index = 0
    while index < len(parts):
        out.append(parts[index])
        if len(out) == 2 and out[0] in _STEP_LISTS and isinstance(out[1], int) and index + 1 < len(parts):
            index += 1  # skip the tag
        index += 1
    return tuple(out)


def _step_item_problem(doc: _MarkedDocument, path: Path_, item: Any) -> None:
    allowed = ", ".join(STEP_BODIES)
    if not isinstance(item, dict):
        doc.problem(path, f"expected a step such as 'start: {{user: alice}}', got {_describe(item)}")
        return
    kinds = [key for key in item if key in STEP_BODIES]
    others = [key for key in item if key not in STEP_BODIES and key not in ITEM_KEYS]
    if len(kinds) > 1:
        doc.problem(
            (*path, kinds[1]),
            f"more than one step in one item ({', '.join(map(str, kinds))}); write each as its own list item",
            key=True,
            shown=path,
        )
    elif others:
        for key in others:
            doc.problem(
                (*path, key),
                f"unknown step {key!r}{did_you_mean(str(key), STEP_BODIES)}; allowed: {allowed}",
                key=True,
                shown=path,
            )
    else:
        doc.problem(path, f"missing step; allowed: {allowed}")


def _pydantic_problems(doc: _MarkedDocument, error: ValidationError) -> None:
    for details in error.errors():
        _one_pydantic_problem(doc, details)


def _one_pydantic_problem(doc: _MarkedDocument, details: ErrorDetails) -> None:
    path = _normalise_loc(details["loc"])
    kind = details["type"]
    value = details.get("input")
    if kind == "union_tag_not_found":
        _step_item_problem(doc, path, value)
    elif kind == "extra_forbidden":
        parent, name = path[:-1], str(path[-1])
        allowed = _fields_allowed_at(parent) or []
        if len(parent) == 2 and parent[0] in _STEP_LISTS:
            message = f"unknown key {name!r} next to a step; a step item may only add: {', '.join(allowed)}"
        else:
            message = f"unknown field {name!r}{did_you_mean(name, allowed)}; allowed: {', '.join(allowed)}"
        doc.problem(path, message, key=True, shown=parent)
    elif kind == "missing":
        doc.problem(path[:-1], f"missing required field {path[-1]!r}")
    elif kind in _EXPECTED:
        message = f"expected {_EXPECTED[kind]}, got {_describe(value)}"
        if kind == "string_type" and isinstance(value, (bool, int, float)):
            message += "; quote it to make it a string"
        doc.problem(path, message)
    elif kind == "literal_error":
        doc.problem(path, f"expected {details.get('ctx', {}).get('expected')}, got {_describe(value)}")
    elif kind == "too_short" and isinstance(value, list):
        doc.problem(path, "must not be empty")
    elif kind == "greater_than":
        bound = details.get("ctx", {}).get("gt")
        shown = f"{bound:g}" if isinstance(bound, (int, float)) else str(bound)
        doc.problem(path, f"expected a number greater than {shown}, got {_describe(value)}")
    elif kind == "value_error":
        doc.problem(path, details["msg"].removeprefix("Value error, "))
    else:
        doc.problem(path, details["msg"])


# ------------------------------------------------------------------------------ semantic checks
def _check_config(doc: _MarkedDocument) -> None:
    """Config names must be known and values plain data, since they end up in jupyterhub_config.py.

    The scenario's own ``kubespawner:`` / ``hub_config:`` and every ``restart_hub`` config change get
    the same checks, so a typo in a change made halfway through fails at collection too.
    """
    data = doc.data if isinstance(doc.data, dict) else {}
    _check_traits(doc, ("kubespawner",), data.get("kubespawner"))
    _check_hub_config(doc, ("hub_config",), data.get("hub_config"))
    for path, body in _raw_bodies(data, "restart_hub"):
        _check_traits(doc, (*path, "kubespawner_set"), body.get("kubespawner_set"))
        _check_hub_config(doc, (*path, "hub_config_set"), body.get("hub_config_set"))
        unset = body.get("kubespawner_unset")
        if isinstance(unset, list):
            for index, name in enumerate(unset):
                if isinstance(name, str):
                    _check_trait_name(doc, (*path, "kubespawner_unset", index), name, key=False)
            both = [n for n in unset if isinstance(n, str) and n in (body.get("kubespawner_set") or {})]
            for name in both:
                doc.problem(
                    (*path, "kubespawner_unset", unset.index(name)),
                    f"trait {name!r} is both set and unset in one restart; keep one of them",
                )


def _raw_bodies(data: dict[Any, Any], kind: str) -> Iterator[tuple[Path_, dict[Any, Any]]]:
    """``(path of the body, body)`` of every ``kind`` step item in the raw data."""
    for list_name in _STEP_LISTS:
        items = data.get(list_name)
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            if isinstance(item, dict) and isinstance(item.get(kind), dict):
                yield (list_name, index, kind), item[kind]


def _check_traits(doc: _MarkedDocument, path: Path_, traits: Any) -> None:
    if not isinstance(traits, dict):
        return
    _check_plain(doc, path, traits)
    for name in traits:
        _check_trait_name(doc, (*path, name), str(name))


def _check_hub_config(doc: _MarkedDocument, path: Path_, hub_config: Any) -> None:
    if not isinstance(hub_config, dict):
        return
    _check_plain(doc, path, hub_config)
    for name in hub_config:
        text = str(name)
        if text.startswith("KubeSpawner."):
            where = "'kubespawner:'" if path == ("hub_config",) else "'kubespawner_set:'"
            doc.problem(
                (*path, name), f"{text!r} belongs under {where} as {text[12:]!r}", key=True, shown=path
            )
        elif not _HUB_CONFIG_KEY.match(text):
            doc.problem(
                (*path, name),
                f"invalid key {text!r}; expected 'Class.trait' such as 'JupyterHub.allow_named_servers'",
                key=True,
                shown=path,
            )


def _check_plain(doc: _MarkedDocument, path: Path_, value: Any, depth: int = 0) -> None:
    """Flag values YAML typed as something other than JSON-like data (dates, binary, sets)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) and depth > 0:
                doc.problem(
                    (*path, key), f"mapping keys must be strings, got {_describe(key)}", key=True, shown=path
                )
            _check_plain(doc, (*path, key), item, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_plain(doc, (*path, index), item, depth + 1)
    elif not isinstance(value, (str, int, float, bool, type(None))):
        doc.problem(
            path, f"YAML read this as a {type(value).__name__} ({value}); quote it to make it a string"
        )


def _check_trait_name(doc: _MarkedDocument, path: Path_, name: str, *, key: bool = True) -> None:
    """A KubeSpawner trait name at ``path`` (a mapping key, or a list item with ``key=False``)."""
    if name in KUBESPAWNER_TRAITS:
        return
    if name.startswith(("KubeSpawner.", "c.KubeSpawner.")):
        bare = name.split("KubeSpawner.", 1)[1]
        message = f"write the bare trait name {bare!r}, not {name!r}"
    else:
        message = (
            f"unknown KubeSpawner trait {name!r}{did_you_mean(name, KUBESPAWNER_TRAITS)}; allowed: the "
            "configurable KubeSpawner traits (harness/scenario/kubespawner_traits.py)"
        )
    doc.problem(path, message, key=key, shown=path[:-1] if key else path)


def _iter_steps(scenario: Scenario) -> Iterator[tuple[Path_, Step]]:
    for list_name, items in (("steps", scenario.steps), ("finally", scenario.finally_)):
        for index, item in enumerate(items):
            yield (list_name, index), item


def _check_references(doc: _MarkedDocument, scenario: Scenario) -> None:
    users: dict[str, User] = {}
    for index, user in enumerate(scenario.users):
        if user.name in users:
            doc.problem(("users", index, "name"), f"duplicate user {user.name!r}")
        users.setdefault(user.name, user)
    declared = ", ".join(users)
    for path, item in _iter_steps(scenario):
        body = item.body
        user_name = getattr(body, "user", None)
        if user_name is None:
            continue
        if user_name not in users:
            doc.problem(
                (*path, item.kind, "user"),
                f"unknown user {user_name!r}{did_you_mean(user_name, users)}; declared users: {declared}",
            )
            continue
        server = getattr(body, "server", "")
        if server and server not in users[user_name].named_servers:
            servers = ", ".join(repr(name) for name in ["", *users[user_name].named_servers])
            doc.problem(
                (*path, item.kind, "server"),
                f"unknown server {server!r} of user {user_name!r}"
                f"{did_you_mean(server, users[user_name].named_servers)}; declared: {servers} "
                "(add it to the user's named_servers)",
            )


def _check_volume_references(doc: _MarkedDocument, scenario: Scenario) -> None:
    """A create_pvc's volume_name must name a create_pv of the scenario: the harness gives that PV its
    cluster-wide name, and binding to someone else's PV would touch what the harness does not own."""
    volumes: list[str] = []
    for path, item in _iter_steps(scenario):
        if isinstance(item.body, CreatePvStep):
            if item.body.name in volumes:
                doc.problem((*path, item.kind, "name"), f"duplicate PV {item.body.name!r}")
            volumes.append(item.body.name)
    for path, item in _iter_steps(scenario):
        volume = item.body.volume_name if isinstance(item.body, CreatePvcStep) else None
        if volume is not None and volume not in volumes:
            made = ", ".join(dict.fromkeys(volumes)) or "none"
            doc.problem(
                (*path, item.kind, "volume_name"),
                f"unknown PV {volume!r}{did_you_mean(volume, volumes)}; volume_name "
                f"must name a create_pv step's PV (created here: {made})",
            )


# ---------------------------------------------------------------------------------------- public
def parse_scenario(text: str, file: str = "<string>", base_dir: Path | None = None) -> Scenario:
    """Validate scenario YAML ``text``; ``file`` is the name messages show. Raises ScenarioError.

    ``base_dir`` is where a relative z2jh ``values_file`` is read from (default: ``file``'s directory).
    """
    doc = _compose(text, file)
    resolved: dict[Path_, Resolved] = {}
    scenario: Scenario | None = None
    if not doc.problems:
        if not isinstance(doc.data, dict):
            doc.problem(
                (), f"expected a mapping with name, description, users and steps; got {_describe(doc.data)}"
            )
        else:
            try:
                scenario = Scenario.model_validate(doc.data)
            except ValidationError as error:
                _pydantic_problems(doc, error)
        _check_config(doc)
        resolved = check_z2jh(doc, Path(file).parent if base_dir is None else base_dir)
    if scenario is not None:
        _check_references(doc, scenario)
        _check_volume_references(doc, scenario)
    if doc.problems:
        raise ScenarioError(doc.problems)
    assert scenario is not None
    attach_z2jh(scenario, resolved)
    scenario._source = file
    for path, item in _iter_steps(scenario):
        item._location = doc.location(path)
    return scenario


def load_scenario(path: Path | str, display: str | None = None) -> Scenario:
    """Load the scenario file at ``path``; messages name it ``display`` (default: ``path`` as given)."""
    file = Path(path)
    name = display if display is not None else str(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([ScenarioProblem(SourceLocation(name, 1, 1), "", f"cannot read: {exc}")]) from exc
    return parse_scenario(text, name, base_dir=file.parent)
