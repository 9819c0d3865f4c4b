"""The real chart keys the harness accepts but ignores: they do not touch per-user storage.

Accepted so a real ``config.yaml`` can be pasted; each is type-checked at its own level (JSON types
from the chart's values.schema.yaml) and reported as ignored. Data only, shared by the rules and by
the hub.config check's "did you mean hub.<key>?".
"""

from __future__ import annotations

from harness.z2jh.walk import JsonType

ANY_TYPE: tuple[JsonType, ...] = ("string", "integer", "number", "boolean", "object", "array", "null")

#: singleuser keys that do not touch per-user storage: JSON types from values.schema.yaml (3.3.8 …
#: 4.4.0 agree), content not inspected. ``extraLabels`` here is the *pod* labels (PVCs get
#: ``storage.extraLabels``); ``extraPodConfig``/containers could name volumes but do not create them.
SINGLEUSER_IGNORED: dict[str, tuple[JsonType, ...]] = {
    "podNameTemplate": ("string", "null"),
    "extraTolerations": ("array",),
    "nodeSelector": ("object",),
    "extraNodeAffinity": ("object",),
    "extraPodAffinity": ("object",),
    "extraPodAntiAffinity": ("object",),
    "networkTools": ("object",),
    "cloudMetadata": ("object",),
    "networkPolicy": ("object",),
    "events": ("boolean", "null"),
    "extraAnnotations": ("object",),
    "extraLabels": ("object",),
    "extraEnv": ("object", "array"),
    "lifecycleHooks": ("object",),
    "initContainers": ("array",),
    "extraContainers": ("array",),
    "allowPrivilegeEscalation": ("boolean", "null"),
    "serviceAccountName": ("string", "null"),
    "image": ("object",),
    "startTimeout": ("integer", "null"),
    "cpu": ("object",),
    "memory": ("object",),
    "extraResource": ("object",),
    "cmd": ("array", "string", "null"),
    "defaultUrl": ("string", "null"),
    "extraPodConfig": ("object",),
}

#: hub keys other than the mapped ones: they configure the hub pod, not the users' storage.
HUB_IGNORED: dict[str, tuple[JsonType, ...]] = {
    "activeServerLimit": ("integer", "null"),
    "annotations": ("object",),
    "args": ("array",),
    "authenticatePrometheus": ("boolean", "null"),
    "baseUrl": ("string",),
    "command": ("array",),
    "concurrentSpawnLimit": ("integer", "null"),
    "consecutiveFailureLimit": ("integer", "null"),
    "containerSecurityContext": ("object",),
    "cookieSecret": ("string", "null"),
    "deploymentStrategy": ("object",),
    "existingSecret": ("string", "null"),
    "extraContainers": ("array",),
    "extraEnv": ("object", "array"),
    "extraFiles": ("object",),
    "extraPodSpec": ("object",),
    "extraVolumeMounts": ("array",),
    "extraVolumes": ("array",),
    "image": ("object",),
    "initContainers": ("array",),
    "labels": ("object",),
    "lifecycle": ("object",),
    "livenessProbe": ("object",),
    "loadRoles": ("object",),
    "networkPolicy": ("object",),
    "nodeSelector": ("object",),
    "pdb": ("object",),
    "podSecurityContext": ANY_TYPE,
    "readinessProbe": ("object",),
    "redirectToServer": ("boolean", "null"),
    "resources": ("object",),
    "revisionHistoryLimit": ("integer", "null"),
    "service": ("object",),
    "serviceAccount": ("object",),
    "services": ("object",),
    "shutdownOnLogout": ("boolean", "null"),
    "templatePaths": ("array",),
    "templateVars": ("object",),
    "tolerations": ("array",),
}

#: Top-level keys other than singleuser/hub/nameOverride (every release has these).
TOP_IGNORED: dict[str, tuple[JsonType, ...]] = {
    "cull": ("object",),
    "custom": ("object",),
    "debug": ("object",),
    "enabled": ("boolean", "null"),
    "fullnameOverride": ("string", "null"),
    "global": ("object",),
    "imagePullSecret": ("object",),
    "imagePullSecrets": ("array",),
    "ingress": ("object",),
    "prePuller": ("object",),
    "proxy": ("object",),
    "rbac": ("object",),
    "scheduling": ("object",),
}
