"""Thin helpers over the ``kubernetes`` client that the backends, the hub deployer, the oracles and
reports share.  It lives with the backends ("where") because they use it too; the hub and check layers
build on it, never the other way round.

Only behaviour every conformant API server has is used (typed CRUD, exec, logs), so the same code
runs on the embedded cluster, kind and any existing cluster.
"""

from __future__ import annotations

import builtins
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import urllib3
from kubernetes import client, config, stream, utils, watch
from kubernetes.client.exceptions import ApiException

T = TypeVar("T")


class WaitTimeout(TimeoutError):
    """A condition was not met in time; the message says what was last seen."""


@dataclass
class Kube:
    """The API clients of one cluster (kubeconfig + optional context)."""

    api: client.ApiClient

    @classmethod
    def from_kubeconfig(cls, kubeconfig: Path, context: str | None = None) -> Kube:
        return cls(config.new_client_from_config(config_file=str(kubeconfig), context=context))

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api)

    def create(self, manifest: dict[str, Any], namespace: str | None = None) -> None:
        utils.create_from_dict(self.api, manifest, namespace=namespace)

    def exec(
        self, namespace: str, pod: str, command: list[str], container: str | None = None
    ) -> tuple[int, str]:
        """Run ``command`` in a container; return (exit code, stdout+stderr)."""
        # stream() swaps the client's request function while it runs: give it a client of its own.
        exec_api = client.CoreV1Api(client.ApiClient(self.api.configuration))
        kwargs: dict[str, Any] = {
            "command": command,
            "stdout": True,
            "stderr": True,
            "stdin": False,
            "tty": False,
        }
        if container:
            kwargs["container"] = container
        resp = stream.stream(
            exec_api.connect_get_namespaced_pod_exec, pod, namespace, _preload_content=False, **kwargs
        )
        out: list[str] = []
        try:
            while resp.is_open():
                resp.update(timeout=1)
                if resp.peek_stdout():
                    out.append(resp.read_stdout())
                if resp.peek_stderr():
                    out.append(resp.read_stderr())
            code = resp.returncode
        finally:
            resp.close()
        return (code if code is not None else -1), "".join(out)

    def logs(self, namespace: str, pod: str, container: str | None = None, previous: bool = False) -> str:
        try:
            kwargs: dict[str, Any] = {"previous": previous}
            if container:
                kwargs["container"] = container
            return str(self.core.read_namespaced_pod_log(pod, namespace, **kwargs))
        except ApiException as exc:
            return f"<no logs: {exc.status} {exc.reason}>"

    def to_dict(self, obj: Any) -> Any:
        """A typed client object as the plain JSON-ish dict the API server sent."""
        return self.api.sanitize_for_serialization(obj)

    def _reader(self, kind: str, namespace: str | None) -> tuple[Callable[..., Any], Callable[..., Any]]:
        core, apps = self.core, self.apps
        table: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
            "pod": (core.read_namespaced_pod, core.list_namespaced_pod),
            "pvc": (
                core.read_namespaced_persistent_volume_claim,
                core.list_namespaced_persistent_volume_claim,
            ),
            "pv": (core.read_persistent_volume, core.list_persistent_volume),
            "deployment": (apps.read_namespaced_deployment, apps.list_namespaced_deployment),
            "namespace": (core.read_namespace, core.list_namespace),
            "serviceaccount": (core.read_namespaced_service_account, core.list_namespaced_service_account),
            "event": (core.read_namespaced_event, core.list_namespaced_event),
            "service": (core.read_namespaced_service, core.list_namespaced_service),
            "endpoints": (core.read_namespaced_endpoints, core.list_namespaced_endpoints),
            "node": (core.read_node, core.list_node),
        }
        return table[kind]

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """The object as a dict, or None when it does not exist. ``kind``: pod, pvc, pv, deployment, ..."""
        read, _ = self._reader(kind, namespace)
        try:
            obj = read(name, namespace) if namespace is not None else read(name)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        data: dict[str, Any] = self.to_dict(obj)
        return data

    def list(
        self, kind: str, namespace: str | None = None, selector: str | None = None
    ) -> list[dict[str, Any]]:
        return self._list(kind, namespace, selector)[0]

    def _list(
        self, kind: str, namespace: str | None, selector: str | None, fields: str | None = None
    ) -> tuple[builtins.list[dict[str, Any]], str]:
        """The items and the list's resourceVersion (where a watch of the same objects starts)."""
        _, lister = self._reader(kind, namespace)
        kwargs: dict[str, Any] = {"label_selector": selector} if selector else {}
        if fields:
            kwargs["field_selector"] = fields
        obj = lister(namespace, **kwargs) if namespace is not None else lister(**kwargs)
        data = self.to_dict(obj)
        items: builtins.list[dict[str, Any]] = data.get("items") or []
        return items, str((data.get("metadata") or {}).get("resourceVersion") or "")

    def watch_until(
        self,
        what: str,
        kind: str,
        namespace: str | None,
        probe: Callable[[builtins.list[dict[str, Any]]], T | None],
        timeout: float,
        *,
        selector: str | None = None,
        name: str | None = None,
        last: Callable[[], str] | None = None,
    ) -> T:
        """Call ``probe`` on the current objects (``kind`` in ``namespace``, by label ``selector`` or
        ``name``) and again after every change a watch reports, until it returns something not None.

        Event-driven where ``wait_for`` polls: a step resumes when the API server says the state it
        waits for is there, not at the next tick. A watch that ends (server timeout, 410 Gone, a
        dropped connection) is followed by a fresh list, so no change is missed. WaitTimeout names
        ``what`` and what was last seen.
        """
        fields = f"metadata.name={name}" if name else None
        _, lister = self._reader(kind, namespace)
        args = (namespace,) if namespace is not None else ()
        deadline = time.monotonic() + timeout
        while True:
            items, version = self._list(kind, namespace, selector, fields)
            objects = {obj["metadata"]["name"]: obj for obj in items}
            value = probe([*objects.values()])
            if value is not None:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = f"; last seen: {last()}" if last else ""
                raise WaitTimeout(f"timed out after {timeout:.0f}s waiting for {what}{seen}")
            kwargs: dict[str, Any] = {
                "resource_version": version,
                "timeout_seconds": max(1, int(remaining + 1)),
                "_request_timeout": remaining + 5,
            }
            if selector:
                kwargs["label_selector"] = selector
            if fields:
                kwargs["field_selector"] = fields
            watcher = watch.Watch()
            events = watcher.stream(lister, *args, **kwargs)
            try:
                while time.monotonic() <= deadline:
                    event = _next_event(events)
                    if event is None or event["type"] not in ("ADDED", "MODIFIED", "DELETED"):
                        break  # the stream ended, broke, or said ERROR (410 Gone): re-list
                    obj = self.to_dict(event["object"])
                    if event["type"] == "DELETED":
                        objects.pop(obj["metadata"]["name"], None)
                    else:
                        objects[obj["metadata"]["name"]] = obj
                    value = probe([*objects.values()])
                    if value is not None:
                        return value
            finally:
                watcher.stop()


