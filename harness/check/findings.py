"""What a check run observed, in plain words: PVC names, sharing, deletion, the upgrade, hazards.

Every sentence comes from the results file (the ``observe`` notes and the steps' outcomes), never from
a prediction of what KubeSpawner should do, so a finding is exactly as true as the run was real.
A finding's level decides the exit code: ``fail`` (a user loses access or a step failed) beats
``hazard`` (works as configured, and is dangerous) beats ``info``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.check.derive import PAIR, Derived, file_name
from harness.report.cells import Cell
from harness.results import StepStatus, Verdict

Level = Literal["info", "hazard", "fail"]
#: Exit codes of ``jhsc check`` (2 is bad input, from the CLI).
EXIT: dict[Level, int] = {"info": 0, "fail": 1, "hazard": 3}
_WORST: tuple[Level, ...] = ("fail", "hazard", "info")


@dataclass(frozen=True)
class Finding:
    level: Level
    text: str
    #: The section it goes under in the report.
    topic: str = "Results"


@dataclass(frozen=True)
class Observation:
    label: str
    pvcs: dict[str, str]
    user: str | None = None
    server: str = ""
    mounts: tuple[str, ...] = ()
    #: claim -> the subPaths this server mounts it at ("" = the whole volume); absent in older notes.
    sub_paths: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass
class _Cell:
    """One generated scenario's cell, read for findings."""

    derived: Derived
    cell: Cell | None
    observations: list[Observation] = field(default_factory=list)

    def seen(self, label: str, server: str | None = None, user: str | None = None) -> Observation | None:
        for obs in self.observations:
            if obs.label == label and (server is None or obs.server == server) and (user in (None, obs.user)):
                return obs
        return None

    def failed_step(self) -> str | None:
        if self.cell is None:
            return "did not run"
        if self.cell.failure is not None:
            return f"{self.cell.failure.label}: {self.cell.failure.reason}"
        if self.cell.verdict in (Verdict.ERROR, Verdict.FAIL):
            return self.cell.reason or "; ".join(self.cell.errors) or str(self.cell.verdict.value)
        return None

    def failed_for(self, file: str) -> str | None:
        """The failure, when it is the check of this server's file (each server has its own file)."""
        failure = self.cell.failure if self.cell is not None else None
        return f"{failure.label}: {failure.reason}" if failure and file in failure.label else None

    def passed(self, kind: str) -> list[str]:
        return (
            [s.label for s in self.cell.steps if s.kind == kind and s.status == StepStatus.PASSED]
            if self.cell
            else []
        )


def observations(cell: Cell) -> list[Observation]:
    """The ``observe`` notes of a cell, in step order."""
    found = []
    for step in cell.steps:
        if step.kind != "observe" or step.status != StepStatus.PASSED:
            continue
        try:
            note: dict[str, Any] = json.loads(step.note)
        except json.JSONDecodeError:
            continue
        found.append(
            Observation(
                label=str(note.get("label", "")),
                pvcs={str(k): str(v) for k, v in (note.get("pvcs") or {}).items()},
                user=note.get("user"),
                server=str(note.get("server", "")),
                mounts=tuple(note.get("mounts") or ()),
                sub_paths={str(k): tuple(v) for k, v in (note.get("sub_paths") or {}).items()},
            )
        )
    return found


def _code(names: Iterable[str]) -> str:
    return ", ".join(f"`{name}`" for name in names) or "none"


def _server(user: str, server: str) -> str:
    return f"`{user}`'s server `{server}`" if server else f"`{user}`'s default server"


def _deletes(deleted: list[str], kept: list[str]) -> str:
    """``deletes `a` and keeps `b``` / ``deletes no claim``."""
    parts = ([f"deletes {_code(deleted)}"] if deleted else []) + ([f"keeps {_code(kept)}"] if kept else [])
    return " and ".join(parts) or "deletes no claim"


# ----------------------------------------------------------------------------------------- topics
def _names(cells: list[_Cell]) -> list[Finding]:
    out = []
    for c in cells:
        if c.derived.role != "lifecycle":
            continue
        user = c.derived.user
        started = [o for o in c.observations if o.label == "started"]
        if not started:
            out.append(Finding("fail", f"`{user}` cannot start a server: {c.failed_step()}", "PVC names"))
            continue
        parts = [
            f"{_code(o.mounts)} ({'server `' + o.server + '`' if o.server else 'default server'})"
            for o in started
        ]
        out.append(Finding("info", f"`{user}` → " + "; ".join(parts), "PVC names"))
    return out


