"""``delete_pod``: delete a server's pod as ``kubectl delete pod`` does and wait until the hub notices.

What the hub does, from the sources (KubeSpawner 6.2.0 and 7.1.0 behave alike):

- The delete has no grace period of its own, so the pod's (30 s unless set) applies; the notebook
  container exits on SIGTERM and the kubelet removes the pod. kubectl waits for that; so does this step.
- KubeSpawner's pod reflector drops the pod on the watch's DELETED event (kubespawner/reflector.py:
  330-332 @6.2.0, 346-348 @7.1.0). ``KubeSpawner.poll`` then finds no pod and returns 1 ("exited")
  (spawner.py ``poll`` @6.2.0 line 2193, @7.1.0 line 2653); while the pod is still terminating it
  returns None (running) unless the notebook container already shows ``terminated``.
- Nothing in KubeSpawner tells the hub by itself: JupyterHub calls ``poll`` every
  ``Spawner.poll_interval`` (30 s, jitter 10%) and, once it returns not-None, runs the stop callback
  (handlers/base.py ``user_stopped``): the proxy route goes and the server is no longer active.
  A start or stop request for the server polls at once (``poll_and_notify`` in apihandlers/users.py).

So the step waits for the pod to be gone, then for the hub to list the server as not running (its
periodic poll: up to ~33 s by default), and reports both times.
"""

from __future__ import annotations

import time
from typing import Any

from kubernetes.client.exceptions import ApiException

from harness.checks.errors import CheckFailed
from harness.checks.pods import server_pod_name
from harness.clusters.kube import status_message, wait_deleted, wait_for
from harness.steps.context import StepContext, server_label


def run(item: Any, ctx: StepContext) -> str:
    body = item.body
    kube, ns = ctx.need_cluster(item.kind)
    user = ctx.user(body)
    label = server_label(user, body.server)
    name = server_pod_name(ctx.hub, user, body.server)
    pod = kube.get("pod", ns, name)
    if pod is None:
        raise CheckFailed(f"pod {ns}/{name} of server {label} does not exist")
    uid = pod["metadata"]["uid"]
    t0 = time.monotonic()
    try:
        kube.core.delete_namespaced_pod(name, ns)
    except ApiException as exc:
        raise CheckFailed(f"deleting pod {name} was refused: {status_message(exc)}") from exc

    # a pod of the same name with another uid is the server's next one: this one is gone
    wait_deleted(kube, f"pod {name} to be deleted", "pod", ns, name, body.timeout, uid=uid)
    gone = time.monotonic() - t0

    def hub_noticed() -> bool | None:
        model = ctx.hub.server(user, body.server)
        return True if model is None or not model.get("ready") else None

    wait_for(
        f"the hub to notice that the pod of {label} is gone (Spawner.poll_interval)",
        hub_noticed,
        max(body.timeout - gone, 1.0),
        interval=1,
        last=lambda: str(ctx.hub.server(user, body.server)),
    )
    return f"pod {name} gone after {gone:.1f}s; the hub noticed after {time.monotonic() - t0:.1f}s"
