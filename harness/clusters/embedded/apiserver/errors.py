"""Kubernetes ``Status`` errors with the exact bodies kube-apiserver sends.

Every failure a client can see is an :class:`ApiError` carrying the Status dict, so the HTTP layer and the
internal callers (controllers, kubelet) see the same thing.  Builders mirror
k8s.io/apimachinery/pkg/api/errors (NewNotFound, NewAlreadyExists, NewConflict, NewInvalid, ...).
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An API failure; ``status`` is the full Status object, ``code`` its HTTP code."""

    def __init__(self, status: dict[str, Any]) -> None:
        super().__init__(status.get("message", ""))
        self.status = status
        self.code: int = int(status["code"])

    @property
    def reason(self) -> str:
        return str(self.status.get("reason", ""))


def status_body(
    code: int, reason: str, message: str, details: dict[str, Any] | None = None, *, failure: bool = True
) -> dict[str, Any]:
    """A Status object in the field order kube-apiserver serialises it."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure" if failure else "Success",
        "message": message,
    }
    if reason:
        body["reason"] = reason
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


def _details(name: str, group: str, kind: str) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name} if name else {}
    if group:
        details["group"] = group
    details["kind"] = kind
    return details


def qualified(resource: str, group: str) -> str:
    """``pods`` or ``deployments.apps`` as apiserver messages name a resource."""
    return f"{resource}.{group}" if group else resource


def not_found(resource: str, name: str, group: str = "") -> ApiError:
    return ApiError(
        status_body(
            404,
            "NotFound",
            f'{qualified(resource, group)} "{name}" not found',
            _details(name, group, resource),
        )
    )


def already_exists(resource: str, name: str, group: str = "") -> ApiError:
    return ApiError(
        status_body(
            409,
            "AlreadyExists",
            f'{qualified(resource, group)} "{name}" already exists',
            _details(name, group, resource),
        )
    )


def conflict(resource: str, name: str, group: str = "", why: str | None = None) -> ApiError:
    why = why or "the object has been modified; please apply your changes to the latest version and try again"
    return ApiError(
        status_body(
            409,
            "Conflict",
            f'Operation cannot be fulfilled on {qualified(resource, group)} "{name}": {why}',
            _details(name, group, resource),
        )
    )


def invalid(kind: str, name: str, causes: list[dict[str, str]], group: str = "") -> ApiError:
    """422 Invalid; ``causes`` are ``{"reason","message","field"}`` dicts (see validation.py)."""
    summary = ", ".join(f"{c['field']}: {c['message']}" if c.get("field") else c["message"] for c in causes)
    if len(causes) > 1:
        summary = f"[{summary}]"
    details = _details(name, group, kind)
    details["causes"] = causes
    return ApiError(status_body(422, "Invalid", f'{kind} "{name}" is invalid: {summary}', details))


def bad_request(message: str) -> ApiError:
    return ApiError(status_body(400, "BadRequest", message))


def forbidden(resource: str, name: str, group: str, message: str) -> ApiError:
    """403 Forbidden: message is the part after ``<resource> "<name>" is forbidden: ``."""
    prefix = (
        f'{qualified(resource, group)} "{name}" is forbidden: '
        if name
        else f"{qualified(resource, group)} is forbidden: "
    )
    return ApiError(status_body(403, "Forbidden", prefix + message, _details(name, group, resource)))


def unauthorized() -> ApiError:
    return ApiError(status_body(401, "Unauthorized", "Unauthorized"))


def method_not_allowed() -> ApiError:
    return ApiError(
        status_body(
            405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
        )
    )


PATCH_MEDIA_TYPES = (
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, "
    "application/strategic-merge-patch+json"
)
BODY_MEDIA_TYPES = "application/json, application/yaml, application/vnd.kubernetes.protobuf"


def unsupported_media_type(content_type: str, accepted: str = PATCH_MEDIA_TYPES) -> ApiError:
    """415 for a body ``content_type`` this endpoint cannot read (PATCH and create/update differ)."""
    del content_type  # the real message names only what is accepted
    return ApiError(
        status_body(
            415,
            "UnsupportedMediaType",
            f"the body of the request was in an unknown format - accepted media types include: {accepted}",
        )
    )


def expired(message: str) -> ApiError:
    return ApiError(status_body(410, "Expired", message))


def gone(message: str) -> ApiError:
    return ApiError(status_body(410, "Gone", message))


def internal(message: str) -> ApiError:
    return ApiError(
        status_body(
            500, "InternalError", f"Internal error occurred: {message}", {"causes": [{"message": message}]}
        )
    )


def service_unavailable(message: str) -> ApiError:
    return ApiError(status_body(503, "ServiceUnavailable", message))


def page_not_found() -> ApiError:
    return ApiError(status_body(404, "NotFound", "the server could not find the requested resource", {}))
