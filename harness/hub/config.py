"""Render ``jupyterhub_config.py`` for a harness-deployed hub.

Scenario values end up inside a Python file that the hub executes, so they are never pasted into
code as text: every value is checked to be plain data (str/int/float/bool/None, lists, dicts with
str keys) and written with ``repr``, and every config class / trait name must be a Python
identifier.  A hostile string therefore stays a string literal, whatever quotes or newlines it holds.
"""

from __future__ import annotations

import pprint
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Mount point of the rendered config (ConfigMap ``hub-config``) inside the hub pod.
CONFIG_DIR = "/usr/local/etc/jupyterhub"
CONFIG_FILE = "jupyterhub_config.py"
#: Where the hub keeps its sqlite DB and cookie secret (PVC ``hub-db``), so a hub restart keeps state.
DATA_DIR = "/srv/jupyterhub"
#: Env vars the hub pod gets from the harness Secret.
HARNESS_TOKEN_ENV = "JHSC_HARNESS_API_TOKEN"
PROXY_TOKEN_ENV = "CONFIGPROXY_AUTH_TOKEN"
#: Name of the JupyterHub service whose token the harness drives the hub with.
HARNESS_SERVICE = "harness"

_PLAIN_SCALARS = (str, int, float, bool, type(None))


class ConfigRenderError(ValueError):
    """A scenario value cannot be rendered as plain Python data."""


@dataclass(frozen=True)
class HubConfigInput:
    """Everything the rendered config depends on."""

    namespace: str
    singleuser_image: str
    pull_policy: str
    #: KubeSpawner traits from the scenario; they override the harness defaults below.
    kubespawner: Mapping[str, Any] = field(default_factory=dict)
    #: Other hub config as the scenario writes it: ``"Class.trait" -> value``.
    hub_config: Mapping[str, Any] = field(default_factory=dict)


def check_plain(value: Any, where: str = "value") -> None:
    """Raise ConfigRenderError unless ``value`` is plain data that ``repr`` renders as a literal."""
    if isinstance(value, _PLAIN_SCALARS):
        if isinstance(value, float) and value != value:  # NaN has no literal
            raise ConfigRenderError(f"{where}: NaN is not allowed")
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            check_plain(item, f"{where}[{i}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ConfigRenderError(f"{where}: dict key {key!r} is not a string")
            check_plain(item, f"{where}[{key!r}]")
        return
    raise ConfigRenderError(f"{where}: {type(value).__name__} is not plain data")


def _plain(value: Any) -> Any:
    """Tuples become lists and mappings become dicts, so the literal is canonical."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _check_name(name: str, what: str) -> None:
    if not (isinstance(name, str) and name.isidentifier() and name.isascii()):
        raise ConfigRenderError(f"{what} {name!r} is not a Python identifier")


def harness_defaults(inp: HubConfigInput) -> dict[str, dict[str, Any]]:
    """The config every deployed hub gets before the scenario's own values."""
    return {
        "JupyterHub": {
            "authenticator_class": "jupyterhub.auth.DummyAuthenticator",
            "spawner_class": "kubespawner.KubeSpawner",
            "allow_named_servers": True,
            "cleanup_servers": False,
            "hub_bind_url": "http://:8081",
            "hub_connect_url": "http://hub:8081",
            "db_url": f"sqlite:///{DATA_DIR}/jupyterhub.sqlite",
            "cookie_secret_file": f"{DATA_DIR}/jupyterhub_cookie_secret",
        },
        "ConfigurableHTTPProxy": {"should_start": False, "api_url": "http://proxy-api:8001"},
        "Authenticator": {"allow_all": True},
        "KubeSpawner": {
            "namespace": inp.namespace,
            "image": inp.singleuser_image,
            "image_pull_policy": inp.pull_policy,
            "cmd": ["jupyterhub-singleuser"],
            "uid": 1000,
            "fs_gid": 100,
            "start_timeout": 180,
            "http_timeout": 120,
            "delete_grace_period": 1,
        },
    }


#: The part of ``harness_defaults`` (and of the file's tail) the harness cannot do without: how the
#: hub is reached (proxy API, hub URLs, base URL), how it is driven (the harness service and its admin
#: role, an authenticator that needs nothing external), what keeps its state across restarts (DB,
#: cookie secret, cleanup_servers off) and what a user pod must run (namespace, the cluster's image,
#: jupyterhub-singleuser). Config derived from z2jh chart values never overrides these: a chart's
#: ``hub.config`` (the chart's own default sets ``JupyterHub.authenticator_class: dummy``) or an admin's
#: production values would otherwise leave a hub the harness cannot deploy or drive. Everything else
#: the chart sets (``allow_named_servers``, ``uid``/``fs_gid``, storage) wins over the harness defaults.
HARNESS_ESSENTIALS: dict[str, frozenset[str]] = {
    "JupyterHub": frozenset(
        {
            "authenticator_class",
            "spawner_class",
            "cleanup_servers",
            "hub_bind_url",
            "hub_connect_url",
            "hub_ip",
            "hub_port",
            "base_url",
            "db_url",
            "cookie_secret_file",
            "services",
            "load_roles",
        }
    ),
    "ConfigurableHTTPProxy": frozenset({"should_start", "api_url", "auth_token"}),
    "KubeSpawner": frozenset({"namespace", "image", "image_pull_policy", "cmd"}),
}


def is_essential(section: str, trait: str) -> bool:
    """Whether ``Class.trait`` is one the harness keeps over chart-derived config."""
    return trait in HARNESS_ESSENTIALS.get(section, frozenset())


def merged_config(inp: HubConfigInput) -> dict[str, dict[str, Any]]:
    """Harness defaults, then the scenario's KubeSpawner traits, then its other sections."""
    config = harness_defaults(inp)
    settings: list[tuple[str, str, Any]] = [("KubeSpawner", t, v) for t, v in inp.kubespawner.items()]
    for dotted, value in inp.hub_config.items():
        section, _, trait = str(dotted).partition(".")
        if not trait:
            raise ConfigRenderError(f"hub_config key {dotted!r} is not of the form 'Class.trait'")
        settings.append((section, trait, value))
    for section, trait, value in settings:
        _check_name(section, "config class")
        _check_name(trait, f"{section} trait")
        check_plain(value, f"{section}.{trait}")
        config.setdefault(section, {})[trait] = _plain(value)
    return config


def render_hub_config(inp: HubConfigInput) -> str:
    """Return the text of ``jupyterhub_config.py``."""
    config = merged_config(inp)
    literal = pprint.pformat(config, indent=1, width=100, sort_dicts=True)
    return f"""\
# Rendered by jupyterhub-storage-conformance. Every value below is a Python literal.
import os

from traitlets.config import Config

c = get_config()  # noqa: F821

_CONFIG = {literal}

c.merge(Config(_CONFIG))
# The harness drives the hub as a service holding the admin role; its token comes from a Secret.
c.JupyterHub.services = [{{"name": {HARNESS_SERVICE!r}, "api_token": os.environ[{HARNESS_TOKEN_ENV!r}]}}]
c.JupyterHub.load_roles = [{{"name": "admin", "services": [{HARNESS_SERVICE!r}]}}]
"""
