"""A pod's sandbox: its network namespace and IP, and the /etc files all its containers share.

What the kubelet's ``createPodSandbox`` (kuberuntime_sandbox.go) sets up before any container of the
pod starts: ``create`` makes the netns (``podnet``) and writes hosts, resolv.conf, hostname, passwd and
group under ``<pod dir>/etc``; ``refresh_hosts`` rewrites /etc/hosts in place when Services change;
``release`` gives the IP back, after which ``last_ip`` is what a finished pod keeps reporting.
"""

from __future__ import annotations

import json
from pathlib import Path

from .api import Obj, pod_containers
from .context import NodeContext
from .podfiles import passwd_and_group, render_hosts, render_resolv_conf, write_in_place
from .podnet import PodNetwork


def hostname(pod: Obj) -> str:
    """The pod's hostname: ``spec.hostname`` or its name, cut to 63 characters as the kubelet does."""
    return str(pod["spec"].get("hostname") or pod["metadata"]["name"])[:63]


class PodSandbox:
    def __init__(self, ctx: NodeContext, uid: str, pod_dir: Path) -> None:
        self.ctx = ctx
        self.uid = uid
        self.dir = pod_dir
        self.network: PodNetwork | None = None
        #: the IP the pod had: a finished pod keeps reporting it after its sandbox is gone
        self.last_ip: str | None = None

    @property
    def ip(self) -> str | None:
        return self.network.ip if self.network else None

    async def create(self, pod: Obj) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.network = await PodNetwork.create(self.ctx.network, self.ctx.ipam, self.ctx.records, self.uid)
        self.last_ip = self.network.ip
        (self.dir / "network.json").write_text(json.dumps(self.network.__dict__))
        etc = self.dir / "etc"
        etc.mkdir(exist_ok=True)
        self.refresh_hosts(pod)
        namespace = pod["metadata"]["namespace"]
        write_in_place(
            etc / "resolv.conf",
            render_resolv_conf(namespace, self.ctx.network.gateway, pod["spec"].get("dnsConfig")),
        )
        write_in_place(etc / "hostname", hostname(pod) + "\n")
        entries = [self.ctx.images.find(c["image"]) for c in pod_containers(pod)]
        passwd, group = passwd_and_group(next((e.passwd_user for e in entries if e and e.passwd_user), None))
        write_in_place(etc / "passwd", passwd)
        write_in_place(etc / "group", group)

    def refresh_hosts(self, pod: Obj) -> None:
        """(Re)write the pod's /etc/hosts in place from the current Services."""
        if self.network is None:
            return
        content = render_hosts(
            hostname(pod),
            self.network.ip,
            pod["metadata"]["namespace"],
            self.ctx.services.all(),
            pod["spec"].get("hostAliases"),
        )
        write_in_place(self.dir / "etc" / "hosts", content)

    async def release(self) -> None:
        if self.network is not None:
            await self.network.teardown(self.ctx.ipam)
            self.network = None
