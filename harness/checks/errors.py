"""The one way an oracle says "the cluster is not as the scenario expects"."""

from __future__ import annotations


class CheckFailed(AssertionError):
    """An expectation did not hold; the message names the object, the field, expected and actual."""


class CheckSkipped(Exception):
    """The check cannot run on this target (e.g. an existing hub in an unknown namespace)."""
