"""Step bodies: what each step says (its fields and their checks), one model per step name.

The bodies of the steps that drive servers, read and write files and check the cluster live here;
``upgrade_bodies`` has those that change the hub's release or config, ``cluster_bodies`` those that
change the cluster behind the hub's back, and ``STEP_BODIES`` in ``steps`` names them all.
"""

from __future__ import annotations

import posixpath
from typing import Any, Literal

from pydantic import Field, model_validator

from harness.scenario.fields import Strict


class Body(Strict):
    """A step body. ``- restart_cluster:`` (a null body) means the same as ``{}``."""

    @model_validator(mode="before")
    @classmethod
    def _null_is_empty(cls, data: Any) -> Any:
        return {} if data is None else data


class ServerRef(Body):
    """Names one server of one user; ``server: ""`` (the default) is the user's default server."""

    user: str = Field(description="JupyterHub user name; must be declared under `users:`.")
    server: str = Field("", description='Named server, or "" for the default server.')


class StartStep(ServerRef):
    """Start the server through the hub REST API and wait until it is ready."""

    timeout: float = Field(300.0, gt=0, description="Seconds to wait for the server to be ready.")


class StopStep(ServerRef):
    """Stop the server (the pod goes away; what happens to its PVC is what scenarios check)."""


class DeleteServerStep(ServerRef):
    """Delete a named server for good (``remove: true``), which is when ``delete_pvc`` acts."""


class DeleteUserStep(Body):
    """Delete the user from the hub (stopping and removing all their servers)."""

    user: str


class _FileRef(Body):
    """A file either of a server (``user``/``server``: through its contents API) or of a claim (``pvc``).

    ``pvc`` reaches a PersistentVolumeClaim's contents through a short-lived pod while no server has
    to run: that shows where the data really is after an upgrade or a config change went wrong.
    """

    user: str | None = Field(None, description="JupyterHub user name (declared under `users:`); or `pvc`.")
    server: str = Field("", description='Named server, or "" for the default server (with `user`).')
    pvc: str | None = Field(
        None, description="PVC name: the file on this claim, read/written by a pod; instead of `user`."
    )
    sub_path: str | None = Field(
        None, description="With `pvc`: the directory inside the claim that `path` is relative to."
    )

    @model_validator(mode="after")
    def _user_xor_pvc(self) -> _FileRef:
        if self.user is not None and self.pvc is not None:
            raise ValueError(
                "give either 'user' (a server's file, through its contents API) or 'pvc' (a claim's "
                "file, through a pod), not both"
            )
        if self.user is None and self.pvc is None:
            raise ValueError("missing 'user' (a server's file) or 'pvc' (a claim's file); give one of them")
        if self.pvc is not None and "server" in self.model_fields_set:
            raise ValueError(
                "'server' names a user's server; with 'pvc' there is none (drop it or use 'user')"
            )
        if self.user is not None and self.sub_path is not None:
            raise ValueError("'sub_path' goes with 'pvc'; a server's path is relative to its root directory")
        if self.pvc is not None:
            inside = posixpath.normpath(posixpath.join(self.sub_path or "", getattr(self, "path", "")))
            if posixpath.isabs(inside) or inside == ".." or inside.startswith("../") or inside == ".":
                raise ValueError(
                    f"with 'pvc', sub_path/path must name a file inside the claim, got {inside!r}"
                )
        return self


class WriteFileStep(_FileRef):
    """Write a text file through the running server's contents API, or straight onto a PVC."""

    path: str = Field(description="Path relative to the server's root directory (or the claim's sub_path).")
    content: str
    rejected: str | None = Field(
        None,
        description=(
            "With `user`: substring of the server's refusal (e.g. 'Permission denied'); the step passes "
            "only if the save fails with it. Omitted: the save must succeed."
        ),
    )

    @model_validator(mode="after")
    def _rejected_needs_user(self) -> WriteFileStep:
        if self.rejected is not None and self.pvc is not None:
            raise ValueError(
                "'rejected' checks a save through a server's contents API; it goes with 'user', not 'pvc'"
            )
        return self


class ExpectFileStep(_FileRef):
    """Read a file through the running server's contents API (or from a PVC) and compare it."""

    path: str = Field(description="Path relative to the server's root directory (or the claim's sub_path).")
    exists: bool = True
    content: str | None = Field(None, description="Exact expected text; omitted: not checked.")


class ExpectPvcStep(Body):
    """Check a PersistentVolumeClaim in the hub's namespace; omitted fields are not checked."""

    name: str
    exists: bool = True
    labels: dict[str, str] | None = Field(None, description="Labels that must be present (subset).")
    annotations: dict[str, str] | None = Field(None, description="Annotations that must be present.")
    size: str | None = Field(None, description="spec.resources.requests.storage, e.g. 1Gi.")
    storage_class: str | None = Field(None, description="spec.storageClassName.")
    access_modes: list[str] | None = Field(None, description="spec.accessModes, e.g. [ReadWriteOnce].")
    phase: Literal["Pending", "Bound", "Lost"] | None = None


class ExpectPvcsStep(Body):
    """Check the exact set of user PVCs in the hub's namespace: orphans and surprise claims fail it."""

    only: list[str] = Field(
        description="Every user PVC that must exist, and no other (the harness's own claims aside)."
    )


class ExpectMountStep(ServerRef):
    """Check a volume mount of the server's notebook container."""

    path: str = Field(description="mountPath inside the container.")
    exists: bool = True
    claim: str | None = Field(None, description="Name of the PVC the mounted volume refers to.")
    sub_path: str | None = Field(None, description="subPath of the mount.")
    read_only: bool | None = None
    check: Literal["spec", "runtime", "both"] = Field(
        "both", description="spec: the pod object; runtime: what the running container sees."
    )


class RestartClusterStep(Body):
    """Restart the cluster node(s) like a reboot; API objects and volume data survive."""


class ExpectSpawnFailureStep(ServerRef):
    """Start the server and expect the spawn to fail, with ``message`` in one of the reason's sources."""

    message: str = Field(
        description="Substring looked for in every source of the failure's reason: the Kubernetes Status "
        "and the spawner's exception in the hub log, the Events of the server's PVC and pod, and the "
        "hub's own API/progress messages."
    )
    timeout: float = Field(300.0, gt=0)


class ObserveStep(Body):
    """Record what is there without judging it: the user PVCs (and whose they are) and, with ``user``,
    the claims that server's pod mounts. Never fails; ``jhsc check`` turns these notes into findings."""

    user: str | None = Field(None, description="Also record the claims this user's server mounts.")
    server: str = Field("", description='Named server of `user`, or "" for the default server.')
    label: str = Field("", description="What the observation is, e.g. 'after the upgrade' (in the note).")
