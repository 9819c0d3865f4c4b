"""Step bodies that change the cluster behind the hub's back, as an admin's ``kubectl`` would:
delete a PVC or a pod, resize a PVC, create a PersistentVolume or a PersistentVolumeClaim."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from harness.scenario.bodies import Body, ServerRef

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
#: A Kubernetes quantity as admins write storage sizes (``1Gi``, ``500Mi``, ``10G``).
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
#: PersistentVolume access modes of Kubernetes 1.20 (ReadWriteOncePod came in 1.22 as alpha).
AccessMode = Literal["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany"]


def _read_write_once() -> list[AccessMode]:
    return ["ReadWriteOnce"]


def _check_quantity(value: str) -> str:
    if not _QUANTITY.match(value):
        raise ValueError(f"invalid size {value!r}; expected a Kubernetes quantity such as '1Gi' or '500Mi'")
    return value


def _check_object_name(value: str) -> str:
    if not _DNS_SUBDOMAIN.match(value) or len(value) > 253:
        raise ValueError(
            f"invalid name {value!r}; expected a lowercase RFC 1123 subdomain (letters, digits, '-', '.')"
        )
    return value


class DeletePvcStep(Body):
    """Delete a PVC as ``kubectl delete pvc NAME`` does, and wait until it is gone.

    While a pod uses the claim, the ``kubernetes.io/pvc-protection`` finalizer keeps it Terminating:
    with ``wait: true`` the step then fails saying so; ``wait: false`` expresses "delete it while in
    use" (the step reports Terminating and which pods hold it, and a later ``expect_pvc`` checks it).
    """

    name: str = Field(description="PVC name (mapped like expect_pvc's on an existing hub).")
    wait: bool = Field(True, description="Wait until the PVC is gone; false: return once it is Terminating.")
    timeout: float = Field(60.0, gt=0, description="Seconds to wait for it to be gone.")


class DeletePodStep(ServerRef):
    """Delete the server's pod as ``kubectl delete pod`` does (default grace period), then wait until the
    hub notices (its Spawner poll) and no longer lists the server as running."""

    timeout: float = Field(
        120.0,
        gt=0,
        description="Seconds to wait for the hub to notice (Spawner.poll_interval, 30 by default).",
    )


class ResizePvcStep(Body):
    """Set a PVC's spec.resources.requests.storage as ``kubectl edit`` / ``kubectl patch`` would."""

    name: str
    size: str = Field(description="New storage request, e.g. 2Gi.")
    rejected: str | None = Field(
        None,
        description=(
            "Substring of the API server's refusal (its Status message): the step passes only if the "
            "change is refused with it. Omitted: the change must be accepted."
        ),
    )

    _size = field_validator("size")(_check_quantity)


class CreatePvStep(Body):
    """Create a pre-provisioned PersistentVolume (z2jh ``storage.type: static``): a directory on the node,
    made writable for the single-user uid, as a hostPath PV with reclaimPolicy Retain. The harness
    names it ``<namespace>-<name>`` (PVs are cluster-wide) and deletes it and its directory at the end."""

    name: str = Field(description="PV name in the scenario; create_pvc's volume_name refers to it.")
    size: str = Field(description="spec.capacity.storage, e.g. 1Gi.")
    access_modes: list[AccessMode] = Field(default_factory=_read_write_once, min_length=1)
    storage_class: str = Field("", description='spec.storageClassName; "" (the default): no class.')
    mode: str = Field(
        "0777",
        pattern=r"^0?[0-7]{3}$",
        description=(
            "Octal mode of the node directory (owned by root). 0777 (the default): any uid may write. "
            "0755 is what an admin's `mkdir` as root leaves: a real kubelet applies no fsGroup to "
            "hostPath volumes and makes a missing subPath with the root's mode, so only root writes."
        ),
    )

    _name = field_validator("name")(_check_object_name)
    _size = field_validator("size")(_check_quantity)


class CreatePvcStep(Body):
    """Create a PersistentVolumeClaim in the hub's namespace as an admin's manifest would (labelled; it
    goes with the namespace)."""

    name: str
    size: str = Field(description="spec.resources.requests.storage, e.g. 1Gi.")
    access_modes: list[AccessMode] = Field(default_factory=_read_write_once, min_length=1)
    storage_class: str | None = Field(
        "",
        description=(
            'spec.storageClassName; "" (the default): no class, so only a PV binds it; null: left out, '
            "so the cluster's default class provisions it."
        ),
    )
    volume_name: str | None = Field(None, description="spec.volumeName: the name of a create_pv step's PV.")

    _name = field_validator("name")(_check_object_name)
    _size = field_validator("size")(_check_quantity)
