"""``observe``: record the user PVCs (and whose they are) and a server's mounted claims, never judging them.

The note is one JSON object so that ``jhsc check`` can read what really happened from the results file
(``{"label": "started", "pvcs": {"claim-alice": "alice"}, "user": "alice", "server": "",
"mounts": ["claim-alice"], "sub_paths": {"claim-alice": [""]}}``) instead of predicting it.
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


def mounted_sub_paths(pod: dict[str, Any]) -> dict[str, list[str]]:
    """Per claim, the subPaths the notebook container mounts it at ("" = the whole volume).

    Two users on one claim share files only where their subPaths meet (z2jh's static claim gives each
    user ``{username}``), so the sharing finding needs them, not just the claim names.
    """
    claims = {
        volume["name"]: str(volume["persistentVolumeClaim"]["claimName"])
        for volume in pod.get("spec", {}).get("volumes") or []
        if volume.get("persistentVolumeClaim")
    }
    containers = pod.get("spec", {}).get("containers") or [{}]
    out: dict[str, list[str]] = {}
    for mount in containers[0].get("volumeMounts") or []:
        if mount.get("name") in claims:
            out.setdefault(claims[mount["name"]], []).append(str(mount.get("subPath") or ""))
    return out


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
        observed["sub_paths"] = mounted_sub_paths(pod)
    return json.dumps(observed, separators=(",", ":"))
