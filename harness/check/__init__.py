"""``jhsc check``: an admin's own storage config (z2jh values or ``c.KubeSpawner`` traits) run through
the library's behaviour checks, with the findings in plain words.

- ``inputs``: read and validate the admin's files (one clear line per problem, never exec);
- ``derive``: the scenarios that exercise that config (slug edge cases, named servers, restarts,
  deletion, the planned upgrade), plus the library scenarios marked ``check: {parameterised: true}``;
- ``findings``: what the run observed, as sentences (PVC names, deletion, upgrade, hazards);
- ``cli``: the command: derive, run the scenarios through pytest and the plugin, write the report.
"""
