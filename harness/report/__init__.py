"""The conformance report: results files per run, merged into the matrix people read.

Flow: the pytest plugin hands each finished cell to ``collect.ResultsCollector`` (on the xdist
controller, the records travel on the test reports), which writes ``reports/results/<session>.json``
(``results.py``, schema ``results.schema.json``) and, at the end of the run, calls
``build.build_report``: ``merge.py`` merges every results file into one ``Matrix``, rendered as
``html.py`` (``index.html``), ``markdown.py`` (``summary.md``), ``junit.py`` (JUnit XML) and
``terminal.py`` (the lines at the end of the pytest output). ``python -m harness.report`` (``nox -s
report``) runs the same build on its own. ``cells.py`` holds the per-cell record and verdict rules.
"""
