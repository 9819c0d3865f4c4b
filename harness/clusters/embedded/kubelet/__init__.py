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
- one pod, split as the real kubelet splits it: ``pod_worker`` (the per-pod task: report, mount, run,
  finish a deletion; pod_workers.go), ``pod_state`` (what the pod's jobs share), ``pod_sandbox`` (netns
  + /etc files; kuberuntime_sandbox.go), ``pod_volumes`` (mount with retry, remount at every sync),
  ``pod_sync`` (init containers, containers, restart back-off; SyncPod), ``container_lifecycle``
  (pull, start, postStart, preStop, stop; kuberuntime_container.go), ``probe_manager`` (a container's
  probes and what they do) over ``probes`` (one probe loop), ``status_manager`` (writes pods/status)
  over ``status`` (the documents). Imports point one way: ``pod_worker`` -> ``pod_sync`` / ``pod_volumes``
  -> ``container_lifecycle`` / ``probe_manager`` -> ``status_manager`` -> ``pod_state`` -> ``pod_sandbox``,
  ``exec`` (which takes any ``RunningContainers``, so it never imports the pod's state or worker).
- ``recorder`` (Events), ``scheduler``, ``node``, ``service_proxy`` (userspace kube-proxy), ``logs`` +
  ``exec`` + ``pod_io`` (the PodIO backend of pods/log and pods/exec), ``kubelet`` (wires it all).
"""

from .kubelet import Kubelet
from .network import ClusterNetwork

__all__ = ["ClusterNetwork", "Kubelet"]
