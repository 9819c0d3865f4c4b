"""What changed between two effective hub configs, in the words a progress line can carry.

A chart upgrade changes many traits at once (the PVC name template, the home volume, labels), and the
data-loss question is which of them changed, from what to what. So the diff walks into mappings and
equal-length lists to name the changed leaf (``volumes[0].persistentVolumeClaim.claimName``) instead
of printing two whole volume lists; anything else that differs is shown whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

#: ``Class -> trait -> value``, as ``harness.hub.config.merged_config`` returns it.
EffectiveConfig = Mapping[str, Mapping[str, Any]]


class _Missing:
    def __repr__(self) -> str:
        return "not set"


_MISSING: Any = _Missing()


def _key(part: Any) -> str:
    text = str(part)
    return f".{text}" if text.isidentifier() else f"[{part!r}]"


def _leaves(name: str, before: Any, after: Any) -> Iterator[str]:
    if before == after:
        return
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for part in [*before, *(k for k in after if k not in before)]:
            yield from _leaves(name + _key(part), before.get(part, _MISSING), after.get(part, _MISSING))
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            yield from _leaves(f"{name}[{index}]", old, new)
    else:
        yield f"{name}: {before!r} -> {after!r}"


def diff_configs(before: EffectiveConfig, after: EffectiveConfig) -> list[str]:
    """Every changed trait (KubeSpawner traits bare, as scenarios write them; others ``Class.trait``)."""
    changes: list[str] = []
    for section in sorted({*before, *after}):
        old, new = before.get(section) or {}, after.get(section) or {}
        prefix = "" if section == "KubeSpawner" else f"{section}."
        for trait in sorted({*old, *new}):
            changes += _leaves(prefix + trait, old.get(trait, _MISSING), new.get(trait, _MISSING))
    return changes
