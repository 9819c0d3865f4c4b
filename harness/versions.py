"""Which JupyterHub each KubeSpawner release is tested with, when the user does not say.

The rule is "the newest JupyterHub that KubeSpawner release really works with". Package metadata
is not enough (every release says ``jupyterhub>=4``), so this table records what running it showed;
change it only with a run that proves the new pairing.
"""

from __future__ import annotations

#: KubeSpawner versions in the default e2e matrix.
KUBESPAWNER_MATRIX: tuple[str, ...] = ("6.2.0", "7.0.0", "7.1.0")

_DEFAULT_JUPYTERHUB: dict[str, str] = {
    "6.2.0": "5.5.4",
    "7.0.0": "6.1.1",
    "7.1.0": "6.1.1",
}

#: Used for a KubeSpawner version the table does not know.
FALLBACK_JUPYTERHUB = "6.1.1"


def default_jupyterhub_for(kubespawner: str) -> str:
    return _DEFAULT_JUPYTERHUB.get(kubespawner, FALLBACK_JUPYTERHUB)
