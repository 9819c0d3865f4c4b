"""Where a spawn failure's reason came from, and the reasons of one spawn, best first."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Source names, most specific first: ``FailureReasons.best`` and ``find`` prefer them in this order.
SOURCES: tuple[str, ...] = ("Kubernetes Status", "event", "hub log", "hub")
#: Labels of the hub pod (the harness's own Deployment and the z2jh chart both set it).
HUB_POD_SELECTOR = "component=hub"
USERNAME_ANNOTATION = "hub.jupyter.org/username"
SERVERNAME_ANNOTATION = "hub.jupyter.org/servername"
#: How long ``explain`` waits for the hub's log record of a failure the API already reported.
LOG_SETTLE_SECONDS = 3.0
_HEADLINE_MAX = 300
_SHORT_KIND = {"PersistentVolumeClaim": "pvc", "Pod": "pod"}

Stamp = tuple[int, int]  # (epoch seconds, nanoseconds) of a kubelet log timestamp


# ----------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Reason:
    """One source's account of the failure; ``text`` is what ``expect_spawn_failure`` matches."""

    source: str
    #: Where it was found, for the step line: "hub log", "event ProvisioningFailed on pvc/claim-x".
    where: str
    text: str

    @property
    def headline(self) -> str:
        first = next((line.strip() for line in self.text.splitlines() if line.strip()), "")
        return first if len(first) <= _HEADLINE_MAX else first[: _HEADLINE_MAX - 3] + "..."

    @property
    def origin(self) -> str:
        return f"from {self.where}"

    def short(self) -> str:
        return f"{self.headline} ({self.origin})"


@dataclass
class FailureReasons:
    """Everything found about one spawn, and which sources could not be read (and why)."""

    reasons: list[Reason] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)

    def ordered(self) -> list[Reason]:
        """Most specific source first; within a source, in the order found."""
        return sorted(self.reasons, key=lambda r: SOURCES.index(r.source))

    def best(self) -> Reason | None:
        ordered = self.ordered()
        return ordered[0] if ordered else None

    def find(self, needle: str) -> Reason | None:
        """The most specific reason whose text contains ``needle``."""
        return next((r for r in self.ordered() if needle in r.text), None)

    def summary(self) -> str:
        """``<first line of the most specific source> (from ...)``, plus the sources not read."""
        best = self.best()
        text = best.short() if best else "no reason found"
        if self.unavailable:
            text += " [not read: " + "; ".join(self.unavailable) + "]"
        return text