def _next_event(events: Iterator[dict[str, Any]]) -> dict[str, Any] | None:
    """The next watch event; None when the stream ended or broke (the caller lists again).

    Only the stream's own failures end it quietly: a dropped connection, or the Status a server
    sends for an expired resourceVersion or while it restarts. Anything else is raised.
    """
    try:
        return next(events)
    except StopIteration:
        return None
    except ApiException as exc:
        if exc.status in (410, 500, 503, 504):
            return None
        raise
    except (OSError, urllib3.exceptions.HTTPError):
        return None


def is_not_found(exc: BaseException) -> bool:
    return isinstance(exc, ApiException) and exc.status == 404


def status_message(exc: ApiException) -> str:
    """The API server's own words (the Status ``message``), as kubectl prints them."""
    try:
        body = json.loads(exc.body or "")
    except (TypeError, ValueError):
        body = None
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return f"{exc.status} {exc.reason}"


def wait_for(
    what: str,
    probe: Callable[[], T | None],
    timeout: float,
    interval: float = 0.5,
    last: Callable[[], str] | None = None,
) -> T:
    """Call ``probe`` until it returns something not None; raise WaitTimeout naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            seen = f"; last seen: {last()}" if last else ""
            raise WaitTimeout(f"timed out after {timeout:.0f}s waiting for {what}{seen}")
        time.sleep(interval)


def wait_deleted(
    kube: Any,
    what: str,
    kind: str,
    namespace: str | None,
    name: str,
    timeout: float,
    *,
    uid: str | None = None,
    last: Callable[[], str] | None = None,
) -> None:
    """Watch until the object ``name`` is gone; with ``uid``, until *that* object is: one of the same
    name with another uid is its successor (the server's next pod, a re-created claim), not it.

    ``kube`` is a ``Kube`` or anything with its ``watch_until`` (the unit tests' fakes)."""

    def gone(found: list[dict[str, Any]]) -> bool | None:
        if uid is None:
            return True if not found else None
        return True if all(obj["metadata"]["uid"] != uid for obj in found) else None

    kube.watch_until(what, kind, namespace, gone, timeout, name=name, last=last)
