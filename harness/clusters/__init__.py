"""Cluster backends by name, and the one-per-session cluster the plugin hands to the runner.

Backends are imported lazily by name so that a missing optional dependency of one backend (for
example pytest-kind-ng for ``kind``) never breaks the others, and so that importing the plugin in
a host repo stays cheap.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from harness.clusters.backends import BACKENDS, EXTRAS
from harness.clusters.base import Cluster, ClusterError

if TYPE_CHECKING:
    from harness.options import HarnessOptions

__all__ = ["BACKENDS", "SessionCluster", "backend_class", "make_cluster"]


def backend_class(name: str) -> type[Cluster]:
    """Import the class of backend ``name``; ClusterError says what is missing when it cannot."""
    if name not in BACKENDS:
        raise ClusterError(f"unknown cluster backend {name!r}; choose one of: {', '.join(BACKENDS)}")
    module_name, class_name = BACKENDS[name].split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ClusterError(f"cluster backend {name!r} is not available: {exc}{EXTRAS.get(name, '')}") from exc
    cls: type[Cluster] = getattr(module, class_name)
    return cls


def make_cluster(options: HarnessOptions) -> Cluster:
    """A (not yet started) cluster of the backend ``options.cluster`` asks for."""
    return backend_class(options.cluster)(options)  # type: ignore[call-arg]


class SessionCluster:
    """The cluster of one test session (or one xdist worker): started on first use, stopped once.

    A failed start is remembered, so every later scenario fails fast with the same reason instead of
    trying (and waiting for) a broken cluster again.
    """

    def __init__(
        self, options: HarnessOptions, factory: Callable[[HarnessOptions], Cluster] | None = None
    ) -> None:
        self._options = options
        self._factory = factory or make_cluster
        self._cluster: Cluster | None = None
        self._started = False
        self._failure: str | None = None

    @property
    def started(self) -> Cluster | None:
        """The running cluster, or None when no scenario needed one (yet)."""
        return self._cluster if self._started else None

    def get(self) -> Cluster:
        if self._failure is not None:
            raise ClusterError(
                f"the {self._options.cluster} cluster failed to start earlier: {self._failure}"
            )
        if self._cluster is None or not self._started:
            cluster = self._factory(self._options)
            self._cluster = cluster
            try:
                cluster.start()
            except BaseException as exc:
                self._failure = str(exc) or type(exc).__name__
                self._stop_quietly(cluster)
                raise
            self._started = True
        return self._cluster

    def close(self) -> None:
        """Stop the cluster unless the user asked to keep it; safe to call more than once."""
        cluster, started = self._cluster, self._started
        self._cluster, self._started = None, False
        if cluster is not None and started and not self._options.keep_cluster:
            cluster.stop()

    @staticmethod
    def _stop_quietly(cluster: Cluster) -> None:
        # The start failure is the error worth reporting, not a follow-up failure of the cleanup.
        with contextlib.suppress(Exception):
            cluster.stop()
