"""Root conftest of the harness's own repository (not shipped: host repos get the entry-point plugin).

* ``pytester`` is enabled here because the plugin's own tests run pytest inside pytest.
* When the package is not installed (a bare clone), the plugin is loaded from the source tree;
  when it is installed, its ``pytest11`` entry point already loaded it and loading it twice would fail.
"""

from __future__ import annotations

from importlib.metadata import entry_points


def _plugin_installed() -> bool:
    return any(ep.value == "harness.plugin" for ep in entry_points(group="pytest11"))


pytest_plugins = ["pytester"] if _plugin_installed() else ["pytester", "harness.plugin"]
