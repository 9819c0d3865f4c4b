"""The oracles fail when they should, on a real cluster with a real hub (any backend, via JHSC_* env).

One hub deployment serves all three negative checks: the wrong expectations sit in ``finally``,
where every step runs and each failure is recorded, so one deploy proves three failing steps and
their messages. Run e.g. on realk8s::

    JHSC_CLUSTER=existing JHSC_KUBECONFIG=/opt/realk8s/kubeconfig \
    JHSC_HUB_IMAGE='localhost/jupyterhub-hub:ks-{kubespawner}' \
    JHSC_SINGLEUSER_IMAGE=localhost/jupyterhub-singleuser:local JHSC_READER_IMAGE=localhost/busybox-jovyan:1 \
    JHSC_IMAGE_PULL_POLICY=Never pytest -m slow tests/integration/test_e2e_oracles.py
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.clusters.base import Cluster
from harness.options import HarnessOptions
from harness.runner import RunContext, ScenarioFailure, run_scenario
from harness.scenario.loader import parse_scenario

pytestmark = pytest.mark.slow

WRONG = """
name: oracle-negatives
description: Deliberately wrong expectations; every finally step but the last must fail.
kubespawner:
  working_dir: /home/jovyan
  storage_pvc_ensure: true
  storage_capacity: 100Mi
  pvc_name_template: "claim-{username}"
  volumes:
    - name: data
      persistentVolumeClaim: {claimName: "claim-{username}"}
  volume_mounts:
    - name: data
      mountPath: /home/jovyan/data
users:
  - name: alice
steps:
  - start: {user: alice}
  - expect_pvc: {name: claim-alice, phase: Bound}
  - expect_mount: {user: alice, path: /home/jovyan/data, claim: claim-alice}
  - write_file: {user: alice, path: data/on-pvc.txt, content: "on the PVC\\n"}
  - expect_file: {user: alice, path: data/on-pvc.txt, content: "on the PVC\\n"}
  - write_file: {user: alice, path: not-on-pvc.txt, content: "in the container\\n"}
finally:
  - expect_pvc: {name: claim-nobody}
  - expect_file: {user: alice, path: not-on-pvc.txt, content: "in the container\\n"}
  - expect_mount: {user: alice, path: /home/jovyan, claim: claim-alice}
  - expect_mount: {user: alice, path: /home/jovyan/data, claim: claim-alice, sub_path: value, check: spec}
  - delete_user: {user: alice}
"""


def test_wrong_expectations_fail_with_clear_messages(cluster: Cluster, options: HarnessOptions) -> None:
    lines: list[str] = []
    ctx = RunContext(cluster=cluster, versions=options.versions, options=options, report=lines.append)
    with pytest.raises(ScenarioFailure) as info:
        run_scenario(parse_scenario(WRONG, "oracle-negatives.yaml"), ctx)
    failure = info.value
    progress = "\n".join(lines)
    # the correct steps passed (so the failures below are the oracles', not a broken hub)
    assert "✓ 5 expect_file alice/ data/on-pvc.txt" in progress, progress
    assert "on PVC claim-alice:on-pvc.txt" in progress, progress
    assert "(+3 more failure(s))" in failure.summary
    assert failure.bundle is not None
    failures = (failure.bundle / "failures.txt").read_text()
    assert "PVC claim-nobody does not exist" in failures
    assert "not-on-pvc.txt of server alice is on the container's own filesystem, not on a PVC" in failures
    assert "no volumeMount at /home/jovyan" in failures
    assert "has subPath '', expected 'value'" in failures
    bundle: Path = failure.bundle
    for name in ("summary.txt", "pods.yaml", "pvcs.yaml", "pvs.yaml", "events.txt", "jupyterhub_config.py"):
        assert (bundle / name).is_file(), name
    logs = {p.name for p in (bundle / "logs").iterdir()}
    assert any(n.startswith("hub-") for n in logs) and any(n.startswith("proxy-") for n in logs), logs
    assert any(n.startswith("jupyter-alice") for n in logs), logs
    assert "✓ finally 5 delete_user alice" in progress
    assert "✓ cleanup" in progress
