"""The cluster backends, listed once: name -> "module:Class" (each class takes ``(options)``).

Option parsing (the ``--cluster`` choices) and backend loading both read this table, which imports
nothing, so naming the backends never imports one (pytest-kind-ng is an optional dependency).
"""

from __future__ import annotations

BACKENDS: dict[str, str] = {
    "embedded": "harness.clusters.embedded.backend:EmbeddedBackend",
    "kind": "harness.clusters.kind.backend:KindBackend",
    "existing": "harness.clusters.existing:ExistingBackend",
}

#: How to install what a backend needs beyond the base package.
EXTRAS: dict[str, str] = {"kind": " (pip install 'jupyterhub-storage-conformance[kind]')"}
