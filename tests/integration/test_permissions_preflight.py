"""The permission preflight against the embedded API server's real RBAC and SelfSubjectAccessReview."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client, config

from harness.clusters.base import ClusterError
from harness.clusters.embedded.apiserver.standalone import Standalone, standalone_server
from harness.clusters.permissions import Need, require_permissions

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Standalone]:
    with standalone_server(tmp_path_factory.mktemp("apiserver")) as it:
        yield it


def limited_user(server: Standalone, tmp_path: Path, namespace: str) -> Path:
    """A kubeconfig for a ServiceAccount that may only get and create ConfigMaps in ``namespace``."""
    api = config.new_client_from_config(str(server.kubeconfig))
    core, rbac = client.CoreV1Api(api), client.RbacAuthorizationV1Api(api)
    meta = client.V1ObjectMeta
    core.create_namespace(client.V1Namespace(metadata=meta(name=namespace)))
    core.create_namespaced_service_account(namespace, client.V1ServiceAccount(metadata=meta(name="runner")))
    rule = client.V1PolicyRule(api_groups=[""], resources=["configmaps"], verbs=["get", "create"])
    rbac.create_namespaced_role(namespace, client.V1Role(metadata=meta(name="cm"), rules=[rule]))
    binding = client.V1RoleBinding(
        metadata=meta(name="runner-cm"),
        role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name="cm"),
        subjects=[client.RbacV1Subject(kind="ServiceAccount", name="runner", namespace=namespace)],
    )
    rbac.create_namespaced_role_binding(namespace, binding)
    api.close()
    token = server.call(server.registry.service_account_token(namespace, "runner"))
    doc = yaml.safe_load(server.kubeconfig.read_text())
    doc["users"][0]["user"] = {"token": token}
    path = tmp_path / "runner.kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_every_missing_permission_is_named_and_granted_ones_are_not(
    server: Standalone, tmp_path: Path
) -> None:
    namespace = f"jhsc-{uuid.uuid4().hex[:8]}"
    kubeconfig = limited_user(server, tmp_path, namespace)
    needs = [
        Need("get", "configmaps", "", namespace),
        Need("create", "configmaps", "", namespace),
        Need("create", "persistentvolumeclaims", "", namespace),
        Need("create", "rolebindings", "rbac.authorization.k8s.io", namespace),
        Need("get", "storageclasses", "storage.k8s.io"),
    ]
    with pytest.raises(ClusterError) as err:
        require_permissions(kubeconfig, None, needs)
    missing = [line for line in str(err.value).splitlines() if "missing permission" in line]
    assert [line.split(": ", 1)[1].split(":")[0] for line in missing] == [
        f'cannot create persistentvolumeclaims in namespace {namespace} (group "")',
        f'cannot create rolebindings in namespace {namespace} (group "rbac.authorization.k8s.io")',
        'cannot get storageclasses cluster-wide (group "storage.k8s.io")',
    ]
    assert "lacks 3 permission(s)" in str(err.value)


def test_the_admin_passes_the_preflight(server: Standalone) -> None:
    require_permissions(server.kubeconfig, None, [Need("create", "persistentvolumeclaims", "", "anywhere")])
