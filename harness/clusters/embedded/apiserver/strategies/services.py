"""Services (pkg/registry/core/service): defaults, ClusterIP allocation from the service CIDR (the first
address is the ``kubernetes`` Service's), port validation, the immutable ClusterIP and
``kubectl get svc`` columns.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from .. import errors
from ..field import FieldError, duplicate, invalid, required
from ..meta import md
from ..names import dns1035_label, dns1123_label
from ..resource import Resource
from ..strategy import Api, Strategy
from ..tables import age, none_if_empty

Obj = dict[str, Any]

SERVICES = Resource(
    "services", "service", "Service", "", "v1", True, ("svc",),
    ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"), ("status",),
    ("all",),
)  # fmt: skip


def validate_service_spec(spec: Obj) -> list[FieldError]:
    errs: list[FieldError] = []
    ports = spec.get("ports") or []
    headless = spec.get("clusterIP") == "None"
    if not ports and not headless and spec.get("type") != "ExternalName":
        errs.append(required("spec.ports"))
    names: set[str] = set()
    for i, port in enumerate(ports):
        p = f"spec.ports[{i}]"
        if len(ports) > 1 and not port.get("name"):
            errs.append(required(f"{p}.name"))
        if port.get("name"):
            errs += [invalid(f"{p}.name", port["name"], m) for m in dns1123_label(port["name"])]
            if port["name"] in names:
                errs.append(duplicate(f"{p}.name", port["name"]))
            names.add(port["name"])
        number = port.get("port")
        if not isinstance(number, int) or not 1 <= number <= 65535:
            errs.append(invalid(f"{p}.port", number, "must be between 1 and 65535, inclusive"))
    return errs


def allocate_cluster_ip(api: Api, svc: Obj) -> None:
    """Allocate ``spec.clusterIP`` from the service CIDR, or check the requested one is free and in it."""
    spec = svc.setdefault("spec", {})
    if spec.get("type") == "ExternalName":
        return
    requested = spec.get("clusterIP") or (spec.get("clusterIPs") or [None])[0]
    if requested == "None":
        spec["clusterIP"] = "None"
        spec["clusterIPs"] = ["None"]
        return
    net = ipaddress.ip_network(api.config.service_cidr, strict=False)
    services, _ = api.store.list("services")
    used = {s.get("spec", {}).get("clusterIP") for s in services}
    if requested:
        try:
            ip = ipaddress.ip_address(requested)
        except ValueError:
            ip = None
        if ip is None or ip not in net or ip in (net.network_address, net.broadcast_address):
            raise _ip_invalid(
                svc,
                requested,
                f"the provided IP ({requested}) is not in the valid range. The range of valid IPs is {net}",
            )
        if requested in used:
            raise _ip_invalid(
                svc, requested, f"failed to allocate IP {requested}: provided IP is already allocated"
            )
        chosen = requested
    else:
        reserved = api.config.kubernetes_service_ip
        free = (str(h) for h in net.hosts() if str(h) not in used and str(h) != reserved)
        chosen = next(free, "")
        if not chosen:
            raise errors.internal("failed to allocate a serviceIP: range is full")
    spec["clusterIP"] = chosen
    spec["clusterIPs"] = [chosen]


def _ip_invalid(svc: Obj, ip: str, message: str) -> errors.ApiError:
    return errors.invalid(
        "Service",
        md(svc).get("name", ""),
        [
            {
                "reason": "FieldValueInvalid",
                "message": f'Invalid value: []string{{"{ip}"}}: {message}',
                "field": "spec.clusterIPs",
            }
        ],
    )


def _ports(spec: Obj) -> str:
    return ",".join(
        f"{p['port']}/{p.get('protocol', 'TCP')}" if not p.get("nodePort") else
        f"{p['port']}:{p['nodePort']}/{p.get('protocol', 'TCP')}"
        for p in spec.get("ports") or []
    )  # fmt: skip


class ServiceStrategy(Strategy):
    created_status: Obj | None = {}
    return_deleted_object = True
    columns = (("Type", "string", 0), ("Cluster-IP", "string", 0), ("External-IP", "string", 0),
               ("Port(s)", "string", 0), ("Age", "string", 0), ("Selector", "string", 1))  # fmt: skip

    def defaults(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        spec.setdefault("internalTrafficPolicy", "Cluster")
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("ipFamilies", ["IPv4"])
        for p in spec.get("ports") or []:
            p.setdefault("protocol", "TCP")
            p.setdefault("targetPort", p.get("port"))
        obj.setdefault("status", {}).setdefault("loadBalancer", {})

    def before_create(self, api: Api, obj: Obj) -> None:
        allocate_cluster_ip(api, obj)

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_update(new, old)
        spec, old_spec = new.setdefault("spec", {}), old.get("spec", {})
        for k in ("clusterIP", "clusterIPs"):
            if not spec.get(k) and k in old_spec:
                spec[k] = old_spec[k]  # an update that leaves them out keeps the allocation

    def name_errors(self, name: str) -> list[str]:
        return dns1035_label(name)

    def validate(self, obj: Obj) -> list[FieldError]:
        return validate_service_spec(obj.get("spec") or {})

    def validate_update(self, old: Obj, new: Obj) -> list[FieldError]:
        old_ip, new_ip = (old.get("spec") or {}).get("clusterIP"), (new.get("spec") or {}).get("clusterIP")
        return [] if old_ip == new_ip else [invalid("spec.clusterIPs[0]", new_ip, "field is immutable")]

    def row(self, o: Obj) -> list[Any]:
        spec = o.get("spec") or {}
        selector = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items()))
        return [spec.get("type", "ClusterIP"), none_if_empty(spec.get("clusterIP")),
                none_if_empty(spec.get("externalIPs")), none_if_empty(_ports(spec)), age(o),
                none_if_empty(selector)]  # fmt: skip


STRATEGIES = (ServiceStrategy(SERVICES),)
