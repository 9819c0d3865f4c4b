"""The session's arguments: where the suite comes from, what day its dependencies are of, and the
rest for pytest."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

#: Where the suite comes from when no --ks-source is given (the e2e workflow clones the same).
DEFAULT_SOURCE = "https://github.com/jupyterhub/kubespawner"
#: The release whose suite is the check (issue 12: 207/207 on a real Kubernetes 1.20).
DEFAULT_REF = "7.1.0"

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class UsageError(ValueError):
    """A bad argument; the message names it."""


@dataclass(frozen=True)
class SuiteArgs:
    #: a checkout (a dir with tests/conftest.py) or anything ``git clone`` takes (URL, bare repo)
    source: str
    #: the tag/branch to clone; a checkout is used as it is
    ref: str
    #: uv's --exclude-newer (RFC 3339); None: the day after the source's commit date
    exclude_newer: str | None
    #: passed to pytest as they are (e.g. ``-k spawn_start -x``)
    pytest_args: tuple[str, ...]
    #: leave the work dir (clone, venv, the stopped cluster's data dir with pod logs) for post-mortem
    keep: bool = False


def parse_args(argv: Sequence[str]) -> SuiteArgs:
    parser = argparse.ArgumentParser(
        prog="nox -s kubespawner-suite --",
        allow_abbrev=False,  # an abbreviation of ours must not swallow a pytest option
        description="Run KubeSpawner's own test suite against the embedded cluster. "
        "Arguments that are not ours go to pytest.",
    )
    parser.add_argument(
        "--ks-source",
        default=DEFAULT_SOURCE,
        metavar="DIR|GIT_URL",
        help="a KubeSpawner checkout (used as it is) or a git URL/repository to clone --ks-ref from "
        f"(default {DEFAULT_SOURCE}); the PyPI sdist has no tests/",
    )
    parser.add_argument("--ks-ref", default=DEFAULT_REF, help=f"tag to clone (default {DEFAULT_REF})")
    parser.add_argument(
        "--exclude-newer",
        type=_timestamp,
        metavar="DATE",
        help="resolve the suite's and the images' packages as on DATE (YYYY-MM-DD or RFC 3339); "
        "default: the day after the source's commit date",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the work dir (the stopped cluster's data dir, with every pod's logs) and print where",
    )
    known, rest = parser.parse_known_args(list(argv))
    if rest[:1] == ["--"]:
        rest = rest[1:]
    if not known.ks_source:
        raise UsageError("--ks-source: empty")
    return SuiteArgs(
        source=known.ks_source,
        ref=known.ks_ref,
        exclude_newer=known.exclude_newer,
        pytest_args=tuple(rest),
        keep=known.keep,
    )


def _timestamp(text: str) -> str:
    """A YYYY-MM-DD day means its start in UTC, so the same day gives the same packages anywhere."""
    if _DAY.fullmatch(text):
        return f"{date.fromisoformat(text).isoformat()}T00:00:00Z"
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD) or RFC 3339 timestamp: {text!r}") from None
    return text


def day_after(commit_date: datetime) -> str:
    """uv's --exclude-newer for "as on the day of this commit": the next UTC midnight, so everything
    released that day (the tag's own wheels included) counts and nothing later does."""
    day = commit_date.astimezone(timezone.utc).date() + timedelta(days=1)
    return f"{day.isoformat()}T00:00:00Z"
