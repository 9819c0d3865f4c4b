"""The pod spec, shared by Pods and the pod templates of Deployments and ReplicaSets: its defaults
(pkg/apis/core/v1/defaults.go) and validation (ValidatePodSpec), with kube-apiserver's exact messages.
"""

from __future__ import annotations

import re
from typing import Any

from ..field import FieldError, duplicate, forbidden, invalid, not_found, not_supported, required
from ..names import ENV_VAR_FMT, ENV_VAR_MSG, dns1123_label
from ..quantity import QuantityError, parse_quantity

Obj = dict[str, Any]


# ---- defaults ----------------------------------------------------------------------------------------
def _container_defaults(c: Obj) -> None:
    image = c.get("image", "")
    if "imagePullPolicy" not in c:
        tag = image.rsplit("/", 1)[-1]
        latest = "@" not in image and (":" not in tag or tag.endswith(":latest"))
        c["imagePullPolicy"] = "Always" if latest else "IfNotPresent"
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    c.setdefault("resources", {})
    for p in c.get("ports") or []:
        p.setdefault("protocol", "TCP")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        pr = c.get(probe)
        if isinstance(pr, dict):
            pr.setdefault("timeoutSeconds", 1)
            pr.setdefault("periodSeconds", 10)
            pr.setdefault("successThreshold", 1)
            pr.setdefault("failureThreshold", 3)
            if isinstance(pr.get("httpGet"), dict):
                pr["httpGet"].setdefault("path", "/")
                pr["httpGet"].setdefault("scheme", "HTTP")
    for e in c.get("env") or []:
        vf = e.get("valueFrom") or {}
        if isinstance(vf.get("fieldRef"), dict):
            vf["fieldRef"].setdefault("apiVersion", "v1")


def pod_spec_defaults(spec: Obj) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    spec.setdefault("priority", 0)
    for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        _container_defaults(c)
    for v in spec.get("volumes") or []:
        if isinstance(v.get("secret"), dict):
            v["secret"].setdefault("defaultMode", 420)
        if isinstance(v.get("configMap"), dict):
            v["configMap"].setdefault("defaultMode", 420)
        if isinstance(v.get("projected"), dict):
            v["projected"].setdefault("defaultMode", 420)
        if isinstance(v.get("hostPath"), dict):
            v["hostPath"].setdefault("type", "")


# ---- validation (pkg/apis/core/validation) -------------------------------------------------------------
# the order validateVolumeSource checks sources in (pkg/apis/core/validation)
_VOLUME_SOURCES = (
    "hostPath", "emptyDir", "gitRepo", "gcePersistentDisk", "awsElasticBlockStore", "secret", "nfs", "iscsi",
    "glusterfs", "flocker", "persistentVolumeClaim", "rbd", "quobyte", "cinder", "cephfs", "flexVolume",
    "downwardAPI", "fc", "azureFile", "vsphereVolume", "photonPersistentDisk", "portworxVolume", "azureDisk",
    "storageos", "configMap", "scaleIO", "projected", "csi", "ephemeral", "image",
)  # fmt: skip


def _unique_label_name(name: str, path: str, names: set[str]) -> list[FieldError]:
    """A volume's or container's name: required, a DNS-1123 label, unique among ``names`` (then added)."""
    if not name:
        return [required(path)]
    errs = [invalid(path, name, m) for m in dns1123_label(name)]
    if name in names:
        errs.append(duplicate(path, name))
    names.add(name)
    return errs


def validate_volumes(volumes: list[Obj], path: str) -> tuple[list[FieldError], set[str]]:
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, vol in enumerate(volumes):
        p = f"{path}[{i}]"
        errs += _unique_label_name(vol.get("name") or "", f"{p}.name", names)
        sources = [s for s in _VOLUME_SOURCES if vol.get(s) is not None]
        if not sources:
            errs.append(required(p, "must specify a volume type"))
        for extra in sources[1:]:
            errs.append(forbidden(f"{p}.{extra}", "may not specify more than 1 volume type"))
        pvc = vol.get("persistentVolumeClaim")
        if isinstance(pvc, dict) and not pvc.get("claimName"):
            errs.append(required(f"{p}.persistentVolumeClaim.claimName"))
    return errs, names


