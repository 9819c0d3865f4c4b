"""The kind backend, checked by what it executes: fake ``kind``/``docker``/``kubectl`` record their argv.

Docker cannot run here, so these tests pin the exact command lines, the order of waits, the image cache
and the error messages; the real thing runs in the CI e2e workflow.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.clusters.base import ClusterError, HubVersions
from harness.clusters.kind import (
    IMAGES_DIR,
    KIND_CONFIG,
    READER_IMAGE,
    RECIPE_LABEL,
    KindBackend,
    KindToolError,
    hub_recipe,
    proxy_recipe,
    singleuser_recipe,
)
from harness.clusters.kind import images as kind_images
from harness.options import HarnessOptions

FAKE_TOOLS = Path(__file__).parent / "fake_tools"
NODE_IMAGE = "kindest/node:v1.33.1@sha256:050072256b9a903bd914c0b2866828150cb229cea0efe5892e2b644d5dd3b34f"
VERSIONS = HubVersions(kubespawner="7.1.0", jupyterhub="6.1.1")
LABEL_FORMAT = f'{{{{index .Config.Labels "{RECIPE_LABEL}"}}}}'


class FakeTools:
    """Scripts the fake tools' answers and reads back what was run."""

    def __init__(self, state: Path) -> None:
        self.state = state

    def on(self, tool: str, *args: str, match: str = "prefix", **answer: Any) -> None:
        """Add a rule after the existing ones (whose ``times`` the fakes count down in the file)."""
        script = self.state / "script.json"
        rules = json.loads(script.read_text()) if script.exists() else []
        rules.append({"tool": tool, "args": list(args), "match": match, **answer})
        script.write_text(json.dumps(rules))

    def calls(self, tool: str | None = None) -> list[list[str]]:
        path = self.state / "calls.jsonl"
        if not path.exists():
            return []
        records = [json.loads(line) for line in path.read_text().splitlines()]
        return [[r["tool"], *r["args"]] for r in records if tool in (None, r["tool"])]

    def pids(self, tool: str) -> list[int]:
        records = [json.loads(line) for line in (self.state / "calls.jsonl").read_text().splitlines()]
        return [r["pid"] for r in records if r["tool"] == tool]


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeTools:
    state = tmp_path / "fake-state"
    state.mkdir()
    monkeypatch.setenv("FAKE_TOOLS_STATE", str(state))
    monkeypatch.setenv("PATH", f"{FAKE_TOOLS}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(tmp_path)  # KindCluster makes .pytest-kind/<name> in the working directory
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # these tests run under xdist too
    monkeypatch.setattr(kind_images, "BUILD_LOCK", tmp_path / "build.lock")
    return FakeTools(state)


def options(tmp_path: Path, **overrides: Any) -> HarnessOptions:
    values: dict[str, Any] = {
        "cluster": "kind",
        "kubeconfig": tmp_path / "kubeconfig",
        "kind_image": NODE_IMAGE,
    }
    values.update(overrides)
    return HarnessOptions(**values)


def backend(tmp_path: Path, **overrides: Any) -> KindBackend:
    return KindBackend(options(tmp_path, **overrides), ready_timeout=5, poll_interval=0.01)


def kubectl(tmp_path: Path, *args: str) -> list[str]:
    return ["kubectl", f"--kubeconfig={tmp_path / 'kubeconfig'}", "--context=kind-jhsc", *args]


def get(tmp_path: Path, resource: str, *args: str) -> list[str]:
    return kubectl(tmp_path, "get", resource, *args, "--output=json", "--request-timeout=20s")


def node(ready: str = "True", heartbeat: str = "2026-11-26T03:00:00Z") -> dict[str, Any]:
    condition = {"type": "Ready", "status": ready, "lastHeartbeatTime": heartbeat, "message": "kubelet says"}
    return {"metadata": {"name": "jhsc-control-plane"}, "status": {"conditions": [condition]}}


def items(*objs: dict[str, Any]) -> str:
    return json.dumps({"items": list(objs)})


def healthy_cluster(fake: FakeTools) -> None:
    fake.on("kubectl", "get", "nodes", match="within", stdout=items(node()))
    fake.on(
        "kubectl", "get", "serviceaccounts", match="within", stdout=items({"metadata": {"name": "default"}})
    )
    default_sc = {
        "metadata": {
            "name": "standard",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        }
    }
    fake.on("kubectl", "get", "storageclasses", match="within", stdout=items(default_sc))


# -- start / stop ----------------------------------------------------------------------------------


def test_start_creates_the_cluster_waits_for_it_and_stop_deletes_it(fake: FakeTools, tmp_path: Path) -> None:
    fake.on("kind", "get", "clusters", stdout="other\n")
    healthy_cluster(fake)
    kc = str(tmp_path / "kubeconfig")
    cluster = backend(tmp_path)

    cluster.start()
    assert cluster.kubeconfig == tmp_path / "kubeconfig"
    assert cluster.context == "kind-jhsc"
    cluster.stop()

    assert fake.calls() == [
        ["kind", "get", "clusters"],
        [
            "kind",
            "create",
            "cluster",
            "--name=jhsc",
            f"--kubeconfig={kc}",
            f"--image={NODE_IMAGE}",
            "--config",
            str(KIND_CONFIG),
        ],
        ["kind", "export", "kubeconfig", "--name=jhsc", f"--kubeconfig={kc}"],
        get(tmp_path, "nodes"),
        get(tmp_path, "serviceaccounts", "--namespace=default"),
        get(tmp_path, "storageclasses"),
        ["kind", "delete", "cluster", "--name=jhsc", f"--kubeconfig={kc}"],
    ]


def test_keep_cluster_leaves_a_created_cluster_in_place(fake: FakeTools, tmp_path: Path) -> None:
    healthy_cluster(fake)
    cluster = backend(tmp_path, keep_cluster=True)
    cluster.start()
    cluster.stop()
    assert fake.calls("kind")[1][1:3] == ["create", "cluster"]
    assert not [c for c in fake.calls("kind") if c[1] == "delete"]


def test_an_existing_cluster_is_reused_and_never_deleted(fake: FakeTools, tmp_path: Path) -> None:
    fake.on("kind", "get", "clusters", stdout="jhsc\n")
    fake.on("kind", "get", "nodes", stdout="jhsc-control-plane\n")
    fake.on("docker", "inspect", stdout=NODE_IMAGE + "\n")
    healthy_cluster(fake)
    cluster = backend(tmp_path)
    cluster.start()
    cluster.stop()
    assert fake.calls("kind") == [
        ["kind", "get", "clusters"],
        ["kind", "get", "nodes", "--name=jhsc"],
        ["kind", "export", "kubeconfig", "--name=jhsc", f"--kubeconfig={tmp_path / 'kubeconfig'}"],
    ]
    assert fake.calls("docker") == [
        ["docker", "inspect", "--format", "{{.Config.Image}}", "jhsc-control-plane"]
    ]


def test_reusing_a_cluster_of_another_kubernetes_version_is_refused(fake: FakeTools, tmp_path: Path) -> None:
    fake.on("kind", "get", "clusters", stdout="jhsc\n")
    fake.on("kind", "get", "nodes", stdout="jhsc-control-plane\n")
    fake.on("docker", "inspect", stdout="kindest/node:v1.30.13\n")
    with pytest.raises(ClusterError) as err:
        backend(tmp_path).start()
    message = str(err.value)
    assert "node image 'kindest/node:v1.30.13'" in message
    assert NODE_IMAGE in message
    assert "kind delete cluster --name jhsc" in message


def test_start_polls_until_the_node_is_ready(fake: FakeTools, tmp_path: Path) -> None:
    fake.on("kubectl", "get", "nodes", match="within", stdout=items(node("False")), times=2)
    fake.on("kubectl", "get", "nodes", match="within", exit=1, stderr="connection refused", times=1)
    healthy_cluster(fake)
    backend(tmp_path).start()
    assert fake.calls("kubectl").count(get(tmp_path, "nodes")) == 4


def test_a_missing_storage_class_times_out_naming_it_and_the_new_cluster_is_deleted(
    fake: FakeTools, tmp_path: Path
) -> None:
    fake.on("kubectl", "get", "storageclasses", match="within", stdout=items({"metadata": {"name": "fast"}}))
    healthy_cluster(fake)
    cluster = KindBackend(options(tmp_path), ready_timeout=0.2, poll_interval=0.01)
    with pytest.raises(ClusterError) as err:
        cluster.start()
    assert "timed out after 0.2s waiting for default StorageClass 'standard'; " in str(err.value)
    assert str(err.value).endswith("last seen: StorageClass 'standard' missing (have: ['fast'])")
    # No stop() follows a failed start(): the cluster it created is gone already.
    assert fake.calls("kind")[-1][:3] == ["kind", "delete", "cluster"]


def test_a_failing_kind_command_reports_command_exit_code_and_stderr(fake: FakeTools, tmp_path: Path) -> None:
    fake.on(
        "kind",
        "create",
        "cluster",
        exit=1,
        stderr="ERROR: failed to create cluster: port is already allocated\n",
    )
    with pytest.raises(KindToolError) as err:
        backend(tmp_path).start()
    assert err.value.returncode == 1
    assert err.value.command[1:4] == ["create", "cluster", "--name=jhsc"]
    message = str(err.value)
    assert message.startswith("command failed with exit code 1: ")
    assert f"create cluster --name=jhsc --kubeconfig={tmp_path / 'kubeconfig'}" in message
    assert "stderr:\nERROR: failed to create cluster: port is already allocated" in message


def test_each_xdist_worker_gets_its_own_cluster(
    fake: FakeTools, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    healthy_cluster(fake)
    cluster = backend(tmp_path)
    cluster.start()
    assert cluster.context == "kind-jhsc-gw3"
    assert "--name=jhsc-gw3" in fake.calls("kind")[1]


def test_a_missing_tool_says_what_to_install(
    fake: FakeTools, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ClusterError, match=r"needs `kind` on PATH: see https://kind.sigs.k8s.io"):
        backend(tmp_path).start()


# -- images ----------------------------------------------------------------------------------------


def no_such_image(fake: FakeTools, times: int) -> None:
    fake.on(
        "docker",
        "image",
        "inspect",
        exit=1,
        stderr="Error response from daemon: No such image\n",
        times=times,
    )


def test_images_are_built_once_loaded_and_then_cached(fake: FakeTools, tmp_path: Path) -> None:
    no_such_image(fake, times=3)
    hub, proxy, singleuser = hub_recipe(VERSIONS), proxy_recipe(), singleuser_recipe(VERSIONS)

    images = backend(tmp_path).images(VERSIONS)

    assert images.hub == "jhsc/hub:ks-7.1.0-jh-6.1.1"
    assert images.proxy == "jhsc/proxy:chp-4.6.3"
    assert images.singleuser == "jhsc/singleuser:jh-6.1.1"
    assert images.reader == READER_IMAGE
    assert images.pull_policy == "IfNotPresent"

    def inspect(tag: str) -> list[str]:
        return ["docker", "image", "inspect", "--format", LABEL_FORMAT, tag]

    def build(recipe: Any, *args: str) -> list[str]:
        label = f"{RECIPE_LABEL}={recipe.digest}"
        context = IMAGES_DIR / recipe.context.name
        return [
            "docker",
            "build",
            "--tag",
            recipe.tag,
            "--label",
            label,
            *args,
            "--file",
            f"{context}/Dockerfile",
            str(context),
        ]

    def load(tag: str) -> list[str]:
        return ["kind", "load", "docker-image", "--name", "jhsc", tag]

    assert fake.calls() == [
        inspect(hub.tag),
        build(hub, "--build-arg", "KUBESPAWNER_VERSION=7.1.0", "--build-arg", "JUPYTERHUB_VERSION=6.1.1"),
        load(hub.tag),
        inspect(proxy.tag),
        build(proxy, "--build-arg", "CHP_VERSION=4.6.3"),
        load(proxy.tag),
        inspect(singleuser.tag),
        build(singleuser, "--build-arg", "JUPYTERHUB_VERSION=6.1.1"),
        load(singleuser.tag),
    ]

    # The same backend again: nothing runs at all.
    before = len(fake.calls())
    backend_again = backend(tmp_path)
    for recipe in (hub, proxy, singleuser):
        fake.on(
            "docker",
            "image",
            "inspect",
            "--format",
            LABEL_FORMAT,
            recipe.tag,
            match="exact",
            stdout=recipe.digest + "\n",
        )
    # A second run (new backend, images still in docker): inspect + load, no build.
    assert backend_again.images(VERSIONS) == images
    second_run = fake.calls()[before:]
    assert [c[:2] for c in second_run] == [["docker", "image"], ["kind", "load"]] * 3
    assert backend_again.images(VERSIONS) == images
    assert len(fake.calls()) == before + len(second_run)


def test_an_edited_recipe_misses_the_cache(fake: FakeTools, tmp_path: Path) -> None:
    fake.on("docker", "image", "inspect", stdout="0123456789abcdef\n")
    backend(tmp_path).images(VERSIONS)
    assert len([c for c in fake.calls("docker") if c[1] == "build"]) == 3


def test_docker_being_down_is_an_error_not_a_cache_miss(fake: FakeTools, tmp_path: Path) -> None:
    down = (
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n"
    )
    fake.on("docker", "image", "inspect", exit=1, stderr=down)
    with pytest.raises(KindToolError, match="Is the docker daemon running"):
        backend(tmp_path).images(VERSIONS)
    assert not [c for c in fake.calls("docker") if c[1] == "build"]


def test_a_failed_build_shows_the_tail_of_its_output(fake: FakeTools, tmp_path: Path) -> None:
    no_such_image(fake, times=1)
    log = (
        "".join(f"#{i} step\n" for i in range(100))
        + "ERROR: No matching distribution found for jupyterhub==9.9\n"
    )
    fake.on("docker", "build", exit=1, stderr=log)
    with pytest.raises(KindToolError) as err:
        backend(tmp_path).images(VERSIONS)
    message = str(err.value)
    assert f"exit code 1: {FAKE_TOOLS}/docker build --tag jhsc/hub:ks-7.1.0-jh-6.1.1 " in message
    assert message.endswith("ERROR: No matching distribution found for jupyterhub==9.9")
    assert "#59 step" not in message and "#61 step" in message


def test_user_images_are_used_as_given(fake: FakeTools, tmp_path: Path) -> None:
    fake.on("docker", "image", "inspect", "--format", LABEL_FORMAT, "ghcr.io/me/hub:7.1.0", match="exact",
            exit=1, stderr="Error: No such image: ghcr.io/me/hub:7.1.0\n")  # fmt: skip
    fake.on(
        "docker",
        "image",
        "inspect",
        "--format",
        LABEL_FORMAT,
        "me/singleuser:dev",
        match="exact",
        stdout="\n",
    )
    no_such_image(fake, times=1)  # the proxy recipe
    images = backend(
        tmp_path,
        hub_image="ghcr.io/me/hub:{kubespawner}",
        singleuser_image="me/singleuser:dev",
        image_pull_policy="Always",
        reader_image="registry.local/busybox:1",
    ).images(VERSIONS)
    assert (images.hub, images.singleuser, images.reader, images.pull_policy) == (
        "ghcr.io/me/hub:7.1.0",
        "me/singleuser:dev",
        "registry.local/busybox:1",
        "Always",
    )
    builds = [c[3] for c in fake.calls("docker") if c[1] == "build"]
    assert builds == ["jhsc/proxy:chp-4.6.3"]
    loads = [c[-1] for c in fake.calls("kind")]
    # The local singleuser image is loaded; the remote hub image is left for the node to pull.
    assert loads == ["jhsc/proxy:chp-4.6.3", "me/singleuser:dev"]


# -- service_url -----------------------------------------------------------------------------------


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def test_service_url_port_forwards_and_stops_the_forward(fake: FakeTools, tmp_path: Path) -> None:
    fake.on(
        "kubectl",
        "port-forward",
        match="within",
        stdout="Forwarding from 127.0.0.1:41234 -> 8000\n",
        sleep=60,
    )
    with backend(tmp_path).service_url("jhsc-x", "proxy-public", 80) as url:
        assert url == "http://127.0.0.1:41234"
        (pid,) = fake.pids("kubectl")
        assert pid_alive(pid)
    assert not pid_alive(pid)
    assert fake.calls() == [
        kubectl(
            tmp_path, "port-forward", "--namespace=jhsc-x", "--address=127.0.0.1", "svc/proxy-public", ":80"
        )
    ]


def test_a_dropped_port_forward_is_restarted_on_the_same_port(fake: FakeTools, tmp_path: Path) -> None:
    fake.on("kubectl", "port-forward", match="within", stdout="Forwarding from 127.0.0.1:41234 -> 8081\n",
            stderr="lost connection to pod\n", sleep=0.2, exit=1, times=1)  # fmt: skip
    fake.on(
        "kubectl",
        "port-forward",
        match="within",
        stdout="Forwarding from 127.0.0.1:41234 -> 8081\n",
        sleep=60,
    )
    with backend(tmp_path).service_url("ns", "hub", 8081) as url:
        assert url == "http://127.0.0.1:41234"
        wait_until(lambda: len(fake.calls("kubectl")) == 2)
        wait_until(lambda: pid_alive(fake.pids("kubectl")[1]))
    assert [c[-1] for c in fake.calls("kubectl")] == [":8081", "41234:8081"]
    assert not any(pid_alive(pid) for pid in fake.pids("kubectl"))


def test_a_failing_port_forward_reports_kubectl_output(fake: FakeTools, tmp_path: Path) -> None:
    fake.on(
        "kubectl",
        "port-forward",
        match="within",
        exit=1,
        stderr='Error from server (NotFound): services "hub" not found\n',
    )
    with pytest.raises(KindToolError, match='services "hub" not found') as err:  # noqa: SIM117
        with backend(tmp_path).service_url("ns", "hub", 8081):
            pass
    assert err.value.returncode == 1


# -- restart ---------------------------------------------------------------------------------------


def test_restart_restarts_node_containers_and_waits_for_a_fresh_kubelet_report(
    fake: FakeTools, tmp_path: Path
) -> None:
    fake.on("kind", "get", "nodes", stdout="jhsc-control-plane\n")
    old, new = "2026-11-26T03:00:00Z", "2026-11-26T03:05:00Z"
    fake.on("kubectl", "get", "nodes", match="within", stdout=items(node(heartbeat=old)), times=3)
    fake.on("kubectl", "get", "nodes", match="within", stdout=items(node(heartbeat=new)))
    provisioner = {
        "metadata": {"name": "local-path-provisioner-abc"},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }
    fake.on("kubectl", "get", "pods", match="within", stdout=items({**provisioner, "status": {}}), times=1)
    fake.on("kubectl", "get", "pods", match="within", stdout=items(provisioner))

    backend(tmp_path).restart()

    calls = fake.calls()
    assert calls[:3] == [
        ["kind", "get", "nodes", "--name=jhsc"],
        get(tmp_path, "nodes"),
        ["docker", "restart", "jhsc-control-plane"],
    ]
    assert (
        calls[3:]
        == [get(tmp_path, "nodes")] * 3
        + [get(tmp_path, "pods", "--namespace=local-path-storage", "--selector=app=local-path-provisioner")]
        * 2
    )


# -- recipes and config ----------------------------------------------------------------------------


def test_kind_config_is_a_single_node_cluster() -> None:
    config = yaml.safe_load(KIND_CONFIG.read_text())
    assert config["kind"] == "Cluster"
    assert config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert config["nodes"] == [{"role": "control-plane"}]


@pytest.mark.parametrize("recipe", [hub_recipe(VERSIONS), proxy_recipe(), singleuser_recipe(VERSIONS)])
def test_every_build_arg_is_declared_by_its_dockerfile(recipe: Any) -> None:
    dockerfile = (recipe.context / "Dockerfile").read_text()
    declared = set(re.findall(r"^ARG (\w+)", dockerfile, flags=re.M))
    assert {key for key, _ in recipe.build_args} == declared


def test_singleuser_image_follows_docker_stacks_conventions() -> None:
    dockerfile = (IMAGES_DIR / "singleuser" / "Dockerfile").read_text()
    assert "--uid 1000 --gid 100" in dockerfile
    assert "--home-dir /home/jovyan" in dockerfile
    assert re.search(r"^USER 1000:100$", dockerfile, flags=re.M)
    assert re.search(r'^CMD \["jupyterhub-singleuser"\]$', dockerfile, flags=re.M)


def test_the_ci_matrix_covers_every_kubespawner_release_on_digest_pinned_node_images() -> None:
    from harness.versions import KUBESPAWNER_MATRIX

    workflow = yaml.safe_load((KIND_CONFIG.parents[2] / ".github" / "workflows" / "e2e.yml").read_text())
    matrix = workflow["jobs"]["kind"]["strategy"]["matrix"]
    assert tuple(matrix["kubespawner"]) == KUBESPAWNER_MATRIX
    images = {row["kubernetes"]: row["node-image"] for row in matrix["include"]}
    assert set(images) == set(matrix["kubernetes"])
    for version, image in images.items():
        assert re.fullmatch(rf"kindest/node:{re.escape(version)}@sha256:[0-9a-f]{{64}}", image), image
