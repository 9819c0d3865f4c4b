"""PVC oracle: a PVC exists (or not) with the expected name, labels, size, class, access modes, phase."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from harness.checks.errors import CheckFailed
from harness.clusters.kube import Kube, WaitTimeout


def pvc_mismatches(pvc: Mapping[str, Any] | None, expected: Any) -> list[str]:
    """What differs between a PVC (API dict, or None when absent) and an ``expect_pvc`` body."""
    name = expected.name
    if not expected.exists:
        if pvc is None:
            return []
        if pvc["metadata"].get("deletionTimestamp"):
            return [
                f"PVC {name} is terminating but still exists (finalizers {pvc['metadata'].get('finalizers')})"
            ]
        return [f"PVC {name} exists, expected it to be absent"]
    if pvc is None:
        return [f"PVC {name} does not exist"]
    meta, spec = pvc["metadata"], pvc.get("spec") or {}
    out: list[str] = []
    if meta.get("deletionTimestamp"):
        out.append(f"PVC {name} is being deleted (deletionTimestamp {meta['deletionTimestamp']})")
    for field, want in (("labels", expected.labels), ("annotations", expected.annotations)):
        have = meta.get(field) or {}
        for key, value in (want or {}).items():
            if have.get(key) != value:
                out.append(f"PVC {name} {field}[{key!r}]: expected {value!r}, got {have.get(key)!r}")
    size = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    if expected.size is not None and size != expected.size:
        out.append(
            f"PVC {name} size (spec.resources.requests.storage): expected {expected.size!r}, got {size!r}"
        )
    if expected.storage_class is not None and spec.get("storageClassName") != expected.storage_class:
        out.append(
            f"PVC {name} storageClassName: expected {expected.storage_class!r}, "
            f"got {spec.get('storageClassName')!r}"
        )
    if expected.access_modes is not None and list(spec.get("accessModes") or []) != list(
        expected.access_modes
    ):
        out.append(f"PVC {name} accessModes: expected {expected.access_modes}, got {spec.get('accessModes')}")
    phase = (pvc.get("status") or {}).get("phase")
    if expected.phase is not None and phase != expected.phase:
        out.append(f"PVC {name} phase: expected {expected.phase}, got {phase}")
    return out


def expect_pvc(kube: Kube, namespace: str, expected: Any, settle: float = 20.0) -> dict[str, Any] | None:
    """Check a PVC, re-reading for up to ``settle`` seconds (binding and deletion are asynchronous).

    Returns the PVC dict (None when absent as expected); raises CheckFailed with every mismatch.
    """

    def settled(found: list[dict[str, Any]]) -> tuple[dict[str, Any] | None] | None:
        pvc = found[0] if found else None
        return None if pvc_mismatches(pvc, expected) else (pvc,)

    try:
        return kube.watch_until(
            f"PVC {expected.name}", "pvc", namespace, settled, timeout=settle, name=expected.name
        )[0]
    except WaitTimeout:
        pvc = kube.get("pvc", namespace, expected.name)
        problems = pvc_mismatches(pvc, expected)
        if not problems:  # it settled just as the wait ran out
            return pvc
        others = sorted(p["metadata"]["name"] for p in kube.list("pvc", namespace))
        raise CheckFailed(
            "; ".join(problems) + f" (PVCs in {namespace}: {', '.join(others) or 'none'})"
        ) from None


def pvc_set_mismatches(found: Mapping[str, Mapping[str, Any]], expected: set[str]) -> list[str]:
    """What differs between the user PVCs found (name -> PVC) and the exact set expected."""
    missing = sorted(expected - set(found))
    unexpected = sorted(set(found) - expected)
    terminating = sorted(
        name for name in expected & set(found) if (found[name].get("metadata") or {}).get("deletionTimestamp")
    )
    out = []
    if missing:
        out.append(f"missing: {', '.join(missing)}")
    if unexpected:
        out.append(f"unexpected: {', '.join(unexpected)}")
    if terminating:
        out.append(f"terminating: {', '.join(terminating)}")
    return out


def expect_pvcs(
    kube: Kube,
    namespace: str,
    expected: set[str],
    counts: Callable[[dict[str, Any]], bool],
    settle: float = 20.0,
) -> list[str]:
    """Check that the PVCs ``counts`` admits are exactly ``expected``, re-reading for ``settle`` seconds
    (creation and deletion are asynchronous). Returns the names found; raises CheckFailed."""

    def counted(pvcs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {p["metadata"]["name"]: p for p in pvcs if counts(p)}

    def settled(pvcs: list[dict[str, Any]]) -> list[str] | None:
        found = counted(pvcs)
        return None if pvc_set_mismatches(found, expected) else sorted(found)

    try:
        return kube.watch_until(f"the user PVCs in {namespace}", "pvc", namespace, settled, timeout=settle)
    except WaitTimeout:
        found = counted(kube.list("pvc", namespace))
        problems = pvc_set_mismatches(found, expected)
        if not problems:  # it settled just as the wait ran out
            return sorted(found)
        raise CheckFailed(
            f"user PVCs in {namespace} are not the expected set: {'; '.join(problems)} "
            f"(found: {', '.join(sorted(found)) or 'none'}; "
            f"expected: {', '.join(sorted(expected)) or 'none'})"
        ) from None
