"""The table of API resources this server serves: names, kinds, groups, scope, verbs, subresources.

It drives routing, discovery documents and the naming in Status messages, so that adding a resource is one
line here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_RW = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class Resource:
    plural: str
    singular: str
    kind: str
    group: str
    version: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = _RW
    subresources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        return self.api_version


RESOURCES: tuple[Resource, ...] = (
    Resource(
        "namespaces",
        "namespace",
        "Namespace",
        "",
        "v1",
        False,
        ("ns",),
        ("create", "delete", "get", "list", "patch", "update", "watch"),
        ("status", "finalize"),
    ),
    Resource(
        "pods",
        "pod",
        "Pod",
        "",
        "v1",
        True,
        ("po",),
        _RW,
        ("status", "binding", "log", "exec", "portforward", "eviction"),
        ("all",),
    ),
    Resource(
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        "PersistentVolumeClaim",
        "",
        "v1",
        True,
        ("pvc",),
        _RW,
        ("status",),
    ),
    Resource(
        "persistentvolumes",
        "persistentvolume",
        "PersistentVolume",
        "",
        "v1",
        False,
        ("pv",),
        _RW,
        ("status",),
    ),
    Resource(
        "services",
        "service",
        "Service",
        "",
        "v1",
        True,
        ("svc",),
        ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"),
        ("status",),
        ("all",),
    ),
    Resource("endpoints", "endpoints", "Endpoints", "", "v1", True, ("ep",)),
    Resource("secrets", "secret", "Secret", "", "v1", True),
    Resource("configmaps", "configmap", "ConfigMap", "", "v1", True, ("cm",)),
    Resource("serviceaccounts", "serviceaccount", "ServiceAccount", "", "v1", True, ("sa",), _RW, ("token",)),
    Resource("events", "event", "Event", "", "v1", True, ("ev",)),
    Resource("nodes", "node", "Node", "", "v1", False, ("no",), _RW, ("status",)),
    Resource("storageclasses", "storageclass", "StorageClass", "storage.k8s.io", "v1", False, ("sc",)),
    Resource(
        "deployments",
        "deployment",
        "Deployment",
        "apps",
        "v1",
        True,
        ("deploy",),
        _RW,
        ("status", "scale"),
        ("all",),
    ),
    Resource(
        "replicasets",
        "replicaset",
        "ReplicaSet",
        "apps",
        "v1",
        True,
        ("rs",),
        _RW,
        ("status", "scale"),
        ("all",),
    ),
    Resource("roles", "role", "Role", "rbac.authorization.k8s.io", "v1", True),
    Resource("rolebindings", "rolebinding", "RoleBinding", "rbac.authorization.k8s.io", "v1", True),
    Resource("clusterroles", "clusterrole", "ClusterRole", "rbac.authorization.k8s.io", "v1", False),
    Resource(
        "clusterrolebindings",
        "clusterrolebinding",
        "ClusterRoleBinding",
        "rbac.authorization.k8s.io",
        "v1",
        False,
    ),
    Resource(
        "selfsubjectaccessreviews",
        "selfsubjectaccessreview",
        "SelfSubjectAccessReview",
        "authorization.k8s.io",
        "v1",
        False,
        (),
        ("create",),
    ),
)

BY_PLURAL: dict[str, Resource] = {r.plural: r for r in RESOURCES}
BY_KIND: dict[tuple[str, str], Resource] = {(r.api_version, r.kind): r for r in RESOURCES}

#: resources whose objects are stored (SelfSubjectAccessReview is computed, never stored)
STORED = frozenset(r.plural for r in RESOURCES if r.plural != "selfsubjectaccessreviews")

#: subresources that are a view of the object's status (PUT/PATCH change only .status)
STATUS_SUBRESOURCES = frozenset({"status"})


def group_versions() -> dict[str, list[Resource]]:
    """Resources per ``group/version`` ("v1" for core), in table order."""
    out: dict[str, list[Resource]] = {}
    for r in RESOURCES:
        out.setdefault(r.api_version, []).append(r)
    return out


def lookup(group: str, version: str, plural: str) -> Resource | None:
    r = BY_PLURAL.get(plural)
    if r is None or r.group != group or r.version != version:
        return None
    return r
