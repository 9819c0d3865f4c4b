"""``python -m harness check ...``: the same as the ``jhsc`` console script."""

from __future__ import annotations

import sys

from harness.check.cli import main

if __name__ == "__main__":
    sys.exit(main())
