"""The Kubernetes release the embedded cluster claims to be, in one place.

``/version``, the OpenAPI documents' ``info.version`` and the Node's ``kubeletVersion`` all say it, as
on a real cluster whose apiserver and kubelet run the same release.  v1.20.15 is the release whose
behaviour the controllers and kubelet follow (DESIGN.md).  The build facts are those of the official
v1.20.15 binaries (``kubectl version`` of that release), so clients that print them see a real one.
"""

from __future__ import annotations

MAJOR = "1"
MINOR = "20"
GIT_VERSION = "v1.20.15"
GIT_COMMIT = "8f1e5bf0b9729a899b8df86249b56e2c74aebc55"
BUILD_DATE = "2022-01-19T17:27:39Z"
GO_VERSION = "go1.15.15"
