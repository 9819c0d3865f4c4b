"""The Endpoints controller: for each Service with a selector, the pod addresses behind it.

Why: the hub reaches the proxy API and single-user servers through Services; the embedded service proxy and
any client reading Endpoints must see ready pods in ``addresses`` and the rest in ``notReadyAddresses``,
with ports resolved from (possibly named) targetPorts — as kube-controller-manager publishes them.
"""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

from .base import Controller, delete_if_present
from .informer import Informer, InformerFactory
from .objects import Key, Obj, is_terminating, map_selector_matches, now, pod_is_ready

COMPONENT = "endpoint-controller"
LAST_CHANGE = "endpoints.kubernetes.io/last-change-trigger-time"
HEADLESS_LABEL = "service.kubernetes.io/headless"


def resolve_target_port(service_port: dict[str, Any], pod: Obj) -> int | None:
    """podutil.FindPort: a number is used as is; a name is looked up among the pod's container ports."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = service_port.get("protocol", "TCP")
    for c in pod.get("spec", {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == target and p.get("protocol", "TCP") == protocol:
                return int(p["containerPort"])
    return None


def pod_in_endpoints(pod: Obj) -> bool:
    """shouldPodBeInEndpoints: has an IP, and is not a finished pod that will not restart."""
    if not pod.get("status", {}).get("podIP"):
        return False
    phase = pod.get("status", {}).get("phase")
    restart = pod.get("spec", {}).get("restartPolicy", "Always")
    if restart == "Never" and phase in ("Failed", "Succeeded"):
        return False
    return not (restart == "OnFailure" and phase == "Succeeded")


def _address(pod: Obj, service: Obj) -> dict[str, Any]:
    addr: dict[str, Any] = {"ip": pod["status"]["podIP"]}
    spec = pod.get("spec", {})
    if spec.get("hostname") and spec.get("subdomain") == service["metadata"]["name"]:
        addr["hostname"] = spec["hostname"]
    if spec.get("nodeName"):
        addr["nodeName"] = spec["nodeName"]
    m = pod["metadata"]
    addr["targetRef"] = {
        "kind": "Pod",
        "namespace": m["namespace"],
        "name": m["name"],
        "uid": m.get("uid", ""),
        "resourceVersion": m.get("resourceVersion", ""),
    }
    return addr


def _ip_key(addr: dict[str, Any]) -> tuple[int, Any]:
    try:
        return (0, ipaddress.ip_address(addr["ip"]))
    except ValueError:
        return (1, addr["ip"])


def endpoint_subsets(service: Obj, pods: list[Obj]) -> list[dict[str, Any]]:
    """Addresses per identical port set (endpoints.RepackSubsets), sorted like the real controller."""
    spec = service.get("spec", {})
    tolerate_unready = bool(spec.get("publishNotReadyAddresses"))
    groups: dict[tuple[tuple[str, int, str], ...], dict[str, list[dict[str, Any]]]] = {}
    for pod in pods:
        if not map_selector_matches(spec.get("selector"), pod["metadata"].get("labels")):
            continue
        if not pod_in_endpoints(pod) or (is_terminating(pod) and not tolerate_unready):
            continue
        ports: list[tuple[str, int, str]] = []
        for sp in spec.get("ports") or []:
            number = resolve_target_port(sp, pod)
            if number is not None:
                ports.append((sp.get("name", ""), number, sp.get("protocol", "TCP")))
        if spec.get("ports") and not ports:
            continue
        ready = tolerate_unready or pod_is_ready(pod)
        group = groups.setdefault(tuple(sorted(ports)), {"addresses": [], "notReadyAddresses": []})
        group["addresses" if ready else "notReadyAddresses"].append(_address(pod, service))
    subsets = []
    for ports_key, group in groups.items():
        subset: dict[str, Any] = {}
        for field in ("addresses", "notReadyAddresses"):
            if group[field]:
                subset[field] = sorted(group[field], key=_ip_key)
        subset["ports"] = [
            {**({"name": name} if name else {}), "port": port, "protocol": proto}
            for name, port, proto in ports_key
        ]
        if not ports_key:
            del subset["ports"]
        subsets.append(subset)
    subsets.sort(key=lambda s: repr(s))
    return subsets


def _comparable(subsets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Subsets without targetRef.resourceVersion (pod status churn alone must not rewrite Endpoints)."""
    out = copy.deepcopy(subsets)
    for s in out:
        for field in ("addresses", "notReadyAddresses"):
            for a in s.get(field) or []:
                a.get("targetRef", {}).pop("resourceVersion", None)
    return out


class EndpointsController(Controller):
    name = COMPONENT

    def __init__(self, registry: Any, informers: InformerFactory, config: Any) -> None:
        super().__init__(registry, informers, config)
        self.services = self.watch("services")
        self.pods = self.watch("pods")
        self.endpoints = self.watch("endpoints")
        self.services.add_handler(self.enqueue_on_event)
        self.pods.add_handler(self._on_pod)
        self.endpoints.add_handler(self._on_endpoints)

    def primary(self) -> Informer:
        return self.services

    def _on_pod(self, event_type: str, pod: Obj, old: Obj | None) -> None:
        ns = pod["metadata"].get("namespace", "")
        labels = [pod["metadata"].get("labels")] + ([old["metadata"].get("labels")] if old else [])
        for svc in self.services.list(ns):
            selector = svc.get("spec", {}).get("selector")
            if any(map_selector_matches(selector, lb) for lb in labels):
                self.enqueue(svc)

    def _on_endpoints(self, event_type: str, ep: Obj, old: Obj | None) -> None:
        if event_type == "DELETED":
            self.enqueue(ep)

    async def reconcile(self, key: Key) -> float | None:
        ns, name = key
        svc = self.services.get(ns, name)
        current = self.endpoints.get(ns, name)
        if svc is None:
            if current is not None:
                await delete_if_present(self.registry, "endpoints", ns, name)
            return None
        if not svc.get("spec", {}).get("selector"):
            return None  # Endpoints of selector-less Services are the user's
        subsets = endpoint_subsets(svc, self.pods.list(ns))
        labels = dict(svc["metadata"].get("labels") or {})
        if svc.get("spec", {}).get("clusterIP") == "None":
            labels[HEADLESS_LABEL] = ""
        if (
            current is not None
            and _comparable(current.get("subsets") or []) == _comparable(subsets)
            and (current["metadata"].get("labels") or {}) == labels
        ):
            return None
        ep: Obj = (
            copy.deepcopy(current)
            if current
            else {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {"name": name, "namespace": ns},
            }
        )
        ep["metadata"]["labels"] = labels
        ep["metadata"].setdefault("annotations", {})[LAST_CHANGE] = now()
        if subsets:
            ep["subsets"] = subsets
        else:
            ep.pop("subsets", None)
        if current is None:
            # AlreadyExists (created in between) is retried by the queue once the cache has it
            await self.registry.create("endpoints", ns, ep)
        else:
            await self.registry.update("endpoints", ns, ep)
        return None
