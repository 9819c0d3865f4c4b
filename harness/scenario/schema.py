"""The JSON Schema of scenario files, for editors (``# yaml-language-server: $schema=...``).

The schema is generated from the pydantic models so it cannot drift from what the loader accepts;
the committed copy ``scenarios/scenario.schema.json`` is checked by a unit test. Regenerate it with
``python -m harness.scenario.schema > scenarios/scenario.schema.json`` (or ``nox -s schema``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from harness.scenario.kubespawner_traits import KUBESPAWNER_TRAITS
from harness.scenario.models import Scenario
from harness.scenario.steps import STEP_BODIES, STEP_ITEMS

SCHEMA_FILE_NAME = "scenario.schema.json"
#: What the plugin looks for in a YAML file's header to treat it as a scenario.
SCHEMA_HEADER = f"# yaml-language-server: $schema=./{SCHEMA_FILE_NAME}"
#: The header with any relative path to the schema (host repos keep scenarios elsewhere).
_HEADER = re.compile(r"^#\s*yaml-language-server:\s*\$schema=\S*\bscenario\.schema\.json\s*$")
_HEADER_LINES = 5


def has_scenario_header(path: Path) -> bool:
    """Whether one of the first lines of ``path`` is the scenario ``$schema`` comment.

    This is how the plugin tells scenario files from the other YAML a host repository holds.
    """
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            head = [handle.readline() for _ in range(_HEADER_LINES)]
    except OSError:
        return False
    return any(_HEADER.match(line.strip()) for line in head)


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one scenario file."""
    schema = Scenario.model_json_schema(by_alias=True)
    properties = schema["properties"]
    # Editors complete trait names and flag typos; values stay free-form as in jupyterhub_config.py.
    traits = {"enum": sorted(KUBESPAWNER_TRAITS)}
    hub_key = {"pattern": r"^[A-Za-z_]\w*\.[A-Za-z_]\w*$"}
    properties["kubespawner"]["propertyNames"] = traits
    properties["hub_config"]["propertyNames"] = hub_key
    restart = schema["$defs"][STEP_BODIES["restart_hub"].__name__]["properties"]
    restart["kubespawner_set"]["propertyNames"] = traits
    restart["kubespawner_unset"]["items"] = {"type": "string", **traits}
    restart["hub_config_set"]["propertyNames"] = hub_key
    # `- restart_cluster:` (a null body) is what the loader accepts for steps without required fields.
    for kind, body in STEP_BODIES.items():
        if not any(field.is_required() for field in body.model_fields.values()):
            item = schema["$defs"][STEP_ITEMS[kind].__name__]["properties"]
            item[kind] = {"anyOf": [item[kind], {"type": "null"}]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://jupyterhub-storage-conformance/{SCHEMA_FILE_NAME}",
        **schema,
    }


def render_schema() -> str:
    """The schema file's exact text (stable key order, trailing newline)."""
    return json.dumps(scenario_schema(), indent=2) + "\n"


def main() -> None:
    print(render_schema(), end="")


if __name__ == "__main__":
    main()
