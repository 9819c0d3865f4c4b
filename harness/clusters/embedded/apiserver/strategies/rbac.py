"""Roles, RoleBindings, ClusterRoles and ClusterRoleBindings (pkg/registry/rbac): stored as sent; their
names are path segments, not DNS names.  Evaluation is authz.py's.
"""

from __future__ import annotations

from ..names import path_segment_name
from ..resource import Resource
from ..strategy import Strategy

GROUP = "rbac.authorization.k8s.io"
ROLES = Resource("roles", "role", "Role", GROUP, "v1", True)
ROLE_BINDINGS = Resource("rolebindings", "rolebinding", "RoleBinding", GROUP, "v1", True)
CLUSTER_ROLES = Resource("clusterroles", "clusterrole", "ClusterRole", GROUP, "v1", False)
CLUSTER_ROLE_BINDINGS = Resource(
    "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", GROUP, "v1", False
)


class RbacStrategy(Strategy):
    def name_errors(self, name: str) -> list[str]:
        return path_segment_name(name)


STRATEGIES = tuple(RbacStrategy(r) for r in (ROLES, ROLE_BINDINGS, CLUSTER_ROLES, CLUSTER_ROLE_BINDINGS))
