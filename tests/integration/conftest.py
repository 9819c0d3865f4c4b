"""Fixtures of the end-to-end tests: resolved options and one started cluster per test module.

A module that defines its own ``options`` or ``cluster`` fixture keeps using it (module fixtures win).

The backend comes from the JHSC_* environment (embedded by default), so the same tests run on
kind or an existing cluster such as realk8s.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.clusters import make_cluster
from harness.clusters.base import Cluster
from harness.options import HarnessOptions


@pytest.fixture(scope="module")
def options(tmp_path_factory: pytest.TempPathFactory) -> HarnessOptions:
    resolved = HarnessOptions.resolve()
    reports = tmp_path_factory.mktemp("reports")
    return HarnessOptions(**{**resolved.__dict__, "reports_dir": reports})


@pytest.fixture(scope="module")
def cluster(options: HarnessOptions) -> Iterator[Cluster]:
    with make_cluster(options) as started:
        yield started