def _overlap(one: str, other: str) -> bool:
    """Whether two subPaths of one volume reach the same files ("" is the whole volume)."""
    a, b = one.strip("/"), other.strip("/")
    return not a or not b or a == b or a.startswith(b + "/") or b.startswith(a + "/")


def _sharing(cells: list[_Cell]) -> list[Finding]:
    """Users whose servers mount one claim where their subPaths meet (a per-user subPath is not sharing)."""
    mounted: dict[str, set[tuple[str, str]]] = defaultdict(set)  # claim -> (user, subPath)
    for c in cells:
        if c.derived.role in ("lifecycle", "pair"):
            for o in c.observations:
                if o.label == "started" and o.user:
                    for claim in o.mounts:
                        for sub in o.sub_paths.get(claim, ("",)):
                            mounted[claim].add((o.user, sub))
    out = []
    for claim, uses in sorted(mounted.items()):
        users = {u for u, sub in uses for v, other in uses if u != v and _overlap(sub, other)}
        if len(users) > 1:
            out.append(
                Finding(
                    "hazard",
                    f"HAZARD: users {_code(sorted(users))} all mount the claim `{claim}`: they share one "
                    "volume and can read and overwrite each other's files. Put `{user_server}` (or "
                    "`{username}`) in the claim name template to give each user their own claim, or, "
                    "for one static claim, a per-user `subPath` such as `{username}`.",
                    "Sharing",
                )
            )
    return out


def _pair_deletion(cells: list[_Cell]) -> list[Finding]:
    first, second = PAIR
    for c in cells:
        if c.derived.role != "pair":
            continue
        mine = c.seen("started", user=first)
        after = c.seen(f"after deleting {second}")
        if mine is None or after is None:
            return []
        gone = [claim for claim in mine.mounts if claim not in after.pvcs]
        if gone:
            return [
                Finding(
                    "hazard",
                    f"HAZARD: deleting user `{second}` deleted {_code(gone)}, "
                    f"the claim `{first}` still uses: "
                    "deleting any one user deletes everyone's files on it (kubespawner#880). Set "
                    "`delete_pvc: false` for a shared claim, or create it yourself.",
                    "Deleting users",
                )
            ]
    return []


def _lifecycle(cells: list[_Cell]) -> list[Finding]:
    out: list[Finding] = []
    for c in cells:
        if c.derived.role != "lifecycle" or not c.seen("started"):
            continue
        user = c.derived.user
        mounted = sorted({claim for o in c.observations if o.label == "started" for claim in o.mounts})
        stopped, named_gone, user_gone = (
            c.seen("stopped"),
            c.seen("after deleting the named server"),
            c.seen("after deleting the user"),
        )
        checks = len(c.passed("expect_file"))
        if stopped is not None:
            out.append(
                Finding(
                    "info",
                    f"`{user}`: files survived a server stop/start and a hub restart ({checks} file checks); "
                    f"stopped servers keep {_code(c for c in mounted if c in stopped.pvcs)}.",
                    "Stop, start and hub restart",
                )
            )
        else:
            out.append(Finding("fail", f"`{user}`: {c.failed_step()}", "Stop, start and hub restart"))
            continue
        named = [o for o in c.observations if o.label == "started" and o.server]
        if named and named_gone is not None:
            claims = [claim for claim in named[0].mounts if claim in stopped.pvcs]
            deleted = [claim for claim in claims if claim not in named_gone.pvcs]
            kept = [claim for claim in claims if claim in named_gone.pvcs]
            text = f"Deleting `{user}`'s named server `{named[0].server}` {_deletes(deleted, kept)}"
            level: Level = "info"
            default = {m for o in c.observations if o.label == "started" and not o.server for m in o.mounts}
            if any(claim not in default for claim in kept):
                text += " (left behind: an orphaned claim you delete by hand; kubespawner#873)"
            out.append(Finding(level, text + ".", "Deleting servers and users"))
        if user_gone is not None:
            before = named_gone or stopped
            deleted = sorted(claim for claim in before.pvcs if claim not in user_gone.pvcs)
            kept = sorted(user_gone.pvcs)
            text = f"Deleting user `{user}` {_deletes(deleted, kept)}."
            out.append(Finding("info", text, "Deleting servers and users"))
    return out


