"""``nox -s kubespawner-suite``: KubeSpawner's own test suite, unmodified, against the embedded cluster.

The suite is the fidelity check no scenario can replace: upstream wrote it against real clusters,
and a real Kubernetes 1.20 passes all of it (7.1.0: 207 tests, 20 of them on the cluster). Here it
runs from a checkout of the tag (``source``), with its test extras resolved as on the tag's date,
against an embedded cluster whose node has the three images the suite names (``images``);
``run`` ties it together and always stops the cluster.
"""
