"""A failed or hanging spawn is explained on the step line, on a real hub (any backend, via JHSC_* env).

The passing cases are scenarios (``scenarios/capacity-unset.yaml``, ``storage-class-missing.yaml``);
this module proves what a scenario cannot show because the step fails: an unexpected ``start``
failure and a spawn that is still pending when the step's timeout runs out both say why, and an
existing hub (``--hub-url`` + ``--namespace``) is explained from its own pod's log too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
import yaml

from harness.clusters.base import Cluster
from harness.clusters.kube import Kube
from harness.hub import manifests
from harness.hub.deploy import namespace_name
from harness.hub.deployed import DeployedHub
from harness.hub.settings import HubSettings
from harness.options import HarnessOptions
from harness.runner import RunContext, ScenarioFailure, run_scenario
from harness.scenario.loader import parse_scenario

pytestmark = pytest.mark.slow

INVALID = (
    'PersistentVolumeClaim "claim-alice" is invalid: spec.resources[storage]: '
    'Invalid value: "0": must be greater than zero'
)
HOME = """\
  working_dir: /home/jovyan
  storage_pvc_ensure: true
  pvc_name_template: "claim-{username}--{servername}"
  volumes:
    - name: home
      persistentVolumeClaim: {claimName: "claim-{username}--{servername}"}
  volume_mounts:
    - {name: home, mountPath: /home/jovyan}
"""


def _scenario(
    name: str, steps: str, kubespawner: str = HOME, final: str = "  - delete_user: {user: alice}\n"
) -> str:
    head = f"name: {name}\ndescription: {name}\n" + (f"kubespawner:\n{kubespawner}" if kubespawner else "")
    return f"{head}users:\n  - name: alice\nsteps:\n{steps}finally:\n{final}"


def _run(text: str, name: str, cluster: Cluster, options: HarnessOptions) -> tuple[str, ScenarioFailure]:
    lines: list[str] = []
    ctx = RunContext(cluster=cluster, versions=options.versions, options=options, report=lines.append)
    with pytest.raises(ScenarioFailure) as info:
        run_scenario(parse_scenario(text, f"{name}.yaml"), ctx)
    print("\n".join(lines))  # the step lines, for -s
    return "\n".join(lines), info.value


def test_unexpected_start_failure_names_the_status(cluster: Cluster, options: HarnessOptions) -> None:
    text = _scenario("start-capacity-unset", "  - start: {user: alice}\n")
    progress, failure = _run(text, "start-capacity-unset", cluster, options)
    assert "server alice/ failed to start: " in failure.summary
    assert f"reason: {INVALID} (from Kubernetes Status 422 Invalid in hub log)" in failure.summary, progress


def test_a_hanging_spawn_says_why_when_the_step_times_out(cluster: Cluster, options: HarnessOptions) -> None:
    # the hub's start_timeout stays at the harness's 180 s: the step's own 20 s run out first
    text = _scenario(
        "start-class-missing",
        "  - start: {user: alice, timeout: 20}\n",
        HOME + "  storage_capacity: 100Mi\n  storage_class: does-not-exist\n",
        "  - expect_pvc: {name: claim-alice, phase: Pending}\n  - delete_user: {user: alice}\n",
    )
    t0 = time.monotonic()
    progress, failure = _run(text, "start-class-missing", cluster, options)
    took = time.monotonic() - t0
    assert "not ready after 20s; the hub still reports the spawn pending" in failure.summary, progress
    assert (
        'reason: storageclass.storage.k8s.io "does-not-exist" not found '
        "(from event ProvisioningFailed on pvc/claim-alice); the pending spawn was stopped"
    ) in failure.summary, progress
    # the spawn was interrupted: delete_user did not wait for the hub's start_timeout
    assert "✓ finally 2 delete_user alice" in progress and took < 150, (took, progress)


@pytest.fixture(scope="module")
def staging(cluster: Cluster, options: HarnessOptions) -> Iterator[DeployedHub]:
    """A hub the run does not own, whose own config leaves storage_capacity unset."""
    kubespawner = yaml.safe_load(f"kubespawner:\n{HOME}")["kubespawner"]
    hub = DeployedHub(
        cluster=cluster,
        versions=options.versions,
        kube_=Kube.from_kubeconfig(cluster.kubeconfig, cluster.context),
        namespace_=namespace_name("staging-reasons"),
        config=HubSettings(dict(kubespawner), {}),
    )
    try:
        hub.setup()
        yield hub
    finally:
        hub.teardown(keep=False)


def test_existing_hub_failure_is_explained_from_its_pods_log(
    cluster: Cluster, options: HarnessOptions, staging: DeployedHub
) -> None:
    assert staging.deployment is not None and staging.namespace is not None
    step = '  - expect_spawn_failure: {user: alice, message: "spec.resources[storage]", timeout: 120}\n'
    text = _scenario("existing-capacity-unset", step, kubespawner="")
    lines: list[str] = []
    with cluster.service_url(staging.namespace, "proxy-public", manifests.PROXY_PUBLIC_PORT) as url:
        existing = replace(
            options,
            # the embedded cluster serves as "a cluster you run"; ctx.cluster stays the started one
            cluster="existing",
            kubeconfig=cluster.kubeconfig,
            hub_url=url,
            hub_token=staging.deployment.harness_token,
            hub_namespace=staging.namespace,
        )
        ctx = RunContext(cluster=cluster, versions=options.versions, options=existing, report=lines.append)
        run_scenario(parse_scenario(text, "existing-capacity-unset.yaml"), ctx)
    progress = "\n".join(lines)
    print(progress)
    want = INVALID.replace("claim-alice", "claim-jhsc-alice")
    assert (
        "failed as expected ('spec.resources[storage]' in Kubernetes Status 422 Invalid in hub log): " + want
    ) in progress, progress
