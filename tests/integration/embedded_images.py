"""Images the embedded-cluster integration tests run their pods in (imported by module name).

A node has only the images it was given (anything else fails with ErrImagePull), so each test cluster
gets its test images the way the backend gives it the harness's: an entry in the image map, here
the host's own tools (sh, coreutils, python3) on the default PATH, as the harness's reader image.
"""

from __future__ import annotations

from harness.clusters.embedded.cluster import EmbeddedCluster
from harness.clusters.embedded.images import ImageEntry, ImageMap

#: the image test pods use unless they test images
TEST_IMAGE = "harness.local/test:1"
HOST_TOOLS = ImageEntry(path=[])


def load_images(cluster: EmbeddedCluster, *images: str) -> None:
    """Put ``images`` on the cluster's node (``kind load docker-image`` for the embedded cluster)."""
    image_map = ImageMap(cluster.config.data_dir)
    for image in images or (TEST_IMAGE,):
        image_map.put(image, HOST_TOOLS)
