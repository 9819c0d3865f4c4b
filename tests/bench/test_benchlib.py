"""The statistics the benchmark reports are built from (pure logic; the benchmarks are not tests)."""

from __future__ import annotations

import pytest
from benchlib import ratio, summary


def test_summary_median_and_nearest_rank_p90() -> None:
    samples = [float(x) for x in range(1, 11)]  # 1..10
    got = summary(list(reversed(samples)))
    assert got["n"] == 10
    assert got["median_s"] == 5.5
    assert got["p90_s"] == 9.0  # nearest rank: ceil(0.9 * 10) = 9th smallest
    assert (got["min_s"], got["max_s"]) == (1.0, 10.0)
    assert got["samples_s"] == list(reversed(samples)), "samples keep their run order"


def test_summary_of_few_samples_takes_the_largest_as_p90() -> None:
    assert summary([0.2, 0.1, 0.3])["p90_s"] == 0.3
    assert summary([0.25])["p90_s"] == 0.25


def test_summary_rounds_to_tenths_of_milliseconds() -> None:
    assert summary([0.000123456])["median_s"] == 0.0001


def test_summary_refuses_no_samples() -> None:
    with pytest.raises(ValueError):
        summary([])


def test_ratio_is_of_medians() -> None:
    assert ratio([1.0, 2.0, 100.0], [0.5, 1.0, 0.1]) == 4.0
