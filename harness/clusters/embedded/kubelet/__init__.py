"""The embedded node: network, pod sandboxes, container processes, status, service proxy.

``cluster.py`` creates ``ClusterNetwork`` first (before the API server), then ``Kubelet(registry, config)``.

Modules, one job each:

- ``host`` (ip/lock/root helpers), ``records`` (journal of host resources under ``<data_dir>/run/`` for
  stale cleanup after SIGKILL), ``network`` (bridge, subnets, claims in ``/run/jhsc/networks``),
  ``ipam`` + ``podnet`` (per-pod netns, veth, IP).
- ``container_init`` (the stdlib-only shim: netns join, new mount/PID/UTS/IPC namespaces, fresh root,
  volume binds, privilege drop, exec; also ``exec`` mode for kubectl exec and exec probes),
  ``runtime`` (shim launch, CRI-format log files, stop/kill), ``container_spec`` (what one container
  run gets: ``identity``, ``envvars``, ``service_env``, ``volumes``, ``podfiles``).
- ``pod_worker`` (one pod's lifecycle), ``probes``, ``status``, ``recorder`` (Events),
  ``scheduler``, ``node``, ``service_proxy`` (userspace kube-proxy), ``logs`` + ``exec`` +
  ``pod_io`` (the PodIO backend of pods/log and pods/exec), ``kubelet`` (wires it all).
"""

from .kubelet import Kubelet
from .network import ClusterNetwork

__all__ = ["ClusterNetwork", "Kubelet"]
