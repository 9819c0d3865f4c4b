"""One module per step kind, each with one function: ``run(item, ctx) -> note`` (chainsaw's operations).

``run`` raises ``CheckFailed`` (or a hub/timeout error) when the step fails and ``StepSkipped`` when
it cannot run here; the note it returns goes on the step's progress line. The runner is a loop over
``RUNNERS``; adding a step kind means its body model (``harness/scenario/bodies.py`` or a neighbour)
and its entry in ``STEP_BODIES`` (``harness/scenario/steps.py``), its module here and its tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.steps import (
    create_pv,
    create_pvc,
    delete_pod,
    delete_pvc,
    delete_server,
    delete_user,
    expect_file,
    expect_mount,
    expect_pvc,
    expect_pvcs,
    expect_spawn_failure,
    observe,
    resize_pvc,
    restart_cluster,
    restart_hub,
    start,
    stop,
    upgrade_chart,
    write_file,
)
from harness.steps.context import RunContext, StepContext, StepSkipped

StepRunner = Callable[[Any, StepContext], str]

#: Step kind -> the function that executes it.
RUNNERS: dict[str, StepRunner] = {
    "start": start.run,
    "stop": stop.run,
    "write_file": write_file.run,
    "expect_file": expect_file.run,
    "expect_pvc": expect_pvc.run,
    "expect_pvcs": expect_pvcs.run,
    "expect_mount": expect_mount.run,
    "expect_spawn_failure": expect_spawn_failure.run,
    "restart_hub": restart_hub.run,
    "upgrade_chart": upgrade_chart.run,
    "restart_cluster": restart_cluster.run,
    "delete_server": delete_server.run,
    "delete_user": delete_user.run,
    "delete_pvc": delete_pvc.run,
    "delete_pod": delete_pod.run,
    "resize_pvc": resize_pvc.run,
    "create_pv": create_pv.run,
    "create_pvc": create_pvc.run,
    "observe": observe.run,
}

__all__ = ["RUNNERS", "RunContext", "StepContext", "StepRunner", "StepSkipped"]
