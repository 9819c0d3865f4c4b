"""Object validation with kube-apiserver's exact field errors.

Two layers, as the task of a real apiserver is split between decoding and ``ValidateX``:

* type/shape: the object is checked against the OpenAPI schema bundled with ``kubernetes-validate``
  (the 1.30 schemas); a mismatch becomes a 422 with one cause per offending field;
* semantics: the rules of k8s.io/apimachinery/pkg/util/validation and pkg/apis/core/validation for the
  fields the harness and KubeSpawner use (names, labels, pod volumes and mounts, PVC spec, immutability).

Each rule produces a ``FieldError`` whose ``body`` is ``field.Error.ErrorBody()``; the Status built from
them matches the real one byte for byte.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from . import errors
from .defaults import status_reset_on_create
from .field import FieldError, duplicate, forbidden, invalid, not_found, not_supported, required
from .quantity import QuantityError, parse_quantity

if TYPE_CHECKING:
    from .resources import Resource

Obj = dict[str, Any]

DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + r"(\." + DNS1123_LABEL_FMT + ")*"
DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_VALUE_FMT = "(" + QUALIFIED_NAME_FMT + ")?"

DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
    "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    f"'{DNS1123_LABEL_FMT}')"
)
DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    f"'{DNS1123_SUBDOMAIN_FMT}')"
)
DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
    "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
    f"validation is '{DNS1035_LABEL_FMT}')"
)
QUALIFIED_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
    "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    f"'{QUALIFIED_NAME_FMT}')"
)
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    f"for validation is '{LABEL_VALUE_FMT}')"
)


ENV_VAR_FMT = "[-._a-zA-Z][-._a-zA-Z0-9]*"
ENV_VAR_MSG = (
    "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and "
    "must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for "
    f"validation is '{ENV_VAR_FMT}')"
)
CONFIG_KEY_FMT = "[-._a-zA-Z0-9]+"
CONFIG_KEY_MSG = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
    f"'KEY_NAME',  or 'key-name', regex used for validation is '{CONFIG_KEY_FMT}')"
)


def _max_len(n: int) -> str:
    return f"must be no more than {n} characters"


# ---- apimachinery string rules -----------------------------------------------------------------------------
def _length_and_format(value: str, max_len: int, fmt: str, message: str) -> list[str]:
    """The two checks every apimachinery IsX function makes, in its order."""
    msgs = []
    if len(value) > max_len:
        msgs.append(_max_len(max_len))
    if not re.fullmatch(fmt, value):
        msgs.append(message)
    return msgs


def dns1123_label(value: str) -> list[str]:
    return _length_and_format(value, 63, DNS1123_LABEL_FMT, DNS1123_LABEL_MSG)


def dns1123_subdomain(value: str) -> list[str]:
    return _length_and_format(value, 253, DNS1123_SUBDOMAIN_FMT, DNS1123_SUBDOMAIN_MSG)


def dns1035_label(value: str) -> list[str]:
    return _length_and_format(value, 63, DNS1035_LABEL_FMT, DNS1035_LABEL_MSG)


def path_segment_name(value: str) -> list[str]:
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in value]


def qualified_name(value: str) -> list[str]:
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            return ["prefix part must be non-empty"]
        msgs = ["prefix part " + m for m in dns1123_subdomain(prefix)]
        if msgs:
            return msgs + qualified_name(name)
    else:
        return [
            "a qualified name " + QUALIFIED_NAME_MSG + " with an optional DNS subdomain prefix and '/' "
            "(e.g. 'example.com/MyName')"
        ]
    if not name:
        return ["name part must be non-empty"]
    msgs = []
    if len(name) > 63:
        msgs.append("name part " + _max_len(63))
    if not re.fullmatch(QUALIFIED_NAME_FMT, name):
        msgs.append("name part " + QUALIFIED_NAME_MSG)
    return msgs


def _config_key(value: str) -> list[str]:
    msgs = _length_and_format(value, 253, CONFIG_KEY_FMT, CONFIG_KEY_MSG)
    if value in (".", ".."):
        msgs.append(f"must not be '{value}'")
    elif value.startswith(".."):
        msgs.append("must not start with '..'")
    return msgs


def label_value(value: str) -> list[str]:
    return _length_and_format(value, 63, LABEL_VALUE_FMT, LABEL_VALUE_MSG)


# ---- object metadata ----------------------------------------------------------------------------------
_NAME_RULES = {
    "namespaces": dns1123_label,
    "services": dns1035_label,
    "roles": path_segment_name,
    "rolebindings": path_segment_name,
    "clusterroles": path_segment_name,
    "clusterrolebindings": path_segment_name,
}


def validate_metadata(resource: str, meta: Obj) -> list[FieldError]:
    errs: list[FieldError] = []
    name = meta.get("name") or ""
    if not name:
        if not meta.get("generateName"):
            errs.append(required("metadata.name", "name or generateName is required"))
    else:
        rule = _NAME_RULES.get(resource, dns1123_subdomain)
        errs += [invalid("metadata.name", name, m) for m in rule(name)]
    labels = meta.get("labels") or {}
    if isinstance(labels, dict):
        for k, v in labels.items():
            errs += [invalid("metadata.labels", k, m) for m in qualified_name(k)]
            errs += [invalid("metadata.labels", v, m) for m in label_value(str(v))]
    annotations = meta.get("annotations") or {}
    if isinstance(annotations, dict):
        for k in annotations:
            errs += [invalid("metadata.annotations", k, m) for m in qualified_name(k.lower())]
        total = sum(len(k) + len(str(v)) for k, v in annotations.items())
        if total > 256 * 1024:
            errs.append(
                FieldError(
                    "FieldValueTooLong", "metadata.annotations", "Too long: must have at most 262144 bytes"
                )
            )
    return errs


# ---- pods ----------------------------------------------------------------------------------
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


# ---- PVCs -----------------------------------------------------------------------------
ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]


def validate_pvc_spec(spec: Obj, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    modes = spec.get("accessModes") or []
    if not modes:
        errs.append(required(f"{path}.accessModes", "at least 1 access mode is required"))
    for mode in modes:
        if mode not in ACCESS_MODES:
            errs.append(not_supported(f"{path}.accessModes", mode, ACCESS_MODES))
    requests = ((spec.get("resources") or {}).get("requests")) or {}
    key = f"{path}.resources[storage]"
    if "storage" not in requests:
        errs.append(required(key))
    else:
        raw = requests["storage"]
        try:
            if parse_quantity(raw) <= 0:
                errs.append(invalid(key, "0" if raw is None else str(raw), "must be greater than zero"))
        except QuantityError as e:
            errs.append(invalid(key, str(raw), str(e)))
    sc = spec.get("storageClassName")
    if sc:
        errs += [invalid(f"{path}.storageClassName", sc, m) for m in dns1123_subdomain(sc)]
    mode = spec.get("volumeMode")
    if mode not in (None, "Block", "Filesystem"):
        errs.append(not_supported(f"{path}.volumeMode", mode, ["Block", "Filesystem"]))
    return errs


# ---- services ----------------------------------------------------------------------------------
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


# ---- entry points ----------------------------------------------------------------------------------
def _semantic(resource: str, obj: Obj) -> list[FieldError]:
    errs = validate_metadata(resource, obj.get("metadata") or {})
    spec = obj.get("spec") or {}
    if resource == "pods":
        errs += validate_pod_spec(spec, "spec")
    elif resource == "persistentvolumeclaims":
        errs += validate_pvc_spec(spec, "spec")
    elif resource == "services":
        errs += validate_service_spec(spec)
    elif resource in ("deployments", "replicasets"):
        errs += validate_pod_spec((spec.get("template") or {}).get("spec") or {}, "spec.template.spec")
        selector = spec.get("selector")
        if not selector:
            errs.append(required("spec.selector"))
        else:
            from .selectors import labels_match, selector_from_match

            template_meta = (spec.get("template") or {}).get("metadata") or {}
            if not labels_match(selector_from_match(selector), {"metadata": template_meta}):
                labels = template_meta.get("labels") or {}
                shown = ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in sorted(labels.items()))
                errs.append(
                    invalid(
                        "spec.template.metadata.labels",
                        None,
                        "`selector` does not match template `labels`",
                    ).with_value(f"map[string]string{{{shown}}}")
                )
    elif resource in ("configmaps", "secrets"):
        for section in ("data", "binaryData", "stringData"):
            for key in obj.get(section) or {}:
                errs += [invalid(f"{section}[{key}]", key, m) for m in _config_key(key)]
    return errs


def raise_if(info: Resource, obj: Obj, errs: list[FieldError]) -> None:
    if errs:
        name = (obj.get("metadata") or {}).get("name") or ""
        unique: list[dict[str, str]] = []
        for e in errs:
            if e.cause() not in unique:
                unique.append(e.cause())
        raise errors.invalid(info.kind, name, unique, info.group)


def validate_create(info: Resource, obj: Obj) -> None:
    """Semantic checks, then the OpenAPI schema of what the client decides.

    A new object's status is the one ``prepare_for_create`` set, not the client's; like the real
    ``Validate*`` functions on create, the schema check leaves it out (the OpenAPI schema would demand
    fields, e.g. ``status.replicas``, that the server's zero value omits).
    """
    from .schema import schema_errors

    errs = _semantic(info.plural, obj)
    if not errs:
        client_part = {k: v for k, v in obj.items() if k != "status"}
        errs = schema_errors(info, client_part if status_reset_on_create(info.plural) else obj)
    raise_if(info, obj, errs)


_POD_UPDATE_MSG = (
    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)
_PVC_UPDATE_MSG = (
    "spec is immutable after creation except resources.requests and volumeAttributesClassName "
    "for bound claims"
)


def _without(spec: Obj, *drop: str) -> Obj:
    return {k: v for k, v in spec.items() if k not in drop}


def validate_update(info: Resource, old: Obj, new: Obj, subresource: str | None = None) -> None:
    errs: list[FieldError] = []
    if subresource in (None, ""):
        errs = _semantic(info.plural, new)
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    if info.plural == "pods" and subresource in (None, ""):

        def strip(spec: Obj) -> Obj:
            s = _without(spec, "activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds")
            for key in ("containers", "initContainers"):
                s[key] = [_without(c, "image") for c in s.get(key) or []]
            return s

        if strip(old_spec) != strip(new_spec):
            errs.append(forbidden("spec", _POD_UPDATE_MSG))
    elif info.plural == "persistentvolumeclaims" and subresource in (None, ""):
        drop = ["resources", "volumeAttributesClassName"]
        if not old_spec.get("volumeName"):
            drop.append("volumeName")
        if _without(old_spec, *drop) != _without(new_spec, *drop):
            errs.append(forbidden("spec", _PVC_UPDATE_MSG))
    elif info.plural == "services" and subresource in (None, ""):
        if old_spec.get("clusterIP") != new_spec.get("clusterIP"):
            errs.append(invalid("spec.clusterIPs[0]", new_spec.get("clusterIP"), "field is immutable"))
    elif info.plural in ("deployments", "replicasets") and old_spec.get("selector") != new_spec.get(
        "selector"
    ):
        errs.append(invalid("spec.selector", new_spec.get("selector"), "field is immutable"))
    old_fin = set((old.get("metadata") or {}).get("finalizers") or [])
    new_fin = set((new.get("metadata") or {}).get("finalizers") or [])
    if (old.get("metadata") or {}).get("deletionTimestamp") and new_fin - old_fin:
        errs.append(
            forbidden("metadata.finalizers", "no new finalizers can be added if the object is being deleted")
        )
    raise_if(info, new, errs)
