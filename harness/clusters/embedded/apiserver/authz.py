"""Authentication (bearer tokens) and RBAC authorisation for the embedded API server.

Tokens: one admin token (in the kubeconfig; user ``kubernetes-admin`` in ``system:masters``, which bypasses
RBAC as on real clusters) and one token per ServiceAccount, persisted in ``tokens.json`` so pods and
kubeconfigs stay valid across restarts.  RBAC evaluates Role/ClusterRole rules reached through
RoleBindings/ClusterRoleBindings exactly as the rbac authorizer does (verbs, apiGroups, resources incl.
``resource/subresource``, resourceNames, nonResourceURLs, ``*`` wildcards).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .store import Store

Obj = dict[str, Any]

ADMIN_USER = "kubernetes-admin"
MASTERS = "system:masters"


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...] = field(default_factory=tuple)
    #: (namespace, name) for ServiceAccount users
    service_account: tuple[str, str] | None = None


@dataclass(frozen=True)
class Attributes:
    """What a request wants to do (k8s.io/apiserver authorizer.Attributes)."""

    verb: str
    resource: str = ""
    group: str = ""
    namespace: str = ""
    name: str = ""
    subresource: str = ""
    path: str = ""

    @property
    def resource_request(self) -> bool:
        return bool(self.resource)


class TokenStore:
    """Admin and ServiceAccount bearer tokens, kept in ``tokens.json`` (mode 0600)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        data: Obj = {}
        if path.exists():
            data = json.loads(path.read_text())
        self.admin_token: str = data.get("admin") or secrets.token_urlsafe(32)
        self._sa: dict[str, str] = dict(data.get("serviceaccounts") or {})
        self._by_token = {tok: key for key, tok in self._sa.items()}
        if not data:
            self._save()

    def _save(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"admin": self.admin_token, "serviceaccounts": self._sa}, indent=1))
        os.chmod(tmp, 0o600)
        tmp.replace(self._path)

    def service_account_token(self, namespace: str, name: str) -> str:
        key = f"{namespace}/{name}"
        token = self._sa.get(key)
        if token is None:
            token = secrets.token_urlsafe(32)
            self._sa[key] = token
            self._by_token[token] = key
            self._save()
        return token

    def authenticate(self, token: str, store: Store) -> User | None:
        if secrets.compare_digest(token, self.admin_token):
            return User(ADMIN_USER, (MASTERS, "system:authenticated"))
        key = self._by_token.get(token)
        if key is None:
            return None
        ns, name = key.split("/", 1)
        if store.get("serviceaccounts", ns, name) is None:
            return None  # tokens of deleted ServiceAccounts stop working, as on real clusters
        return User(
            f"system:serviceaccount:{ns}:{name}",
            ("system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"),
            (ns, name),
        )


def impersonated(name: str, groups: list[str]) -> User:
    """The user an ``Impersonate-User``/``Impersonate-Group`` request acts as."""
    parts = name.split(":")
    if len(parts) == 4 and parts[:2] == ["system", "serviceaccount"]:
        ns, sa = parts[2], parts[3]
        base = ("system:serviceaccounts", f"system:serviceaccounts:{ns}")
        return User(name, (*base, *groups, "system:authenticated"), (ns, sa))
    return User(name, (*groups, "system:authenticated"))


# ---- RBAC --------------------------------------------------------------------------------------------------
def _match(values: list[str] | None, wanted: str) -> bool:
    return bool(values) and ("*" in values or wanted in values)  # type: ignore[operator]


def _resource_match(resources: list[str] | None, attrs: Attributes) -> bool:
    if not resources:
        return False
    combined = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    for r in resources:
        if r == "*" or r == combined:
            return True
        if attrs.subresource and r == f"*/{attrs.subresource}":
            return True
    return False


def rule_allows(rule: Obj, attrs: Attributes) -> bool:
    if not _match(rule.get("verbs"), attrs.verb):
        return False
    if attrs.resource_request:
        if not _match(rule.get("apiGroups"), attrs.group):
            return False
        if not _resource_match(rule.get("resources"), attrs):
            return False
        names = rule.get("resourceNames")
        return not names or attrs.name in names
    for url in rule.get("nonResourceURLs") or []:
        if url == "*" or url == attrs.path or (url.endswith("*") and attrs.path.startswith(url[:-1])):
            return True
    return False


def _subject_matches(subject: Obj, user: User, binding_ns: str) -> bool:
    kind = subject.get("kind")
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or binding_ns
        return user.service_account == (ns, subject.get("name"))
    if kind == "User":
        return subject.get("name") == user.name
    if kind == "Group":
        return subject.get("name") in user.groups
    return False


#: what every authenticated user may do (system:discovery, system:basic-user, system:public-info-viewer)
_PUBLIC_PATHS = ("/api", "/apis", "/version", "/openapi", "/healthz", "/readyz", "/livez")


def authorize(store: Store, user: User, attrs: Attributes) -> bool:
    """True when RBAC (or system:masters) allows ``attrs`` for ``user``."""
    if MASTERS in user.groups:
        return True
    if not attrs.resource_request:
        return attrs.verb == "get" and any(
            attrs.path == p or attrs.path.startswith(p + "/") for p in _PUBLIC_PATHS
        )
    if attrs.resource in ("selfsubjectaccessreviews", "selfsubjectrulesreviews") and attrs.verb == "create":
        return True
    crbs, _ = store.list("clusterrolebindings")
    for b in crbs:
        if any(_subject_matches(s, user, "") for s in b.get("subjects") or []) and _role_allows(
            store, b.get("roleRef") or {}, "", attrs
        ):
            return True
    if attrs.namespace:
        rbs, _ = store.list("rolebindings", attrs.namespace)
        for b in rbs:
            if any(
                _subject_matches(s, user, attrs.namespace) for s in b.get("subjects") or []
            ) and _role_allows(store, b.get("roleRef") or {}, attrs.namespace, attrs):
                return True
    return False


def _role_allows(store: Store, ref: Obj, namespace: str, attrs: Attributes) -> bool:
    if ref.get("kind") == "ClusterRole":
        role = store.get("clusterroles", "", ref.get("name", ""))
    elif ref.get("kind") == "Role" and namespace:
        role = store.get("roles", namespace, ref.get("name", ""))
    else:
        role = None
    if role is None:
        return False
    return any(rule_allows(rule, attrs) for rule in role.get("rules") or [])


def forbidden_message(user: User, attrs: Attributes) -> str:
    """The RBAC denial message kube-apiserver puts in a 403 Status."""
    if not attrs.resource_request:
        return f'forbidden: User "{user.name}" cannot {attrs.verb} path "{attrs.path}"'
    what = f'resource "{attrs.resource}"'
    if attrs.subresource:
        what += f' subresource "{attrs.subresource}"'
    msg = f'User "{user.name}" cannot {attrs.verb} {what} in API group "{attrs.group}"'
    if attrs.namespace:
        msg += f' in the namespace "{attrs.namespace}"'
    else:
        msg += " at the cluster scope"
    return msg
