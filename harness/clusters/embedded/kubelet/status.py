"""Pod and container status documents, shaped like the real kubelet's.

``ContainerRecord`` is the kubelet's memory of one container (current state, last termination,
restart count, readiness); ``pod_status`` assembles the whole ``status`` from those records.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from .runtime import now_rfc3339

Obj = dict[str, Any]


def image_id(image: str) -> str:
    repo = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    return f"{repo}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"


@dataclass
class ContainerRecord:
    name: str
    image: str
    state: Obj = field(default_factory=lambda: {"waiting": {"reason": "ContainerCreating"}})
    last_state: Obj = field(default_factory=dict)
    restart_count: int = 0
    ready: bool = False
    started: bool = False
    container_id: str | None = None

    @classmethod
    def waiting_for(cls, container: Obj, reason: str) -> ContainerRecord:
        """The record of a container that has not been created yet, waiting for ``reason``."""
        return cls(container["name"], container["image"], state={"waiting": {"reason": reason}})

    def set_waiting(self, reason: str, message: str | None = None) -> None:
        waiting: Obj = {"reason": reason}
        if message:
            waiting["message"] = message
        if "terminated" in self.state:
            self.last_state = self.state
        self.state = {"waiting": waiting}
        self.ready = self.started = False

    def set_running(self, container_id: str, started_at: str) -> None:
        self.container_id = container_id
        self.state = {"running": {"startedAt": started_at}}

    def set_terminated(
        self,
        exit_code: int,
        started_at: str | None,
        finished_at: str | None,
        reason: str | None = None,
        message: str | None = None,
    ) -> None:
        term: Obj = {
            "exitCode": exit_code,
            "reason": reason or ("Completed" if exit_code == 0 else "Error"),
            "startedAt": started_at,
            "finishedAt": finished_at or now_rfc3339(),
        }
        if message:
            term["message"] = message
        if self.container_id:
            term["containerID"] = f"embedded://{self.container_id}"
        self.state = {"terminated": term}
        self.ready = self.started = False

    @property
    def running(self) -> bool:
        return "running" in self.state

    @property
    def terminated(self) -> Obj | None:
        return self.state.get("terminated")

    def to_status(self) -> Obj:
        out: Obj = {
            "name": self.name,
            "state": self.state,
            "lastState": self.last_state,
            "ready": self.ready,
            "restartCount": self.restart_count,
            "image": self.image,
            "imageID": image_id(self.image) if self.container_id else "",
            "started": self.started,
        }
        if self.container_id:
            out["containerID"] = f"embedded://{self.container_id}"
        return out


def _condition(
    ctype: str,
    ok: bool,
    reason: str | None = None,
    message: str | None = None,
    previous: list[Obj] | None = None,
) -> Obj:
    status = "True" if ok else "False"
    since = now_rfc3339()
    for old in previous or []:
        if old.get("type") == ctype and old.get("status") == status:
            since = old.get("lastTransitionTime") or since
    cond: Obj = {"type": ctype, "status": status, "lastProbeTime": None, "lastTransitionTime": since}
    if not ok and reason:
        cond["reason"] = reason
        if message:
            cond["message"] = message
    return cond


def qos_class(pod: Obj) -> str:
    containers = pod["spec"].get("containers") or []
    reqs = [c.get("resources") or {} for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in reqs):
        return "BestEffort"
    guaranteed = all(
        (r.get("limits") or {}).get(k) and (r.get("requests") or {}).get(k, r["limits"][k]) == r["limits"][k]
        for r in reqs
        for k in ("cpu", "memory")
    )
    return "Guaranteed" if guaranteed else "Burstable"


def pod_status(
    pod: Obj,
    *,
    phase: str,
    host_ip: str,
    pod_ip: str | None,
    start_time: str,
    init: list[ContainerRecord],
    containers: list[ContainerRecord],
    initialized: bool,
) -> Obj:
    previous = (pod.get("status") or {}).get("conditions") or []
    unready = [c.name for c in containers if not c.ready]
    uninit = [c.name for c in init if not (c.terminated and c.terminated["exitCode"] == 0)]
    finished = phase in ("Succeeded", "Failed")
    ready_reason = "PodCompleted" if finished else "ContainersNotReady"
    ready_msg = None if finished else f"containers with unready status: [{' '.join(unready)}]"
    conditions = [
        _condition(
            "Initialized",
            initialized,
            "ContainersNotInitialized",
            f"containers with incomplete status: [{' '.join(uninit)}]",
            previous,
        ),
        _condition("Ready", not unready and not finished, ready_reason, ready_msg, previous),
        _condition("ContainersReady", not unready and not finished, ready_reason, ready_msg, previous),
        _condition("PodScheduled", True, previous=previous),
    ]
    if finished and initialized:
        conditions[0]["reason"] = "PodCompleted"
    status: Obj = {
        "phase": phase,
        "conditions": conditions,
        "hostIP": host_ip,
        "startTime": start_time,
        "containerStatuses": [c.to_status() for c in containers],
        "qosClass": (pod.get("status") or {}).get("qosClass") or qos_class(pod),
    }
    if pod_ip:
        status["podIP"] = pod_ip
        status["podIPs"] = [{"ip": pod_ip}]
    if init:
        status["initContainerStatuses"] = [c.to_status() for c in init]
    return status
