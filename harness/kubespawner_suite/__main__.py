"""``python -m harness.kubespawner_suite [--ks-source DIR|GIT_URL] [--ks-ref REF] [pytest args]``."""

from __future__ import annotations

import sys

from .run import main

if __name__ == "__main__":
    sys.exit(main())
