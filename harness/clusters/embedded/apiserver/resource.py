"""What one served resource is: its names, kind, group/version, scope, verbs and subresources (the
``APIResource`` of discovery).  Each strategy module declares the resources it serves with this.
"""

from __future__ import annotations

from dataclasses import dataclass

#: the verbs of a stored read-write resource
RW = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class Resource:
    plural: str
    singular: str
    kind: str
    group: str
    version: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = RW
    subresources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    #: False for resources computed per request and never stored (SelfSubjectAccessReview)
    stored: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version
