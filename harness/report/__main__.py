"""``python -m harness.report`` (``nox -s report``): merge every results file, write the report, print it.

Options mean what the pytest options of the same name mean (``--reports-dir``/``JHSC_REPORTS_DIR``,
``--junit-steps``/``JHSC_JUNIT_STEPS``), resolved by ``HarnessOptions`` like the plugin's. Appends
``summary.md`` to ``$GITHUB_STEP_SUMMARY`` when it is set. Exits 1 when there are no results or a
results file could not be read (the report of the readable ones is written anyway).
"""

from __future__ import annotations

import argparse
import os
import sys

from harness.options import HarnessOptions, OptionsError
from harness.report.build import append_step_summary, build_report
from harness.report.results import results_dir
from harness.report.terminal import render_terminal, shown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.report", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reports-dir", metavar="PATH", help="reports directory (default: reports/) [env: JHSC_REPORTS_DIR]"
    )
    parser.add_argument(
        "--junit-steps",
        action="store_true",
        default=None,
        help="one JUnit testcase per step besides the one per cell [env: JHSC_JUNIT_STEPS]",
    )
    args = parser.parse_args(argv)
    try:
        options = HarnessOptions.resolve({"reports_dir": args.reports_dir, "junit_steps": args.junit_steps})
    except OptionsError as exc:
        parser.error(str(exc))
    reports = options.reports_dir
    written = build_report(reports, junit_steps=options.junit_steps)
    for line in render_terminal(written.matrix):
        print(line)
    print(f"HTML report: {shown(written.html)} (also {shown(written.markdown)}, {shown(written.junit)})")
    summary = append_step_summary(written, os.environ)
    if summary:
        print(f"appended {shown(written.markdown)} to $GITHUB_STEP_SUMMARY ({summary})")
    for problem in written.matrix.problems:
        print(f"error: {problem}", file=sys.stderr)
    if not written.matrix.files:
        where = shown(results_dir(reports))
        print(f"error: no results files under {where}/; run nox -s e2e first", file=sys.stderr)
        return 1
    return 1 if written.matrix.problems else 0


if __name__ == "__main__":
    sys.exit(main())
