"""The rendered jupyterhub_config.py: scenario values arrive as exactly the data written, never as code."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

from harness.hub.config import (
    HARNESS_TOKEN_ENV,
    ConfigRenderError,
    HubConfigInput,
    merged_config,
    render_hub_config,
)

HOSTILE = [
    '"); import os; os.system("touch /tmp/pwned"); ("',
    "'''; raise SystemExit; '''",
    "line1\nimport os\nos._exit(3)",
    "\\x00\\'\"{username}",
    "\u202e\U0001f600 ünïcode",
    "}}{{ %(x)s {0}",
]


def _execute(text: str, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv(HARNESS_TOKEN_ENV, "tok")
    c = Config()
    exec(compile(text, "jupyterhub_config.py", "exec"), {"get_config": lambda: c, "__name__": "__config__"})
    return c


def _inp(**kw: Any) -> HubConfigInput:
    return HubConfigInput(namespace="jhsc-x-abc123", singleuser_image="img:1", pull_policy="Never", **kw)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_strings_stay_strings(hostile: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    inp = _inp(
        kubespawner={"pvc_name_template": hostile, "volumes": [{"name": hostile, "x": {"k": [hostile]}}]},
        hub_config={"JupyterHub.template_vars": {"v": hostile}},
    )
    c = _execute(render_hub_config(inp), monkeypatch)
    assert c.KubeSpawner.pvc_name_template == hostile
    assert c.KubeSpawner.volumes == [{"name": hostile, "x": {"k": [hostile]}}]
    assert c.JupyterHub.template_vars == {"v": hostile}
    assert not (tmp_path / "pwned").exists()


def test_scenario_overrides_defaults_and_services_are_set(monkeypatch: pytest.MonkeyPatch) -> None:
    inp = _inp(
        kubespawner={"uid": 0, "storage_capacity": "2Gi"},
        hub_config={"JupyterHub.allow_named_servers": False},
    )
    c = _execute(render_hub_config(inp), monkeypatch)
    assert c.KubeSpawner.uid == 0
    assert c.KubeSpawner.fs_gid == 100
    assert c.KubeSpawner.image == "img:1"
    assert c.KubeSpawner.image_pull_policy == "Never"
    assert c.KubeSpawner.namespace == "jhsc-x-abc123"
    assert c.JupyterHub.allow_named_servers is False
    assert c.ConfigurableHTTPProxy.should_start is False
    assert c.ConfigurableHTTPProxy.api_url == "http://proxy-api:8001"
    assert c.JupyterHub.hub_connect_url == "http://hub:8081"
    assert c.JupyterHub.services == [{"name": "harness", "api_token": "tok"}]
    assert c.JupyterHub.load_roles == [{"name": "admin", "services": ["harness"]}]


def test_literal_is_parseable_data() -> None:
    text = render_hub_config(_inp(kubespawner={"extra_labels": {"a": "b"}, "cpu_limit": 1.5, "x": None}))
    tree = ast.parse(text)
    assigns = [
        n for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "_CONFIG"
    ]
    assert len(assigns) == 1
    data = ast.literal_eval(assigns[0].value)
    assert data["KubeSpawner"]["cpu_limit"] == 1.5
    assert data["KubeSpawner"]["x"] is None


@pytest.mark.parametrize(
    ("kubespawner", "hub_config"),
    [
        ({"bad name": 1}, {}),
        ({"__import__('os')": 1}, {}),
        ({"ok": object()}, {}),
        ({"ok": {1: "int key"}}, {}),
        ({"ok": float("nan")}, {}),
        ({}, {"NoDot": 1}),
        ({}, {"Jupyter Hub.x": 1}),
        ({}, {"JupyterHub.x;y": 1}),
    ],
)
def test_rejects_what_is_not_plain(kubespawner: dict[str, Any], hub_config: dict[str, Any]) -> None:
    with pytest.raises(ConfigRenderError):
        merged_config(_inp(kubespawner=kubespawner, hub_config=hub_config))


def test_tuples_become_lists() -> None:
    assert merged_config(_inp(kubespawner={"storage_access_modes": ("ReadWriteOnce",)}))["KubeSpawner"][
        "storage_access_modes"
    ] == ["ReadWriteOnce"]