def validate_volume_mounts(mounts: list[Obj], volumes: set[str], path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, m in enumerate(mounts):
        p = f"{path}[{i}]"
        name = m.get("name") or ""
        if not name:
            errs.append(required(f"{p}.name"))
        elif name not in volumes:
            errs.append(not_found(f"{p}.name", name))
        mount_path = m.get("mountPath") or ""
        if not mount_path:
            errs.append(required(f"{p}.mountPath"))
        if mount_path in seen:
            errs.append(invalid(f"{p}.mountPath", mount_path, "must be unique"))
        seen.add(mount_path)
        sub = m.get("subPath") or ""
        if sub:
            if sub.startswith("/"):
                errs.append(invalid(f"{p}.subPath", sub, "must be a relative path"))
            if ".." in sub.split("/"):
                errs.append(invalid(f"{p}.subPath", sub, "must not contain '..'"))
    return errs


def validate_containers(
    containers: list[Obj], volumes: set[str], path: str, names: set[str]
) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, c in enumerate(containers):
        p = f"{path}[{i}]"
        errs += _unique_label_name(c.get("name") or "", f"{p}.name", names)
        if not c.get("image"):
            errs.append(required(f"{p}.image"))
        errs += validate_volume_mounts(c.get("volumeMounts") or [], volumes, f"{p}.volumeMounts")
        for j, e in enumerate(c.get("env") or []):
            env_name = e.get("name") or ""
            if not env_name:
                errs.append(required(f"{p}.env[{j}].name"))
            elif not re.fullmatch(ENV_VAR_FMT, env_name):
                errs.append(invalid(f"{p}.env[{j}].name", env_name, ENV_VAR_MSG))
        for j, port in enumerate(c.get("ports") or []):
            number = port.get("containerPort")
            if not isinstance(number, int) or not 1 <= number <= 65535:
                errs.append(
                    invalid(f"{p}.ports[{j}].containerPort", number, "must be between 1 and 65535, inclusive")
                )
        errs += validate_resources(c.get("resources") or {}, f"{p}.resources")
        policy = c.get("imagePullPolicy")
        if policy not in (None, "Always", "IfNotPresent", "Never"):
            errs.append(not_supported(f"{p}.imagePullPolicy", policy, ["Always", "IfNotPresent", "Never"]))
    return errs


def validate_resources(resources: Obj, path: str) -> list[FieldError]:
    """Quantities parse and are non-negative; each request is at most its limit."""
    errs: list[FieldError] = []
    parsed: dict[str, dict[str, Any]] = {}
    for kind in ("limits", "requests"):
        parsed[kind] = {}
        for name, raw in (resources.get(kind) or {}).items():
            try:
                value = parse_quantity(raw)
            except QuantityError as e:
                errs.append(invalid(f"{path}.{kind}[{name}]", str(raw), str(e)))
                continue
            if value < 0:
                errs.append(invalid(f"{path}.{kind}[{name}]", str(raw), "must be greater than or equal to 0"))
            parsed[kind][name] = (value, str(raw))
    for name, (value, raw) in parsed["requests"].items():
        limit = parsed["limits"].get(name)
        if limit is not None and value > limit[0]:
            errs.append(
                invalid(f"{path}.requests", raw, f"must be less than or equal to {name} limit of {limit[1]}")
            )
    return errs


def validate_pod_spec(spec: Obj, path: str) -> list[FieldError]:
    errs, volumes = validate_volumes(spec.get("volumes") or [], f"{path}.volumes")
    names: set[str] = set()
    containers = spec.get("containers") or []
    if not containers:
        errs.append(required(f"{path}.containers"))
    errs += validate_containers(containers, volumes, f"{path}.containers", names)
    errs += validate_containers(spec.get("initContainers") or [], volumes, f"{path}.initContainers", names)
    policy = spec.get("restartPolicy")
    if policy not in (None, "Always", "OnFailure", "Never"):
        errs.append(not_supported(f"{path}.restartPolicy", policy, ["Always", "OnFailure", "Never"]))
    return errs
