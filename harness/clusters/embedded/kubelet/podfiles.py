"""Per-pod /etc files: hosts, resolv.conf, hostname, passwd and group (bind-mounted into containers).

``/etc/hosts`` stands in for cluster DNS: it maps every Service FQDN (and the short names of the
pod's own namespace) to its ClusterIP, so it is rewritten *in place* (same inode) when Services change:
the bind mounts inside running containers then see the new content at once.
"""

from __future__ import annotations

from pathlib import Path

from .api import Obj

CLUSTER_DOMAIN = "cluster.local"


def render_hosts(
    pod_name: str, pod_ip: str, namespace: str, services: list[Obj], host_aliases: list[Obj] | None = None
) -> str:
    lines = [
        "# Kubernetes-managed hosts file (embedded kubelet).",
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        f"{pod_ip}\t{pod_name}",
    ]
    for svc in sorted(services, key=lambda s: (s["metadata"]["namespace"], s["metadata"]["name"])):
        ip = svc.get("spec", {}).get("clusterIP")
        if not ip or ip == "None":
            continue
        name, ns = svc["metadata"]["name"], svc["metadata"]["namespace"]
        names = [f"{name}.{ns}.svc.{CLUSTER_DOMAIN}", f"{name}.{ns}.svc"]
        if ns == namespace:
            names += [f"{name}.{ns}", name]
        else:
            names.append(f"{name}.{ns}")
        lines.append(f"{ip}\t{' '.join(names)}")
    if host_aliases:  # spec.hostAliases, appended as the kubelet does
        lines.append("# Entries added by HostAliases.")
        lines += [f"{a['ip']}\t{' '.join(a.get('hostnames') or [])}" for a in host_aliases if a.get("ip")]
    return "\n".join(lines) + "\n"


def render_resolv_conf(namespace: str, nameserver: str, dns_config: Obj | None = None) -> str:
    """ClusterFirst search path; ``spec.dnsConfig`` searches/nameservers/options are appended."""
    dns_config = dns_config or {}
    search = [f"{namespace}.svc.{CLUSTER_DOMAIN}", f"svc.{CLUSTER_DOMAIN}", CLUSTER_DOMAIN]
    search += [d for d in dns_config.get("searches") or [] if d not in search]
    servers = [nameserver, *(dns_config.get("nameservers") or [])]
    options = {"ndots": "5"}
    for opt in dns_config.get("options") or []:
        options[opt["name"]] = opt.get("value", "")
    rendered = " ".join(f"{k}:{v}" if v else k for k, v in options.items())
    return (
        f"search {' '.join(search)}\n"
        + "".join(f"nameserver {n}\n" for n in servers)
        + f"options {rendered}\n"
    )


def passwd_and_group(extra_user: str | None) -> tuple[str, str]:
    """The host's passwd/group plus the image's user (``jovyan`` → 1000:100) when asked for."""
    passwd = Path("/etc/passwd").read_text()
    group = Path("/etc/group").read_text()
    if extra_user:
        entries = [line for line in passwd.splitlines() if line.split(":")[2:3] != ["1000"]]
        entries = [line for line in entries if not line.startswith(f"{extra_user}:")]
        entries.append(f"{extra_user}:x:1000:100::/home/{extra_user}:/bin/bash")
        passwd = "\n".join(entries) + "\n"
        if not any(line.split(":")[2:3] == ["100"] for line in group.splitlines()):
            group += "users:x:100:\n"
    return passwd, group


def write_in_place(path: Path, content: str) -> None:
    """Overwrite keeping the inode (bind mounts follow the inode, not the name)."""
    if path.exists():
        with open(path, "r+") as fh:
            if fh.read() == content:
                return
            fh.seek(0)
            fh.write(content)
            fh.truncate()
    else:
        path.write_text(content)
    path.chmod(0o644)
