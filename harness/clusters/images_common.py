"""Image facts every backend shares, so bumping a version is one edit, and how user image references
name the matrix row.

The embedded backend installs configurable-http-proxy from npm, the kind backend passes the same
version to ``fixtures/images/proxy/Dockerfile`` as the ``CHP_VERSION`` build arg; the reader image is
what the harness's reader pods run when the user names none.
"""

from __future__ import annotations

from harness.clusters.base import HubVersions

#: configurable-http-proxy release zero-to-jupyterhub ships.
CHP_VERSION = "4.6.3"
#: The npm spec of that release (the embedded backend's "image" is an npm environment of it).
CHP_NPM_PACKAGE = f"configurable-http-proxy@{CHP_VERSION}"
#: Pulled by the node; a fixed tag so ``IfNotPresent`` never re-pulls.
READER_IMAGE = "busybox:1.36.1"


def format_image(template: str, versions: HubVersions) -> str:
    """Fill ``{kubespawner}`` / ``{jupyterhub}`` in an image reference (nothing else is a placeholder).

    A source build fills in ``7.1.0-source``: a tag has no "+".
    """
    return template.replace("{kubespawner}", versions.kubespawner.replace("+", "-")).replace(
        "{jupyterhub}", versions.jupyterhub
    )
