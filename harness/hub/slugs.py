"""The name pieces KubeSpawner derives from a user (and server) name, for both of its slug schemes.

Why the harness needs them: against an existing hub, scenario user ``alice`` runs as ``jhsc-alice``,
so a PVC the scenario calls ``claim-alice`` is, on that hub, whatever KubeSpawner's template makes of
``jhsc-alice``. That is not a plain substitution: the legacy ``escape`` scheme (KubeSpawner < 7)
turns ``jhsc-alice`` into ``jhsc-2dalice``, and the ``safe`` scheme (KubeSpawner 7's default) hashes
names that are not DNS labels (``carol_x`` -> ``carol-x---<sha256 prefix>``). These functions follow
KubeSpawner's documented rules (``kubespawner/slugs.py``); tests/unit checks them against the real
module, which the harness does not depend on at run time.
"""

from __future__ import annotations

import hashlib
import re
import string

SCHEMES: tuple[str, ...] = ("safe", "escape")

#: KubeSpawner's per-field budget when it joins user and server names.
_SLUG_MAX_LENGTH = 48
_HASH_LENGTH = 8
_ESCAPE_SAFE = frozenset(string.ascii_lowercase + string.digits)
_OBJECT_NAME = re.compile(r"^[a-z0-9-]+$")
_NON_ALPHANUM = re.compile(r"[^a-z0-9]+")


def escape_slug(name: str) -> str:
    """Legacy scheme: every byte of a character outside ``[a-z0-9]`` becomes ``-<HEX>``, then lowercase."""
    out = []
    for char in name:
        if char in _ESCAPE_SAFE:
            out.append(char)
        else:
            out.extend(f"-{byte:X}" for byte in char.encode("utf8"))
    return "".join(out).lower()


def _is_object_name(name: str) -> bool:
    return (
        0 < len(name) <= 63
        and name[0] in string.ascii_lowercase
        and name[-1] in string.ascii_lowercase + string.digits
        and bool(_OBJECT_NAME.match(name))
    )


def _safe_part(name: str, max_length: int) -> str:
    """Lowercase, runs of other characters to one '-', trimmed, starting with a letter, never empty."""
    part = _NON_ALPHANUM.sub("-", name.lower()).lstrip("-")[:max_length].rstrip("-")
    if part and part[0] not in string.ascii_lowercase:
        part = "x-" + part[: max_length - 2]
    return part or "x"


def _strip_and_hash(name: str, max_length: int) -> str:
    digest = hashlib.sha256(name.encode("utf8")).hexdigest()[:_HASH_LENGTH]
    return f"{_safe_part(name, max_length - (_HASH_LENGTH + 3))}---{digest}"


def safe_slug(name: str, max_length: int | None = None) -> str:
    """``safe`` scheme: a valid DNS label stays as is; anything else (or with '--') gets a hash suffix."""
    if "--" not in name and _is_object_name(name) and (max_length is None or len(name) <= max_length):
        return name
    return _strip_and_hash(name, max_length or 32)


def _multi_slug(names: list[str], max_length: int) -> str:
    hasher = hashlib.sha256(names[0].encode("utf8"))
    for name in names[1:]:
        hasher.update(b"\xff" + name.encode("utf8"))
    per_name = (max_length - (_HASH_LENGTH + 1)) // len(names) - 2
    return "--".join(_safe_part(n, per_name) for n in names) + f"---{hasher.hexdigest()[:_HASH_LENGTH]}"


def template_values(user: str, server: str, scheme: str) -> dict[str, str]:
    """``{username}``, ``{servername}``, ``{user_server}`` as KubeSpawner expands them under ``scheme``."""
    if scheme == "escape":
        username, servername = escape_slug(user), escape_slug(server)
        return {
            "username": username,
            "servername": servername,
            "user_server": f"{username}--{servername}" if server else username,
        }
    if scheme != "safe":
        raise ValueError(f"slug scheme must be one of {SCHEMES}, not {scheme!r}")
    username = safe_slug(user, max_length=_SLUG_MAX_LENGTH)
    servername = safe_slug(server, max_length=_SLUG_MAX_LENGTH) if server else ""
    if len(username) + len(servername) + 2 > _SLUG_MAX_LENGTH:
        user_server = _multi_slug([user, server], _SLUG_MAX_LENGTH)
    else:
        user_server = f"{username}--{servername}" if server else username
    return {"username": username, "servername": servername, "user_server": user_server}


def default_scheme(kubespawner_version: str) -> str:
    """KubeSpawner 7 introduced (and defaults to) ``safe``; earlier releases only had ``escape``."""
    try:
        major = int(kubespawner_version.split(".", 1)[0])
    except ValueError:
        return "safe"
    return "safe" if major >= 7 else "escape"
