"""The kind cluster itself: pytest-kind-ng's ``KindCluster`` (its names, paths and command lines) with
captured errors, no downloads, reuse checks and a port-forward that survives pod restarts.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from pytest_kind import KindCluster

from harness.clusters.base import ClusterError
from harness.clusters.kind.kubectl_forward import PortForward
from harness.clusters.kind.tools import run_tool

DEFAULT_CLUSTER_NAME = "jhsc"


def cluster_name(base: str = DEFAULT_CLUSTER_NAME) -> str:
    """One kind cluster per pytest-xdist worker (``jhsc-gw0``, ...), ``base`` without xdist.

    Workers cannot share a cluster: a scenario restarting the node would break the others' scenarios,
    and the first worker to finish would delete it under the rest.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"{base}-{worker}" if worker else base


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