#: Why an upgrade moves a user to another claim: with the server stopped first, or left running.
_UPGRADE_CITE = {
    False: "kubespawner#744 changed how names become claim names; z2jh#3574 for named servers",
    True: "kubespawner#937: stopped on the new release, the server forgets its legacy claim",
}


def _upgrade(cells: list[_Cell], target: str) -> list[Finding]:
    out: list[Finding] = []
    for c in cells:
        if c.derived.role not in ("upgrade", "upgrade-running"):
            continue
        user = c.derived.user
        running = c.derived.role == "upgrade-running"
        when = " (running during the upgrade, then stopped and started)" if running else ""
        cite = _UPGRADE_CITE[running]
        for before in (o for o in c.observations if o.label == "before the upgrade"):
            after = c.seen("after the upgrade", server=before.server)
            where = _server(user, before.server) + when
            if after is None:
                out.append(
                    Finding(
                        "fail",
                        f"After the upgrade to {target}, {where} (claim {_code(before.mounts)}) "
                        f"does not come back: {c.failed_step()}",
                        "The upgrade",
                    )
                )
                continue
            if list(after.mounts) == list(before.mounts):
                lost = c.failed_for(file_name(user, before.server))
                text = f"After the upgrade to {target}, {where} keeps its claim {_code(after.mounts)}"
                out.append(
                    Finding(
                        "fail" if lost else "info",
                        text + (f", but: {lost}" if lost else " and its files."),
                        "The upgrade",
                    )
                )
            else:
                out.append(
                    Finding(
                        "fail",
                        f"After the upgrade to {target}, {where} mounts {_code(after.mounts)} instead of "
                        f"{_code(before.mounts)}: users like `{user}` start on a different claim and "
                        f"their files stay behind in the old one ({cite}).",
                        "The upgrade",
                    )
                )
    return out


def _cells(cells: list[_Cell]) -> list[Finding]:
    out: list[Finding] = []
    for c in cells:
        if c.cell is None:
            out.append(Finding("fail", f"`{c.derived.name}` did not run (see check-run.log).", "Scenarios"))
            continue
        for hazard in c.cell.hazards:
            out.append(Finding("hazard", f"HAZARD ({c.derived.name}): {hazard}", "Scenarios"))
        for issue in c.cell.known_issues:
            out.append(
                Finding(
                    "hazard", f"KNOWN ISSUE ({c.derived.name}): {issue} applies to your config.", "Scenarios"
                )
            )
        if c.derived.role == "library" and c.cell.verdict in (Verdict.FAIL, Verdict.ERROR):
            out.append(
                Finding(
                    "fail",
                    f"The library's `{c.derived.name}` fails over your config: {c.failed_step()}",
                    "Scenarios",
                )
            )
        elif c.cell.verdict == Verdict.ERROR:
            out.append(Finding("fail", f"`{c.derived.name}` could not run: {c.failed_step()}", "Scenarios"))
    return out


def findings(derived: list[Derived], cells: Iterable[Cell], upgrade_target: str | None) -> list[Finding]:
    """Every finding of a check run, topic by topic."""
    by_name = {cell.scenario: cell for cell in cells}
    read = [_Cell(d, by_name.get(d.name)) for d in derived]
    for c in read:
        c.observations = observations(c.cell) if c.cell else []
    found = _names(read) + _sharing(read) + _pair_deletion(read) + _lifecycle(read)
    if upgrade_target:
        found += _upgrade(read, upgrade_target)
    return found + _cells(read)


def worst(found: Iterable[Finding]) -> Level:
    levels = {f.level for f in found}
    return next((level for level in _WORST if level in levels), "info")


def exit_code(found: Iterable[Finding]) -> int:
    return EXIT[worst(found)]


def render(found: list[Finding], described: str) -> str:
    """The plain-words section of ``check.md``."""
    verdict = {
        "fail": "FAIL: something a user relies on broke",
        "hazard": "HAZARD: works, and is dangerous",
        "info": "OK: nothing failed, nothing hazardous",
    }[worst(found)]
    lines = [f"# jhsc check: {described}", "", f"**{verdict}.**", ""]
    topics: dict[str, list[Finding]] = {}
    for f in found:
        topics.setdefault(f.topic, []).append(f)
    titles = {"PVC names": "Your users' PVCs will be named"}
    for topic, items in topics.items():
        lines += [f"## {titles.get(topic, topic)}", ""]
        lines += [f"- {'**' + f.text + '**' if f.level != 'info' else f.text}" for f in items]
        lines.append("")
    return "\n".join(lines)
