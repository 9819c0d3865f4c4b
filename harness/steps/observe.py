"""``observe``: record the user PVCs (and whose they are) and a server's mounted claims, never judging them.

The note is one JSON object so that ``jhsc check`` can read what really happened from the results file
(``{"label": "started", "pvcs": {"claim-alice": "alice"}, "user": "alice", "server": "",
"mounts": ["claim-alice"]}``) instead of predicting it.
"""

from __future__ import annotations

import json
from typing import Any

from harness.checks.pods import get_server_pod, object_user
from harness.hub.manifests import is_hub_infrastructure
from harness.steps.context import StepContext


def mounted_claims(pod: dict[str, Any]) -> list[str]:
    """The claims a pod's volumes refer to, in spec order."""
    return [
        str(volume["persistentVolumeClaim"]["claimName"])
        for volume in pod.get("spec", {}).get("volumes") or []
        if volume.get("persistentVolumeClaim")
    ]


def run(item: Any, ctx: StepContext) -> str:
    kube, ns = ctx.need_cluster(item.kind)
    body = item.body
    pvcs = {
        p["metadata"]["name"]: object_user(p) or ""
        for p in kube.list("pvc", ns)
        if not is_hub_infrastructure(p) and ctx.target.is_run_object(p)
    }
    observed: dict[str, Any] = {"label": body.label, "pvcs": dict(sorted(pvcs.items()))}
    if body.user is not None:
        observed.update(user=body.user, server=body.server)
        pod = get_server_pod(kube, ns, ctx.hub, ctx.user(body), body.server)
        observed["mounts"] = mounted_claims(pod)
    return json.dumps(observed, separators=(",", ":"))
