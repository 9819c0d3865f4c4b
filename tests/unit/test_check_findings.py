"""``jhsc check``: the derived scenarios and the plain-words findings, from synthetic results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.check.derive import NAMED_SERVER, derive, scenario_name, write
from harness.check.findings import exit_code, findings, render
from harness.check.inputs import TraitsInput, read_values
from harness.report.cells import Cell, Column
from harness.results import StepRecord, StepStatus, Verdict
from harness.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[2]
DEFAULT, WORK = "claim-dot-user---516c5206", "claim-dot-user---516c5206--work"


def _values(tmp_path: Path, text: str, upgrade: str | None = None) -> Any:
    path = tmp_path / "values.yaml"
    path.write_text(text, encoding="utf-8")
    return read_values(path, "3.3.8" if upgrade else "4.4.0", upgrade)


def _kinds(data: dict[str, Any]) -> list[str]:
    return [next(k for k in item if k in ("start", "stop", "observe", "write_file", "expect_file",
                                           "restart_hub", "upgrade_chart", "delete_server", "delete_user"))
            for item in data["steps"]]  # fmt: skip


# ------------------------------------------------------------------------------------ derivation
def test_users_named_servers_restart_deletion_and_upgrade(tmp_path: Path) -> None:
    source = _values(tmp_path, "hub:\n  allowNamedServers: true\n", upgrade="4.4.0")
    derived = derive(source, ["dot.user", "x" * 70])
    assert [(d.role, d.user) for d in derived] == [
        ("pair", ""), ("lifecycle", "dot.user"), ("upgrade", "dot.user"), ("upgrade-running", "dot.user"),
        ("lifecycle", "x" * 70), ("upgrade", "x" * 70), ("upgrade-running", "x" * 70),
    ]  # fmt: skip
    lifecycle = derived[1].data
    assert lifecycle["users"] == [{"name": "dot.user", "named_servers": [NAMED_SERVER]}]
    assert lifecycle["z2jh"]["chart"] == "3.3.8"
    kinds = _kinds(lifecycle)
    assert {"restart_hub", "delete_server", "delete_user"} <= set(kinds)
    assert kinds.index("restart_hub") < kinds.index("delete_user")
    upgrade = derived[2].data
    steps = [item for item in upgrade["steps"] if "upgrade_chart" in item]
    assert steps == [
        {"upgrade_chart": {"chart": "4.4.0", "values_file": str((tmp_path / "values.yaml").resolve())}}
    ]
    assert all(len(d.name) <= 40 for d in derived)


def test_no_named_servers_no_upgrade(tmp_path: Path) -> None:
    derived = derive(_values(tmp_path, "{}\n"), ["alice"])
    assert [d.role for d in derived] == ["pair", "lifecycle"]
    assert "delete_server" not in _kinds(derived[1].data)


def test_kubespawner_upgrade_restarts_the_hub_with_the_release(tmp_path: Path) -> None:
    source = TraitsInput(tmp_path / "s.yaml", {"storage_capacity": "1Gi"}, {}, "6.2.0", "7.1.0")
    upgrade = next(d for d in derive(source, ["dot.user"]) if d.role == "upgrade").data
    assert {"restart_hub": {"kubespawner": "7.1.0"}} in upgrade["steps"]
    assert upgrade["kubespawner"] == {"storage_capacity": "1Gi"}
    assert upgrade["hub_config"]["JupyterHub.upgrade_db"] is True


def test_generated_files_are_valid_scenarios_and_the_library_template_applies(tmp_path: Path) -> None:
    source = _values(tmp_path, "singleuser:\n  storage:\n    dynamic:\n      pvcNameTemplate: claim-shared\n")
    library = [load_scenario(path) for path in sorted((ROOT / "scenarios").glob("*.yaml"))]
    derived = derive(source, ["alice", "user@example.com"], library)
    templated = [d for d in derived if d.role == "library"]
    assert [d.name for d in templated] == ["check-persistence-restarts"]
    data = templated[0].data
    assert "kubespawner" not in data and data["z2jh"]["chart"] == "4.4.0"
    kinds = {next(iter(k for k in item if k not in ("kubespawner", "jupyterhub"))) for item in data["steps"]}
    assert kinds <= {"start", "stop", "write_file", "expect_file", "restart_hub", "restart_cluster"}
    assert {"restart_hub": {"kubespawner": "7.1.0"}, "kubespawner": "<7"} not in data["steps"]
    for path in write(derived, tmp_path / "gen"):
        assert load_scenario(path).name == path.stem


def test_scenario_names_are_dns_labels() -> None:
    assert scenario_name("user@example.com") == "check-user-example-com"
    long = scenario_name("x" * 70, "-upgrade")
    assert len(long) <= 40 and long.endswith("-70chars-upgrade")


# -------------------------------------------------------------------------------------- findings
def _observe(
    label: str, pvcs: dict[str, str], user: str | None = None, server: str = "", mounts=()
) -> StepRecord:
    note: dict[str, Any] = {"label": label, "pvcs": pvcs}
    if user is not None:
        note.update(user=user, server=server, mounts=list(mounts))
    return StepRecord("1", "observe", "observe", "x.yaml:1:3", StepStatus.PASSED, note=json.dumps(note))


def _cell(name: str, steps: list[StepRecord], verdict: Verdict = Verdict.PASS) -> Cell:
    column = Column("7.0.0", "5.2.1", "embedded", "v1.20.15")
    return Cell(name, f"{name}.yaml", "", [], name, column, verdict, steps=steps)


def _passed(kind: str) -> StepRecord:
    return StepRecord("2", kind, kind, "x.yaml:2:3", StepStatus.PASSED)


def test_shared_claim_names_deletion_and_hazards(tmp_path: Path) -> None:
    source = _values(tmp_path, "hub:\n  allowNamedServers: true\n")
    derived = derive(source, ["dot.user"])
    shared = {"claim-shared": "alice"}
    both = {DEFAULT: "dot.user", WORK: "dot.user"}
    cells = [
        _cell("check-two-users", [
            _observe("started", shared, "alice", mounts=["claim-shared"]),
            _observe("started", shared, "bob", mounts=["claim-shared"]),
            _observe("after deleting bob", {}),
        ]),
        _cell("check-dot-user", [
            _observe("started", {DEFAULT: "dot.user"}, "dot.user", mounts=[DEFAULT]),
            _observe("started", {}, "dot.user", "work", mounts=[WORK]),
            _passed("expect_file"), _passed("expect_file"),
            _observe("stopped", both),
            _observe("after deleting the named server", both),
            _observe("after deleting the user", {WORK: "dot.user"}),
        ]),
    ]  # fmt: skip
    found = findings(derived, cells, None)
    text = render(found, source.describe())
    assert "## Your users' PVCs will be named" in text
    assert f"`dot.user` → `{DEFAULT}` (default server); `{WORK}` (server `work`)" in text
    assert "HAZARD: users `alice`, `bob` all mount the claim `claim-shared`" in text
    assert "HAZARD: deleting user `bob` deleted `claim-shared`" in text and "kubespawner#880" in text
    assert "Deleting `dot.user`'s named server `work` keeps `claim-dot-user---516c5206--work`" in text
    assert "orphaned claim" in text
    assert f"Deleting user `dot.user` deletes `{DEFAULT}` and keeps `{WORK}`." in text
    assert exit_code(found) == 3


def test_upgrade_to_another_claim_is_a_failure(tmp_path: Path) -> None:
    source = _values(tmp_path, "{}\n", upgrade="4.4.0")
    derived = [d for d in derive(source, ["dot.user"]) if d.role == "upgrade"]
    failed = StepRecord("9", "expect_file", "expect_file dot.user/ f", "x.yaml:9:3", StepStatus.FAILED,
                        note="file not found")  # fmt: skip
    cell = _cell(derived[0].name, [
        _observe("before the upgrade", {}, "dot.user", mounts=["claim-dot-2euser"]),
        _observe("after the upgrade", {}, "dot.user", mounts=["claim-dot-user---516c5206"]),
        failed,
    ], Verdict.FAIL)  # fmt: skip
    found = findings(derived, [cell], "chart 4.4.0")
    text = render(found, source.describe())
    assert (
        f"After the upgrade to chart 4.4.0, `dot.user`'s default server mounts `{DEFAULT}` "
        "instead of `claim-dot-2euser`"
    ) in text
    assert "kubespawner#744" in text and exit_code(found) == 1


def test_all_well_is_exit_0(tmp_path: Path) -> None:
    derived = [d for d in derive(_values(tmp_path, "{}\n"), ["alice"]) if d.role == "lifecycle"]
    cell = _cell("check-alice", [
        _observe("started", {"claim-alice": "alice"}, "alice", mounts=["claim-alice"]),
        _observe("stopped", {"claim-alice": "alice"}),
        _observe("after deleting the user", {}),
    ])  # fmt: skip
    found = findings(derived, [cell], None)
    assert exit_code(found) == 0
    assert "Deleting user `alice` deletes `claim-alice`." in render(found, "x")


def test_a_scenario_that_did_not_run_fails(tmp_path: Path) -> None:
    derived = derive(_values(tmp_path, "{}\n"), ["alice"])
    found = findings(derived, [], None)
    assert exit_code(found) == 1 and "`alice` cannot start a server: did not run" in render(found, "x")


def test_running_through_the_upgrade_cites_937(tmp_path: Path) -> None:
    source = TraitsInput(tmp_path / "s.yaml", {"storage_capacity": "1Gi"}, {}, "6.2.0", "7.1.0")
    derived = [d for d in derive(source, ["dot.user"]) if d.role == "upgrade-running"]
    kinds = _kinds(derived[0].data)
    assert kinds.index("restart_hub") < kinds.index("stop"), "the server runs through the upgrade"
    cell = _cell(derived[0].name, [
        _observe("before the upgrade", {}, "dot.user", mounts=["claim-dot-2euser"]),
        _observe("after the upgrade", {}, "dot.user", mounts=[DEFAULT]),
    ], Verdict.FAIL)  # fmt: skip
    text = render(findings(derived, [cell], "KubeSpawner 7.1.0"), source.describe())
    assert "`dot.user`'s default server (running during the upgrade, then stopped and started)" in text
    assert "kubespawner#937" in text


def test_progress_logs_everything_and_shows_one_line_per_cell(tmp_path: Path) -> None:
    import io
    import sys

    from harness.check import progress

    results = tmp_path / "results.json"
    script = (
        "import json, pathlib, sys\n"
        f"p = pathlib.Path({str(results)!r})\n"
        "print('building hub environment')\n"
        "p.write_text(json.dumps({'cells': [1]}))\n"
        "print('a.yaml::a[x] PASSED [50%]')\n"
        "sys.exit(1)\n"
    )
    out = io.StringIO()
    status = progress.run([sys.executable, "-c", script], tmp_path / "run.log", 2, results, out)
    assert status == 1
    assert "building hub environment" in (tmp_path / "run.log").read_text(encoding="utf-8")
    assert out.getvalue() == "[1/2] a.yaml::a[x] PASSED [50%]\n"


def test_a_failure_of_the_named_server_is_not_blamed_on_the_default_one(tmp_path: Path) -> None:
    from harness.report.cells import Failure

    source = _values(tmp_path, "hub:\n  allowNamedServers: true\n", upgrade="4.4.0")
    derived = [d for d in derive(source, ["dot.user"]) if d.role == "upgrade"]
    cell = _cell(derived[0].name, [
        _observe("before the upgrade", {}, "dot.user", mounts=["claim-dot-2euser"]),
        _observe("before the upgrade", {}, "dot.user", "work", mounts=["claim-dot-2euserwork"]),
        _observe("after the upgrade", {}, "dot.user", mounts=["claim-dot-2euser"]),
        _observe("after the upgrade", {}, "dot.user", "work", mounts=["claim-dot-user---516c5206--work"]),
    ], Verdict.FAIL)  # fmt: skip
    cell.failure = Failure("15", "expect_file dot.user/work jhsc-check-dot.user--work.txt", "x:1", "404")
    text = render(findings(derived, [cell], "chart 4.4.0"), source.describe())
    assert "`dot.user`'s default server keeps its claim `claim-dot-2euser` and its files." in text
    assert "`dot.user`'s server `work` mounts `claim-dot-user---516c5206--work` instead of" in text
    assert "z2jh#3574" in text


# ------------------------------------------------------------------------------- a static claim
STATIC = "singleuser:\n  storage:\n    type: static\n    static:\n      pvcName: shared-home\n"


def test_a_static_claim_is_made_first_in_every_scenario(tmp_path: Path) -> None:
    source = _values(tmp_path, STATIC + "    capacity: 2Gi\n")
    library = [load_scenario(path) for path in sorted((ROOT / "scenarios").glob("*.yaml"))]
    derived = derive(source, ["alice"], library)
    modes = ["ReadWriteMany"]
    setup = [
        {"create_pv": {"name": "shared-home", "size": "2Gi", "access_modes": modes}},
        {
            "create_pvc": {
                "name": "shared-home",
                "size": "2Gi",
                "access_modes": modes,
                "volume_name": "shared-home",
            }
        },
    ]
    assert derived and all(d.data["steps"][:2] == setup for d in derived)
    for path in write(derived, tmp_path / "gen"):
        load_scenario(path)
    assert all("create_pv" not in d.data["steps"][0] for d in derive(_values(tmp_path, "{}\n"), ["alice"]))


def _sharing_text(tmp_path: Path, sub_paths: dict[str, str]) -> str:
    derived = derive(_values(tmp_path, STATIC), ["dot.user"])
    steps = []
    for user, sub in sub_paths.items():
        record = _observe("started", {"shared-home": ""}, user, mounts=["shared-home"])
        note = json.loads(record.note)
        record.note = json.dumps({**note, "sub_paths": {"shared-home": [sub]}})
        steps.append(record)
    return render(findings(derived, [_cell("check-two-users", steps)], None), "x")


def test_users_on_one_static_claim_share_only_where_their_sub_paths_meet(tmp_path: Path) -> None:
    assert "HAZARD" not in _sharing_text(tmp_path, {"alice": "alice", "bob": "bob"})
    assert "HAZARD: users `alice`, `bob` all mount the claim `shared-home`" in _sharing_text(
        tmp_path, {"alice": "", "bob": ""}
    )
    text = _sharing_text(tmp_path, {"alice": "home", "bob": "home/bob", "carol": "carol"})
    assert "HAZARD: users `alice`, `bob` all mount" in text, "a subPath inside another's is shared"
    assert "per-user `subPath`" in text


def test_observe_records_the_sub_paths_of_the_notebook_containers_claims() -> None:
    from harness.steps.observe import mounted_sub_paths

    pod = {
        "spec": {
            "volumes": [
                {"name": "home", "persistentVolumeClaim": {"claimName": "shared-home"}},
                {"name": "cfg", "configMap": {"name": "x"}},
            ],
            "containers": [
                {"volumeMounts": [{"name": "home", "mountPath": "/home/jovyan", "subPath": "alice"},
                                  {"name": "home", "mountPath": "/shared"},
                                  {"name": "cfg", "mountPath": "/c"}]},
                {"volumeMounts": [{"name": "home", "mountPath": "/sidecar", "subPath": "other"}]},
            ],
        }
    }  # fmt: skip
    assert mounted_sub_paths(pod) == {"shared-home": ["alice", ""]}
