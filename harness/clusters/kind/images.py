"""The harness images on kind: built from ``fixtures/images/*/Dockerfile`` with ``docker build``, cached
by tag plus a label holding the recipe's hash (so an edited Dockerfile is rebuilt), and put on the node
with ``kind load docker-image`` by the backend.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.clusters.base import ClusterError, HubVersions
from harness.clusters.file_lock import file_lock
from harness.clusters.images_common import CHP_VERSION
from harness.clusters.kind.tools import IMAGES_DIR, MISSING_FIXTURES, KindToolError, run_tool

IMAGE_REPOSITORY = "jhsc"
#: Image label holding the hash of the recipe an image was built from (see ``ImageRecipe.digest``).
RECIPE_LABEL = "io.jupyterhub-storage-conformance.recipe"
#: Held while checking for and building an image, by every harness process on this host.
BUILD_LOCK = Path(tempfile.gettempdir()) / "jupyterhub-storage-conformance-kind-build.lock"


@dataclass(frozen=True)
class ImageRecipe:
    """One image the harness builds: its tag, the Dockerfile directory and the build args."""

    tag: str
    context: Path
    build_args: tuple[tuple[str, str], ...]

    @property
    def digest(self) -> str:
        """Hash of everything that goes into the build, so an edited recipe misses the cache."""
        sha = hashlib.sha256()
        for path in sorted(p for p in self.context.rglob("*") if p.is_file()):
            sha.update(path.relative_to(self.context).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        for key, value in self.build_args:
            sha.update(f"{key}={value}\0".encode())
        return sha.hexdigest()[:16]

    def build_command(self, docker: Path) -> list[str]:
        command = [str(docker), "build", "--tag", self.tag, "--label", f"{RECIPE_LABEL}={self.digest}"]
        for key, value in self.build_args:
            command += ["--build-arg", f"{key}={value}"]
        return [*command, "--file", str(self.context / "Dockerfile"), str(self.context)]


def hub_recipe(versions: HubVersions) -> ImageRecipe:
    return ImageRecipe(
        tag=f"{IMAGE_REPOSITORY}/hub:ks-{versions.kubespawner}-jh-{versions.jupyterhub}",
        context=IMAGES_DIR / "hub",
        build_args=(
            ("KUBESPAWNER_VERSION", versions.kubespawner),
            ("JUPYTERHUB_VERSION", versions.jupyterhub),
        ),
    )


@contextlib.contextmanager
def hub_recipe_for(versions: HubVersions) -> Iterator[ImageRecipe]:
    """The hub's recipe; a source build's is ``hub-source/Dockerfile`` beside a copy of the tree.

    The copy lives as long as the build needs it. Being in the build context, the tree's files are
    in the recipe digest, and its content key is in the tag: an edit is a new image, the same tree
    (wherever it is checked out) finds the image built before.
    """
    tree = versions.kubespawner_source
    if tree is None:
        yield hub_recipe(versions)
        return
    dockerfile = IMAGES_DIR / "hub-source" / "Dockerfile"
    if not dockerfile.is_file():
        raise ClusterError(f"image recipe {dockerfile} not found: {MISSING_FIXTURES}")
    with tempfile.TemporaryDirectory(prefix="jhsc-hub-source-") as scratch:
        context = Path(scratch)
        shutil.copy2(dockerfile, context / "Dockerfile")
        key = tree.snapshot(context / "kubespawner-source")
        version = tree.version.replace("+", "-")  # a tag has no "+"
        yield ImageRecipe(
            tag=f"{IMAGE_REPOSITORY}/hub:ks-{version}-source-{key}-jh-{versions.jupyterhub}",
            context=context,
            build_args=(("JUPYTERHUB_VERSION", versions.jupyterhub),),
        )


def proxy_recipe() -> ImageRecipe:
    return ImageRecipe(
        tag=f"{IMAGE_REPOSITORY}/proxy:chp-{CHP_VERSION}",
        context=IMAGES_DIR / "proxy",
        build_args=(("CHP_VERSION", CHP_VERSION),),
    )


def singleuser_recipe(versions: HubVersions) -> ImageRecipe:
    return ImageRecipe(
        tag=f"{IMAGE_REPOSITORY}/singleuser:jh-{versions.jupyterhub}",
        context=IMAGES_DIR / "singleuser",
        build_args=(("JUPYTERHUB_VERSION", versions.jupyterhub),),
    )


class ImageBuilder:
    """``docker build`` an image unless one with the same tag and recipe hash is already there."""

    def __init__(self, docker: Path) -> None:
        self._docker = docker

    def built_digest(self, tag: str) -> str | None:
        """The recipe hash the local image ``tag`` was built from ("" if unlabelled), None if absent."""
        command = [
            str(self._docker),
            "image",
            "inspect",
            "--format",
            f'{{{{index .Config.Labels "{RECIPE_LABEL}"}}}}',
            tag,
        ]
        try:
            out = run_tool(command).stdout.strip()
        except KindToolError as exc:
            if "no such image" in exc.stderr.lower():
                return None
            raise
        return "" if out == "<no value>" else out

    def has_image(self, tag: str) -> bool:
        return self.built_digest(tag) is not None

    def ensure(self, recipe: ImageRecipe) -> bool:
        """Build ``recipe`` if needed; True when it ran a build.

        Serialised across processes (xdist workers build the same tags), so the second one finds the
        first one's image instead of building it again.
        """
        dockerfile = recipe.context / "Dockerfile"
        if not dockerfile.is_file():
            raise ClusterError(f"image recipe {dockerfile} not found: {MISSING_FIXTURES}")
        with file_lock(BUILD_LOCK):
            if self.built_digest(recipe.tag) == recipe.digest:
                return False
            run_tool(recipe.build_command(self._docker))
        return True
