"""Build ``k8s_proto_fields.json`` (Kubernetes protobuf field numbers) from ``generated.proto`` files.

Only needed when the served types change: ``python -m harness.clusters.embedded.apiserver.proto_gen
<kubernetes source root> > harness/clusters/embedded/apiserver/k8s_proto_fields.json``.  The table lets
``protobuf.py`` read the protobuf bodies kubectl sends (``kubectl create namespace|configmap|secret|...``).
It records facts of the wire format only: message name -> field number -> (JSON name, label, type).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

#: the packages whose types this server accepts as protobuf (plus what they reference)
PROTO_FILES = (
    "staging/src/k8s.io/api/core/v1/generated.proto",
    "staging/src/k8s.io/api/apps/v1/generated.proto",
    "staging/src/k8s.io/api/rbac/v1/generated.proto",
    "staging/src/k8s.io/api/storage/v1/generated.proto",
    "staging/src/k8s.io/api/authorization/v1/generated.proto",
    "staging/src/k8s.io/api/authentication/v1/generated.proto",
    "staging/src/k8s.io/api/autoscaling/v1/generated.proto",
    "staging/src/k8s.io/api/policy/v1beta1/generated.proto",
    "staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto",
    "staging/src/k8s.io/apimachinery/pkg/api/resource/generated.proto",
    "staging/src/k8s.io/apimachinery/pkg/util/intstr/generated.proto",
    "staging/src/k8s.io/apimachinery/pkg/runtime/generated.proto",
)
SCALARS = {"string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "double", "float", "sint32",
           "sint64", "fixed32", "fixed64", "sfixed32", "sfixed64"}  # fmt: skip
_FIELD = re.compile(r"^\s*(optional|repeated)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*;")
_MAP = re.compile(r"^\s*map<\s*(\w+)\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+)\s*;")


def _qualify(type_name: str, package: str) -> str:
    if type_name in SCALARS or "." in type_name:
        return type_name
    return f"{package}.{type_name}"


def parse(text: str) -> dict[str, dict[str, list[str]]]:
    package = re.search(r"^package\s+([\w.]+);", text, re.M)
    assert package is not None
    pkg = package.group(1)
    out: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for line in text.splitlines():
        m = re.match(r"^message\s+(\w+)\s*\{", line)
        if m:
            current = out.setdefault(f"{pkg}.{m.group(1)}", {})
            continue
        if line.startswith("}"):
            current = None
            continue
        if current is None:
            continue
        f = _FIELD.match(line)
        if f:
            label = "rep" if f.group(1) == "repeated" else "opt"
            current[f.group(4)] = [f.group(3), label, _qualify(f.group(2), pkg)]
            continue
        mp = _MAP.match(line)
        if mp:
            current[mp.group(4)] = [mp.group(3), "map", _qualify(mp.group(2), pkg)]
    return out


def main(root: str) -> int:
    table: dict[str, dict[str, list[str]]] = {}
    for rel in PROTO_FILES:
        table.update(parse((Path(root) / rel).read_text()))
    json.dump(table, sys.stdout, separators=(",", ":"), sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
