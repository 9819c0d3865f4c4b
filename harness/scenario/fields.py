"""What every scenario model shares: strict validation, and the version and issue checks.

Kept apart from the models so step bodies (``bodies``, ``upgrade_bodies``, ...), step items
(``steps``) and the scenario (``models``) build on one base and import one way.
"""

from __future__ import annotations

import re

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict

#: Version gates a step item may carry next to its step key.
GATE_KEYS: tuple[str, ...] = ("jupyterhub", "kubespawner")
#: ``kubespawner#937``, ``z2jh#3574``, ``jupyterhub#4800``: an upstream issue or PR the report links.
_UPSTREAM_REF = re.compile(r"^(kubespawner|z2jh|jupyterhub)#[0-9]+$")


class Strict(BaseModel):
    """Base of every model: unknown fields are errors and YAML types are not coerced.

    Strict mode matters for hand-written YAML: ``server: no`` is a boolean and ``size: 1.5`` a float,
    and silently turning them into strings would hide the author's mistake.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


#: ``restart_hub: {kubespawner: under-test}``: the release of the matrix row being tested.
UNDER_TEST = "under-test"


def exact_version(value: str | None) -> str | None:
    if value is not None and value != UNDER_TEST:
        try:
            Version(value)
        except InvalidVersion:
            raise ValueError(
                f"invalid version {value!r}; expected an exact version such as '7.1.0' or {UNDER_TEST!r}"
            ) from None
    return value


def check_specifier(value: str | None) -> str | None:
    if value is not None:
        try:
            SpecifierSet(value)
        except InvalidSpecifier:
            raise ValueError(
                f"invalid version specifier {value!r}; expected PEP 440 such as '>=7' or '>=6,<7'"
            ) from None
    return value


def check_upstream_ref(value: str | None) -> str | None:
    if value is not None and not _UPSTREAM_REF.match(value):
        raise ValueError(
            f"invalid upstream reference {value!r}; expected kubespawner#N, z2jh#N or jupyterhub#N"
        )
    return value


def admits(ks_spec: str | None, jh_spec: str | None, kubespawner: str, jupyterhub: str) -> bool:
    for spec, version in ((ks_spec, kubespawner), (jh_spec, jupyterhub)):
        if spec is not None and not SpecifierSet(spec).contains(version, prereleases=True):
            return False
    return True
