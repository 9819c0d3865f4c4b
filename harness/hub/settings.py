"""The hub configuration in force, and what a ``restart_hub`` config change does to it.

A scenario's ``kubespawner:`` / ``hub_config:`` are the config the hub starts with; a ``restart_hub``
with ``kubespawner_set`` / ``kubespawner_unset`` / ``hub_config_set`` changes it for every later step,
the way an admin edits ``jupyterhub_config.py`` (or chart values) and restarts. Changes stack: the
second restart starts from what the first one left. This module is pure data: the target renders and
deploys the result, and the diff it reports is of the *effective* config (harness defaults included),
so ``unset`` says what value took over.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: The config class the scenario's ``kubespawner:`` section configures.
KUBESPAWNER = "KubeSpawner"

#: ``Class -> trait -> value``: the shape of a rendered config (``harness.hub.config.merged_config``).
EffectiveConfig = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class HubSettings:
    """What the scenario configures, as in force now: KubeSpawner traits and other ``Class.trait``s."""

    kubespawner: Mapping[str, Any] = field(default_factory=dict)
    hub_config: Mapping[str, Any] = field(default_factory=dict)

    def changed(self, change: ConfigChange) -> HubSettings:
        """These settings with ``change`` applied (set wins over unset of the same trait: never both);
        a change that replaces the settings (a chart upgrade) starts from its replacement."""
        base = change.replace if change.replace is not None else self
        traits = {k: v for k, v in base.kubespawner.items() if k not in change.kubespawner_unset}
        traits.update(change.kubespawner_set)
        other = dict(base.hub_config)
        other.update(change.hub_config_set)
        return HubSettings(kubespawner=traits, hub_config=other)


@dataclass(frozen=True)
class ConfigChange:
    """One ``restart_hub``'s config change, as its body gives it."""

    kubespawner_set: Mapping[str, Any] = field(default_factory=dict)
    kubespawner_unset: Sequence[str] = ()
    hub_config_set: Mapping[str, Any] = field(default_factory=dict)
    #: New settings as a whole (``upgrade_chart``: the new chart's mapping), before set/unset apply.
    replace: HubSettings | None = None

    @classmethod
    def of(cls, body: Any) -> ConfigChange:
        return cls(
            kubespawner_set=dict(body.kubespawner_set),
            kubespawner_unset=tuple(body.kubespawner_unset),
            hub_config_set=dict(body.hub_config_set),
        )

    def __bool__(self) -> bool:
        return bool(
            self.kubespawner_set or self.kubespawner_unset or self.hub_config_set or self.replace is not None
        )

    def touched(self) -> list[tuple[str, str, str]]:
        """``(verb, Class, trait)`` for every trait the change names, in the order it names them."""
        out = [("set", KUBESPAWNER, t) for t in self.kubespawner_set]
        out += [("unset", KUBESPAWNER, t) for t in self.kubespawner_unset]
        for dotted in self.hub_config_set:
            section, _, trait = str(dotted).partition(".")
            out.append(("set", section, trait))
        return out


class _Missing:
    def __repr__(self) -> str:
        return "<not set>"


#: A trait the effective config does not set (KubeSpawner/JupyterHub's own default applies).
MISSING: Any = _Missing()


@dataclass(frozen=True)
class TraitDiff:
    """What one named trait was before the restart and is after it, in the effective config."""

    verb: str
    section: str
    trait: str
    before: Any
    after: Any

    @property
    def name(self) -> str:
        """Bare for KubeSpawner traits (as the scenario writes them), ``Class.trait`` otherwise."""
        return self.trait if self.section == KUBESPAWNER else f"{self.section}.{self.trait}"

    @property
    def took_effect(self) -> bool:
        return self.before != self.after

    def text(self) -> str:
        """``set pvc_name_template: 'claim-{username}' (was 'claim-{username}--{servername}')``."""
        if self.verb == "unset":
            if not self.took_effect:
                return f"unset {self.name} (was not set: no change)"
            now = "" if self.after is MISSING else f"; now the harness default {self.after!r}"
            return f"unset {self.name} (was {self.before!r}{now})"
        if not self.took_effect:
            return f"set {self.name}: {self.after!r} (unchanged)"
        was = "not set" if self.before is MISSING else repr(self.before)
        return f"set {self.name}: {self.after!r} (was {was})"


def diff(before: EffectiveConfig, after: EffectiveConfig, change: ConfigChange) -> list[TraitDiff]:
    """Every trait ``change`` names, with its effective value before and after."""
    return [
        TraitDiff(
            verb,
            section,
            trait,
            (before.get(section) or {}).get(trait, MISSING),
            (after.get(section) or {}).get(trait, MISSING),
        )
        for verb, section, trait in change.touched()
    ]


def describe(diffs: Iterable[TraitDiff]) -> str:
    """The diffs as the step's progress line shows them, ``; ``-separated."""
    return "; ".join(d.text() for d in diffs)
