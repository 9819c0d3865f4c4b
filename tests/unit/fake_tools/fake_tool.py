#!/usr/bin/env python3
"""A scripted stand-in for `kind`, `docker` and `kubectl` in unit tests (symlinked under those names).

Docker and kind cannot run where the unit tests run, so the kind backend is tested by what it would
execute: every call is appended to ``$FAKE_TOOLS_STATE/calls.jsonl`` and answered by the first rule in
``$FAKE_TOOLS_STATE/script.json`` that matches it (tool + argv prefix, exact argv, or a contiguous run
of argv), with the rule's stdout, stderr, exit code and optional sleep.  A rule with ``times`` is used
up after that many matches.  Unmatched calls succeed silently.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sys
import time
from pathlib import Path


def _matches(rule: dict, tool: str, args: list[str]) -> bool:
    if rule.get("tool") not in (None, tool):
        return False
    want = rule.get("args", [])
    how = rule.get("match", "prefix")
    if how == "exact":
        return args == want
    if how == "within":
        return any(args[i : i + len(want)] == want for i in range(len(args) - len(want) + 1))
    return args[: len(want)] == want


def main() -> int:
    tool = Path(sys.argv[0]).name
    args = sys.argv[1:]
    state = Path(os.environ["FAKE_TOOLS_STATE"])
    with open(state / "lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with open(state / "calls.jsonl", "a") as calls:
            calls.write(json.dumps({"tool": tool, "args": args, "pid": os.getpid()}) + "\n")
        script_file = state / "script.json"
        rules = json.loads(script_file.read_text()) if script_file.exists() else []
        chosen = None
        for rule in rules:
            if rule.get("times") == 0 or not _matches(rule, tool, args):
                continue
            chosen = rule
            if rule.get("times") is not None:
                rule["times"] -= 1
                script_file.write_text(json.dumps(rules))
            break
    if chosen is None:
        return 0
    sys.stdout.write(chosen.get("stdout", ""))
    sys.stdout.flush()
    sys.stderr.write(chosen.get("stderr", ""))
    sys.stderr.flush()
    if chosen.get("sleep"):
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        time.sleep(chosen["sleep"])
    return int(chosen.get("exit", 0))


if __name__ == "__main__":
    sys.exit(main())
