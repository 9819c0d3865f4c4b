"""Docker-link style service environment variables, as the kubelet injects them.

For every Service with a ClusterIP in the pod's namespace (when ``enableServiceLinks`` is not false),
plus the ``kubernetes`` Service of ``default`` always: ``<NAME>_SERVICE_HOST``, ``<NAME>_SERVICE_PORT``,
``<NAME>_SERVICE_PORT_<PORTNAME>``, ``<NAME>_PORT`` and ``<NAME>_PORT_<port>_<PROTO>[_PROTO|_PORT|_ADDR]``.
"""

from __future__ import annotations

from .api import Obj


def _env_name(name: str) -> str:
    return name.upper().replace("-", "_")


def service_env(service: Obj) -> dict[str, str]:
    spec = service.get("spec", {})
    ip = spec.get("clusterIP")
    ports = spec.get("ports") or []
    if not ip or ip == "None" or not ports:
        return {}
    prefix = _env_name(service["metadata"]["name"])
    env = {f"{prefix}_SERVICE_HOST": ip, f"{prefix}_SERVICE_PORT": str(ports[0]["port"])}
    for port in ports:
        if port.get("name"):
            env[f"{prefix}_SERVICE_PORT_{_env_name(port['name'])}"] = str(port["port"])
    first = ports[0]
    env[f"{prefix}_PORT"] = f"{first.get('protocol', 'TCP').lower()}://{ip}:{first['port']}"
    for port in ports:
        proto = port.get("protocol", "TCP")
        base = f"{prefix}_PORT_{port['port']}_{proto.upper()}"
        env[base] = f"{proto.lower()}://{ip}:{port['port']}"
        env[f"{base}_PROTO"] = proto.lower()
        env[f"{base}_PORT"] = str(port["port"])
        env[f"{base}_ADDR"] = ip
    return env


def services_env(pod: Obj, namespace_services: list[Obj], kubernetes_service: Obj | None) -> dict[str, str]:
    env: dict[str, str] = {}
    if pod.get("spec", {}).get("enableServiceLinks", True) is not False:
        for svc in sorted(namespace_services, key=lambda s: s["metadata"]["name"]):
            env.update(service_env(svc))
    if kubernetes_service is not None:
        env.update(service_env(kubernetes_service))
    return env
