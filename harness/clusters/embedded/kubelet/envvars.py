"""A container's environment: image ENV < service links < envFrom < env, with valueFrom resolved.

Resolution failures (missing Secret/ConfigMap/key that is not optional) raise ``EnvError`` whose message
is what a real kubelet reports as the ``CreateContainerConfigError`` waiting message.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Mapping

from .api import Obj, RegistryLike, get_or_none

_VAR_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)|\$\$")


class EnvError(Exception):
    """The container cannot be created because its environment cannot be resolved."""


def expand(value: str, env: Mapping[str, str]) -> str:
    """Kubernetes ``$(VAR)`` expansion: known vars substituted, ``$$`` escapes, unknown refs kept."""

    def repl(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env.get(name, match.group(0))

    return _VAR_REF.sub(repl, value)


def field_ref(pod: Obj, path: str) -> str:
    meta, spec, status = pod["metadata"], pod.get("spec", {}), pod.get("status", {})
    m = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
    if m:
        return str((meta.get(m.group(1)) or {}).get(m.group(2), ""))
    simple = {
        "metadata.name": meta.get("name"),
        "metadata.namespace": meta.get("namespace"),
        "metadata.uid": meta.get("uid"),
        "spec.nodeName": spec.get("nodeName"),
        "spec.serviceAccountName": spec.get("serviceAccountName"),
        "status.podIP": status.get("podIP"),
        "status.hostIP": status.get("hostIP"),
        "status.podIPs": ",".join(p["ip"] for p in status.get("podIPs") or []),
    }
    if path in simple:
        return str(simple[path] or "")
    if path in ("metadata.labels", "metadata.annotations"):
        items = meta.get(path.split(".")[1]) or {}
        return "\n".join(f'{k}="{v}"' for k, v in sorted(items.items()))
    raise EnvError(f"unsupported fieldPath: {path}")


_DEFAULT_CAPACITY = {"cpu": "2", "memory": "8Gi", "ephemeral-storage": "20Gi"}


def resource_field_ref(container: Obj, ref: Obj) -> str:
    """limits.x / requests.x of the container (node allocatable when unset), as a plain number."""
    kind, _, res = ref["resource"].partition(".")
    value = (container.get("resources", {}).get(kind) or {}).get(res) or _DEFAULT_CAPACITY.get(res, "0")
    divisor = _quantity(str(ref.get("divisor") or "1"))
    amount = _quantity(str(value)) / divisor
    # CPU rounds up (250m with divisor 1 gives 1), like the kubelet's ExtractResourceValueByContainer.
    return str(math.ceil(amount) if res == "cpu" else int(amount))


_SUFFIX = {
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
}


def _quantity(text: str) -> float:
    if text.endswith("m"):
        return float(text[:-1]) / 1000
    for suffix, mult in _SUFFIX.items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * mult
    return float(text)


async def _key_ref(registry: RegistryLike, namespace: str, ref: Obj, kind: str) -> str | None:
    resource = "secrets" if kind == "secret" else "configmaps"
    obj = await get_or_none(registry, resource, namespace, ref["name"])
    optional = bool(ref.get("optional"))
    if obj is None:
        if optional:
            return None
        raise EnvError(f'{kind} "{ref["name"]}" not found')
    data = obj.get("data") or {}
    if ref["key"] not in data:
        if kind == "configmap" and ref["key"] in (obj.get("binaryData") or {}):
            return base64.b64decode(obj["binaryData"][ref["key"]]).decode(errors="replace")
        if optional:
            return None
        raise EnvError(
            f"couldn't find key {ref['key']} in {'Secret' if kind == 'secret' else 'ConfigMap'} "
            f"{namespace}/{ref['name']}"
        )
    value = data[ref["key"]]
    return base64.b64decode(value).decode(errors="replace") if kind == "secret" else value


async def container_env(
    registry: RegistryLike, pod: Obj, container: Obj, base: Mapping[str, str]
) -> dict[str, str]:
    """``base`` holds image ENV, runtime vars and service links; the container's env goes on top."""
    namespace = pod["metadata"]["namespace"]
    env = dict(base)
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        ref = source.get("configMapRef") or source.get("secretRef")
        if ref is None:
            continue
        is_secret = "secretRef" in source
        obj = await get_or_none(registry, "secrets" if is_secret else "configmaps", namespace, ref["name"])
        if obj is None:
            if ref.get("optional"):
                continue
            raise EnvError(f'{"secret" if is_secret else "configmap"} "{ref["name"]}" not found')
        for key, value in (obj.get("data") or {}).items():
            env[prefix + key] = base64.b64decode(value).decode(errors="replace") if is_secret else value
    for var in container.get("env") or []:
        name = var["name"]
        if "valueFrom" not in var:
            env[name] = expand(var.get("value", ""), env)
            continue
        source = var["valueFrom"]
        resolved: str | None
        if "fieldRef" in source:
            resolved = field_ref(pod, source["fieldRef"]["fieldPath"])
        elif "resourceFieldRef" in source:
            resolved = resource_field_ref(container, source["resourceFieldRef"])
        elif "secretKeyRef" in source:
            resolved = await _key_ref(registry, namespace, source["secretKeyRef"], "secret")
        elif "configMapKeyRef" in source:
            resolved = await _key_ref(registry, namespace, source["configMapKeyRef"], "configmap")
        else:
            resolved = ""
        if resolved is not None:
            env[name] = resolved
    return env
