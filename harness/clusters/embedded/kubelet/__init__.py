"""The embedded node: network, pod sandboxes, container processes, status, service proxy.

``cluster.py`` uses ``ClusterNetwork`` (created first, before the API server) and ``Kubelet``.
"""

from .kubelet import Kubelet
from .network import ClusterNetwork

__all__ = ["ClusterNetwork", "Kubelet"]
