"""The kind backend: a real Kubernetes in Docker, for CI and for anyone with a Docker engine.

Split the way the embedded backend is: ``backend.py`` is the ``Cluster`` for the harness (start, images,
service URLs, restart, readiness waits); ``cluster.py`` the kind cluster itself (pytest-kind-ng's
``KindCluster`` made strict); ``images.py`` builds and caches the harness images; ``tools.py`` runs
``kind``/``docker``/``kubectl`` and finds the fixtures; ``kubectl_forward.py`` keeps a
``kubectl port-forward`` alive.
"""

from __future__ import annotations

from harness.clusters.images_common import READER_IMAGE
from harness.clusters.kind.backend import KindBackend
from harness.clusters.kind.cluster import DEFAULT_CLUSTER_NAME, HarnessKindCluster, cluster_name
from harness.clusters.kind.images import (
    BUILD_LOCK,
    RECIPE_LABEL,
    ImageBuilder,
    ImageRecipe,
    hub_recipe,
    proxy_recipe,
    singleuser_recipe,
)
from harness.clusters.kind.tools import IMAGES_DIR, KIND_CONFIG, KindToolError, find_tool, run_tool

__all__ = [
    "BUILD_LOCK",
    "DEFAULT_CLUSTER_NAME",
    "IMAGES_DIR",
    "KIND_CONFIG",
    "READER_IMAGE",
    "RECIPE_LABEL",
    "HarnessKindCluster",
    "ImageBuilder",
    "ImageRecipe",
    "KindBackend",
    "KindToolError",
    "cluster_name",
    "find_tool",
    "hub_recipe",
    "proxy_recipe",
    "run_tool",
    "singleuser_recipe",
]
