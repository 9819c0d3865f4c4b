"""Which JupyterHub each KubeSpawner release is tested with, when the user does not say.

The rule is "the newest JupyterHub that KubeSpawner release really works with". Package metadata
is not enough (every release says ``jupyterhub>=4``), so this table records what running it showed;
change it only with a run that proves the new pairing.

Evidence (realk8s, Kubernetes 1.20.2, 2026-11-26; hub images with exactly these pairs, the runner
checks ``/hub/api/info`` so a cell cannot silently run another release): 7.0.0 and 7.1.0 with
JupyterHub 6.1.1 pass all four seed scenarios; 6.2.0 with 5.5.4 passes all four, including the
upgrade to 7.1.0 + 6.1.1 (upgrade_db) in persistence-restarts. 6.2.0 with 6.1.1 also passed the
storage scenarios that were run (seed-multi-user, see the report of issue 5), but 6.2.0 was released
before JupyterHub 6 and the storage runs do not cover the rest of the spawner, so 6.2.0 stays on
the newest JupyterHub of its own time, 5.5.4.
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
    """A source build (``7.1.0+source``) pairs as its release does."""
    return _DEFAULT_JUPYTERHUB.get(kubespawner.split("+", 1)[0], FALLBACK_JUPYTERHUB)
