"""The image map: what an image reference means on a node that cannot pull images.

The backend writes entries (``ImageMap.put``) when it makes an "image" available; the kubelet
reads the map afresh at every container start (``ImageMap.find``), so images registered while
the cluster runs are usable at once, as after ``kind load docker-image``. An image that is not in the
map is one the node cannot pull: its pods fail with ErrImagePull / ImagePullBackOff (``kubelet/puller.py``).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.clusters.file_lock import file_lock

FILE_NAME = "images.json"


@dataclass(frozen=True)
class ImageEntry:
    """What a container of this image gets, in place of the image's filesystem and config."""

    #: bin dirs put first on PATH (the image's environment).
    path: list[str] = field(default_factory=list)
    #: like the image's ENV.
    env: dict[str, str] = field(default_factory=dict)
    #: like ENTRYPOINT+CMD, used when the pod gives no command.
    command: list[str] = field(default_factory=list)
    #: a user the image's /etc/passwd would have (``jovyan`` → 1000:100), added to the pod's passwd.
    passwd_user: str | None = None
    #: like the image's USER: "uid" or "uid:gid", used when the pod's securityContext sets no runAsUser.
    user: str | None = None
    #: like the image's WORKDIR: the working directory when the container sets no ``workingDir``.
    workdir: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ImageEntry:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)  # type: ignore[arg-type]


class ImageMap:
    def __init__(self, data_dir: Path) -> None:
        self.file = Path(data_dir) / FILE_NAME

    def load(self) -> dict[str, ImageEntry]:
        try:
            raw = json.loads(self.file.read_text())
        except FileNotFoundError:
            return {}
        return {name: ImageEntry.from_json(entry) for name, entry in raw.get("images", {}).items()}

    def find(self, image: str) -> ImageEntry | None:
        """The entry of ``image``, or None: the node does not have it and cannot pull it."""
        images = self.load()
        if image in images:
            return images[image]
        # Docker normalises "x" to "x:latest"; so do we, so manifests may say either.
        if ":" not in image.rsplit("/", 1)[-1] and f"{image}:latest" in images:
            return images[f"{image}:latest"]
        return None

    def resolve(self, image: str) -> ImageEntry:
        """The entry of an image the caller registered; KeyError naming the map when it is not there."""
        entry = self.find(image)
        if entry is None:
            raise KeyError(f"image {image!r} is not in the image map {self.file}")
        return entry

    def put(self, image: str, entry: ImageEntry) -> None:
        self.file.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(self.file.with_suffix(".lock")):
            try:
                raw = json.loads(self.file.read_text())
            except FileNotFoundError:
                raw = {}
            raw.setdefault("images", {})[image] = asdict(entry)
            tmp = self.file.with_suffix(f".tmp-{os.getpid()}")
            tmp.write_text(json.dumps(raw, indent=2, sort_keys=True) + "\n")
            tmp.replace(self.file)
