"""The three images KubeSpawner's suite runs, as the embedded node's image map holds them.

Each is an environment with what its real image has for what the suite runs in it, resolved as on the
tag's date (the ``:latest`` of that day), plus the config of its Dockerfile (USER, WORKDIR, ENV, CMD):
- ``quay.io/jupyterhub/jupyterhub:latest``, the suite's hub pod (``jupyterhub -f <configMap file>``,
  which starts configurable-http-proxy, and ``python3`` for exec into it): jupyterhub's Dockerfile,
  ubuntu + pip ``jupyterhub`` + apt ``python3-pycurl`` + npm ``configurable-http-proxy@^4.2``,
  root, WORKDIR /srv/jupyterhub. KubeSpawner is not in it: the hub pod only answers the servers.
- ``python:3.12-slim``, the exec pod (``sh -c 'while true; do sleep 5; done'``, ``python3 -c``): the
  node's own sh, coreutils and python3 (3.11 here; the suite runs only stdlib code in it).
- ``quay.io/jupyterhub/singleuser:latest``, every spawned server (``jupyterhub-singleuser``):
  docker-stacks base-notebook (``jupyterhub-singleuser jupyterlab nbclassic notebook>=7.2.2``) plus
  jupyterhub of the day, jovyan 1000:100 in /home/jovyan. jupyterlab makes ``/`` redirect (302) to
  /lab, which the suite checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.clusters.embedded import envs
from harness.clusters.embedded.backend import docker_stacks_entry, proxy_image
from harness.clusters.embedded.images import ImageEntry, ImageMap

HUB = "quay.io/jupyterhub/jupyterhub:latest"
EXEC = "python:3.12-slim"
SINGLEUSER = "quay.io/jupyterhub/singleuser:latest"

HUB_REQUIREMENTS = ("jupyterhub", "pycurl")
SINGLEUSER_REQUIREMENTS = ("jupyterhub", "jupyterlab", "nbclassic", "notebook>=7.2.2")


@dataclass(frozen=True)
class SuiteEnvs:
    """What the images are made of: the bin dirs of each environment."""

    hub: list[Path]
    proxy: list[Path]
    singleuser: list[Path]


def recipes(exclude_newer: str) -> tuple[envs.EnvRecipe, envs.EnvRecipe]:
    """The hub's and the single-user server's environments, as on ``exclude_newer``."""
    return (
        envs.python_env("ks-suite-jupyterhub", HUB_REQUIREMENTS, exclude_newer=exclude_newer),
        envs.python_env("ks-suite-singleuser", SINGLEUSER_REQUIREMENTS, exclude_newer=exclude_newer),
    )


def entries(built: SuiteEnvs) -> dict[str, ImageEntry]:
    """The image map entries of the suite's images (pure: ``built`` says where the environments are)."""
    return {
        HUB: ImageEntry(
            # configurable-http-proxy (and node) after the hub's env, as npm's global bin in the image
            path=[str(p) for p in (*built.hub, *built.proxy)],
            # the Dockerfile's ENV, but the node has no en_US.UTF-8 locale: C.UTF-8 is its UTF-8 one
            env={
                "SHELL": "/bin/bash",
                "LANG": "C.UTF-8",
                "LC_ALL": "C.UTF-8",
                "PYTHONDONTWRITEBYTECODE": "1",
            },
            command=["jupyterhub"],
            workdir="/srv/jupyterhub",
        ),
        EXEC: ImageEntry(path=[], env={"LANG": "C.UTF-8"}, command=["python3"]),
        SINGLEUSER: docker_stacks_entry(built.singleuser, env={"JUPYTER_PORT": "8888"}),
    }


def build(exclude_newer: str) -> SuiteEnvs:
    """Build (or find cached) the environments; minutes the first time, nothing the next."""
    hub, singleuser = recipes(exclude_newer)
    _, proxy = proxy_image()
    return SuiteEnvs(
        hub=envs.ensure_env(hub),
        proxy=[Path(p) for p in proxy.path],
        singleuser=envs.ensure_env(singleuser),
    )


def load(image_map: ImageMap, built: SuiteEnvs) -> dict[str, ImageEntry]:
    """Put the suite's images on the node (``kind load`` for the embedded cluster)."""
    made = entries(built)
    for ref, entry in made.items():
        image_map.put(ref, entry)
    return made
