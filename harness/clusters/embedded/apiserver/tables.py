"""``meta.k8s.io/v1`` Table responses, so ``kubectl get`` (and ``-o wide``) print the columns it prints on a
real cluster.  Columns and cell formats follow pkg/printers/internalversion for the types served here;
priority-1 columns are the ``-o wide`` ones.  Other types get Name + Age.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from .resources import Resource

Obj = dict[str, Any]
Column = tuple[str, str, int]  # name, type, priority


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def age(obj: Obj) -> str:
    ts = (obj.get("metadata") or {}).get("creationTimestamp")
    if not ts:
        return "<unknown>"
    created = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    return human_duration((datetime.datetime.now(datetime.timezone.utc) - created).total_seconds())


def _none(value: Any) -> Any:
    return "<none>" if value in (None, "", []) else value


def _modes(modes: list[str] | None) -> str:
    short = {
        "ReadWriteOnce": "RWO",
        "ReadOnlyMany": "ROX",
        "ReadWriteMany": "RWX",
        "ReadWriteOncePod": "RWOP",
    }
    return ",".join(short.get(m, m) for m in modes or [])


def _pod(o: Obj) -> list[Any]:
    spec, status = o.get("spec") or {}, o.get("status") or {}
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(int(c.get("restartCount") or 0) for c in statuses)
    reason = status.get("reason") or status.get("phase") or "Pending"
    for c in statuses:
        state = c.get("state") or {}
        if "waiting" in state and state["waiting"].get("reason"):
            reason = state["waiting"]["reason"]
        elif "terminated" in state:
            t = state["terminated"]
            reason = t.get("reason") or (
                f"Signal:{t['signal']}" if t.get("signal") else f"ExitCode:{t.get('exitCode')}"
            )
    if (o.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Terminating"
    total = len(spec.get("containers") or [])
    return [f"{ready}/{total}", reason, restarts, age(o), _none(status.get("podIP")),
            _none(spec.get("nodeName")), _none(status.get("nominatedNodeName")), "<none>"]  # fmt: skip


def _pvc(o: Obj) -> list[Any]:
    spec, status = o.get("spec") or {}, o.get("status") or {}
    phase = "Terminating" if (o.get("metadata") or {}).get("deletionTimestamp") else status.get("phase", "")
    capacity = (status.get("capacity") or {}).get("storage", "")
    return [phase, spec.get("volumeName", ""), capacity, _modes(status.get("accessModes")),
            spec.get("storageClassName", ""), _none(spec.get("volumeAttributesClassName")), age(o),
            spec.get("volumeMode", "Filesystem")]  # fmt: skip


def _pv(o: Obj) -> list[Any]:
    spec, status = o.get("spec") or {}, o.get("status") or {}
    ref = spec.get("claimRef") or {}
    claim = f"{ref.get('namespace')}/{ref.get('name')}" if ref else ""
    phase = "Terminating" if (o.get("metadata") or {}).get("deletionTimestamp") else status.get("phase", "")
    return [(spec.get("capacity") or {}).get("storage", ""), _modes(spec.get("accessModes")),
            spec.get("persistentVolumeReclaimPolicy", ""), phase, claim, spec.get("storageClassName", ""),
            _none(spec.get("volumeAttributesClassName")), status.get("reason", ""), age(o),
            spec.get("volumeMode", "Filesystem")]  # fmt: skip


def _svc(o: Obj) -> list[Any]:
    spec = o.get("spec") or {}
    ports = ",".join(
        f"{p['port']}/{p.get('protocol', 'TCP')}" if not p.get("nodePort") else
        f"{p['port']}:{p['nodePort']}/{p.get('protocol', 'TCP')}"
        for p in spec.get("ports") or []
    )  # fmt: skip
    selector = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items()))
    return [spec.get("type", "ClusterIP"), _none(spec.get("clusterIP")), _none(spec.get("externalIPs")),
            _none(ports), age(o), _none(selector)]  # fmt: skip


def _containers(spec: Obj) -> tuple[str, str]:
    containers = (((spec.get("template") or {}).get("spec") or {}).get("containers")) or []
    return ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)


def _selector(spec: Obj) -> str:
    return ",".join(
        f"{k}={v}" for k, v in sorted(((spec.get("selector") or {}).get("matchLabels") or {}).items())
    )


def _deploy(o: Obj) -> list[Any]:
    spec, status = o.get("spec") or {}, o.get("status") or {}
    names, images = _containers(spec)
    return [f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}", status.get("updatedReplicas", 0),
            status.get("availableReplicas", 0), age(o), names, images, _none(_selector(spec))]  # fmt: skip


def _rs(o: Obj) -> list[Any]:
    spec, status = o.get("spec") or {}, o.get("status") or {}
    names, images = _containers(spec)
    return [spec.get("replicas", 1), status.get("replicas", 0), status.get("readyReplicas", 0), age(o), names,
            images, _none(_selector(spec))]  # fmt: skip


def _node(o: Obj) -> list[Any]:
    status = o.get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    state = "Ready" if ready and ready.get("status") == "True" else "NotReady"
    if (o.get("spec") or {}).get("unschedulable"):
        state += ",SchedulingDisabled"
    info = status.get("nodeInfo") or {}
    addr = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
    labels = (o.get("metadata") or {}).get("labels") or {}
    roles = ",".join(sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/")))
    return [state, _none(roles), age(o), info.get("kubeletVersion", ""), _none(addr.get("InternalIP")),
            _none(addr.get("ExternalIP")), info.get("osImage", ""), info.get("kernelVersion", ""),
            info.get("containerRuntimeVersion", "")]  # fmt: skip


def _event(o: Obj) -> list[Any]:
    ref = o.get("involvedObject") or {}
    last = o.get("lastTimestamp") or o.get("eventTime") or (o.get("metadata") or {}).get("creationTimestamp")
    seen = age({"metadata": {"creationTimestamp": last[:19] + "Z" if last else None}})
    obj = f"{ref.get('kind', '').lower()}/{ref.get('name', '')}"
    return [seen, o.get("type", ""), o.get("reason", ""), obj, o.get("message", "")]


_TABLES: dict[str, tuple[list[Column], Callable[[Obj], list[Any]]]] = {
    "pods": ([("Ready", "string", 0), ("Status", "string", 0), ("Restarts", "string", 0),
              ("Age", "string", 0),
              ("IP", "string", 1), ("Node", "string", 1), ("Nominated Node", "string", 1),
              ("Readiness Gates", "string", 1)], _pod),
    "persistentvolumeclaims": ([("Status", "string", 0), ("Volume", "string", 0), ("Capacity", "string", 0),
                                ("Access Modes", "string", 0), ("StorageClass", "string", 0),
                                ("VolumeAttributesClass", "string", 0), ("Age", "string", 0),
                                ("VolumeMode", "string", 1)], _pvc),
    "persistentvolumes": ([("Capacity", "string", 0), ("Access Modes", "string", 0),
                           ("Reclaim Policy", "string", 0), ("Status", "string", 0), ("Claim", "string", 0),
                           ("StorageClass", "string", 0), ("VolumeAttributesClass", "string", 0),
                           ("Reason", "string", 0), ("Age", "string", 0), ("VolumeMode", "string", 1)], _pv),
    "services": ([("Type", "string", 0), ("Cluster-IP", "string", 0), ("External-IP", "string", 0),
                  ("Port(s)", "string", 0), ("Age", "string", 0), ("Selector", "string", 1)], _svc),
    "deployments": ([("Ready", "string", 0), ("Up-to-date", "integer", 0), ("Available", "integer", 0),
                     ("Age", "string", 0), ("Containers", "string", 1), ("Images", "string", 1),
                     ("Selector", "string", 1)], _deploy),
    "replicasets": ([("Desired", "integer", 0), ("Current", "integer", 0), ("Ready", "integer", 0),
                     ("Age", "string", 0), ("Containers", "string", 1), ("Images", "string", 1),
                     ("Selector", "string", 1)], _rs),
    "nodes": ([("Status", "string", 0), ("Roles", "string", 0), ("Age", "string", 0),
               ("Version", "string", 0),
               ("Internal-IP", "string", 1), ("External-IP", "string", 1), ("OS-Image", "string", 1),
               ("Kernel-Version", "string", 1), ("Container-Runtime", "string", 1)], _node),
    "namespaces": ([("Status", "string", 0), ("Age", "string", 0)],
                   lambda o: [(o.get("status") or {}).get("phase", ""), age(o)]),
    "events": ([("Last Seen", "string", 0), ("Type", "string", 0), ("Reason", "string", 0),
                ("Object", "string", 0), ("Message", "string", 0)], _event),
    "configmaps": ([("Data", "integer", 0), ("Age", "string", 0)],
                   lambda o: [len(o.get("data") or {}) + len(o.get("binaryData") or {}), age(o)]),
    "secrets": ([("Type", "string", 0), ("Data", "integer", 0), ("Age", "string", 0)],
                lambda o: [o.get("type", ""), len(o.get("data") or {}), age(o)]),
    "serviceaccounts": ([("Secrets", "integer", 0), ("Age", "string", 0)],
                        lambda o: [len(o.get("secrets") or []), age(o)]),
    "storageclasses": ([("Provisioner", "string", 0), ("ReclaimPolicy", "string", 0),
                        ("VolumeBindingMode", "string", 0), ("AllowVolumeExpansion", "boolean", 0),
                        ("Age", "string", 0)],
                       lambda o: [o.get("provisioner", ""), o.get("reclaimPolicy", ""),
                                  o.get("volumeBindingMode", ""), bool(o.get("allowVolumeExpansion")),
                                  age(o)]),
}  # fmt: skip


def wants_table(accept: str) -> bool:
    return "as=Table" in accept and "g=meta.k8s.io" in accept


def to_table(info: Resource, items: list[Obj], resource_version: str | None) -> Obj:
    columns, row_of = _TABLES.get(info.plural, ([("Age", "string", 0)], lambda o: [age(o)]))
    definitions = [{"name": "Name", "type": "string", "format": "name", "description": "Name must be unique "
                    "within a namespace.", "priority": 0}]  # fmt: skip
    definitions += [
        {"name": n, "type": t, "format": "", "description": n, "priority": p} for n, t, p in columns
    ]
    rows = [
        {
            "cells": [(o.get("metadata") or {}).get("name", ""), *row_of(o)],
            "object": {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": o.get("metadata"),
            },
        }
        for o in items
    ]
    meta = {"resourceVersion": resource_version} if resource_version else {}
    table: Obj = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
    table.update(columnDefinitions=definitions, rows=rows)
    return table
