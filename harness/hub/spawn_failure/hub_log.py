"""The hub log, parsed: the records about one user's spawn and the Kubernetes Status inside them."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from harness.hub.spawn_failure.reasons import (
    _HEADLINE_MAX,
    USERNAME_ANNOTATION,
    Reason,
    Stamp,
)

# -------------------------------------------------------------------------- hub log: pure parsing
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d) ?")


def parse_stamp(text: str) -> Stamp | None:
    """The RFC3339(Nano) timestamp a kubelet puts before each line with ``timestamps=true``.

    Go trims trailing zeros of the fraction ("...05.1Z" vs "...05.12Z"), so stamps compare as
    numbers, not strings.
    """
    m = _STAMP.match(text)
    if not m:
        return None
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    seconds = int(datetime.fromisoformat(m.group(1) + zone).timestamp())
    return seconds, int((m.group(2) or "0").ljust(9, "0"))


def lines_after(text: str, after: Stamp | None) -> list[str]:
    """Lines of a ``timestamps=true`` log written after ``after``, stamps removed (None: all lines)."""
    out: list[str] = []
    keep = after is None
    for line in text.splitlines():
        stamp = parse_stamp(line)
        if stamp is not None:
            keep = after is None or stamp > after
            line = _STAMP.sub("", line, count=1)
        if keep:
            out.append(line)
    return out


#: JupyterHub's log format: ``[E 2026-12-02 01:18:11.716 JupyterHub user:1072] message``.
_HEADER = re.compile(
    r"^\[(?P<level>[A-Z]) (?P<when>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?) "
    r"(?P<where>[^\]]*)\] ?(?P<msg>.*)$"
)
#: Tornado's LogFormatter indents every further line of a record (traceback, exception text) by four.
_CONTINUATION = "    "


@dataclass
class LogRecord:
    """One hub log record: its header and all its lines (the first is the message)."""

    level: str
    where: str
    lines: list[str]

    @property
    def text(self) -> str:
        return "\n".join(self.lines).rstrip()

    def account(self) -> str:
        """The message before any traceback, then the exception the traceback ends with."""
        lines = self.lines
        if "Traceback (most recent call last):" not in lines:
            return self.text
        start = lines.index("Traceback (most recent call last):")
        frames = lines[start + 1 :]
        last_frame = max((i for i, line in enumerate(frames) if line.startswith(" ")), default=-1)
        tail = [line for line in frames[last_frame + 1 :] if line.strip()]
        head = [line for line in lines[:start] if line.strip()]
        if head and len(head[0]) > _HEADLINE_MAX and tail:
            head, tail = tail, head  # a repr of a manifest or Future says less than the exception line
        return "\n".join(head + tail)


def log_records(lines: Iterable[str]) -> list[LogRecord]:
    """Group log lines into records; lines in another format become records of their own."""
    records: list[LogRecord] = []
    for line in lines:
        m = _HEADER.match(line)
        if m:
            records.append(LogRecord(m.group("level"), m.group("where"), [m.group("msg")]))
        elif records and line.startswith(_CONTINUATION):
            records[-1].lines.append(line[len(_CONTINUATION) :])
        elif line.strip():
            records.append(LogRecord("", "", [line]))
    return records


def _mentions(text: str, word: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_.-]){re.escape(word)}(?![A-Za-z0-9_-])", text) is not None


def spawn_records(records: Iterable[LogRecord], user: str, names: Iterable[str] = ()) -> list[LogRecord]:
    """Error/warning records about ``user``'s server: JupyterHub names it "<user>'s server";
    KubeSpawner's "Failed for {manifest}" carries the user annotation; others name the pod or PVC."""
    own = re.compile(rf"(?:^|\s){re.escape(user)}'s server")
    annotation = f"'{USERNAME_ANNOTATION}': '{user}'"
    found = []
    for record in records:
        if record.level not in ("E", "W", "C"):
            continue
        text = record.text
        if own.search(text) or annotation in text or any(_mentions(text, n) for n in names if n):
            found.append(record)
    # errors (with the exception) before warnings ("failed to start in 30 seconds, giving up.")
    return sorted(found, key=lambda r: r.level == "W")


_BODY = "HTTP response body:"


def statuses_in(text: str) -> list[dict[str, Any]]:
    """Kubernetes Status objects in ApiException texts (``HTTP response body: {...}``), deduplicated."""
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    for m in re.finditer(re.escape(_BODY), text):
        rest = text[m.end() :].lstrip()
        if rest.startswith(("b'", 'b"')):  # the synchronous client prints the body as a bytes repr
            rest = _bytes_literal(rest.split("\n", 1)[0])
        brace = rest.find("{")
        if brace < 0 or brace > 2:
            continue
        try:
            obj, _ = decoder.raw_decode(rest[brace:])
        except ValueError:
            continue
        if isinstance(obj, dict) and obj.get("kind") == "Status" and obj not in found:
            found.append(obj)
    return found


def _bytes_literal(line: str) -> str:
    try:
        value = ast.literal_eval(line)
    except (ValueError, SyntaxError):
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else ""


def status_reason(status: dict[str, Any]) -> Reason:
    """A Status as text: message, then code/reason and the object, then one line per cause."""
    details = status.get("details") or {}
    code, why = status.get("code"), status.get("reason") or status.get("status") or ""
    lines = [str(status.get("message") or why)]
    what = " ".join(str(details[k]) for k in ("kind", "name") if details.get(k))
    lines.append(" ".join(str(p) for p in (code, why) if p) + (f" ({what})" if what else ""))
    for cause in details.get("causes") or []:
        lines.append(
            "cause: " + ": ".join(str(cause[k]) for k in ("field", "reason", "message") if cause.get(k))
        )
    label = " ".join(str(p) for p in (code, why) if p)
    return Reason("Kubernetes Status", f"Kubernetes Status {label} in hub log", "\n".join(lines))


def log_reasons(lines: Iterable[str], user: str, names: Iterable[str] = ()) -> list[Reason]:
    """Hub log and Status reasons of ``user``'s spawn from the hub log lines written since it started."""
    reasons: list[Reason] = []
    for record in spawn_records(log_records(lines), user, names):
        reasons.append(Reason("hub log", "hub log", record.account()))
        for status in statuses_in(record.text):
            reason = status_reason(status)
            if reason not in reasons:
                reasons.append(reason)
    return reasons
