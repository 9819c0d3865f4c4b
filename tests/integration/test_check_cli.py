"""``jhsc check`` end to end on the embedded cluster: a z2jh 4.x values file with named servers and one
claim for everyone gives the plain-words findings, the shared-claim HAZARDs and exit code 3.

Two ways to share: a dynamic claim everyone's template names (``pvcNameTemplate: claim-shared``: the
sharing and the kubespawner#880 deletion hazards), and the shared *static* claim of the issue
(``storage.type: static``, which jhsc check makes first as the admin did: a PV and a PVC bound to it),
whose users share it at its root; deleting a user keeps a static claim.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.check import cli

ROOT = Path(__file__).resolve().parents[2]
VALUES = ROOT / "fixtures" / "check" / "shared-claim-values.yaml"
STATIC_VALUES = ROOT / "fixtures" / "check" / "shared-static-claim-values.yaml"

pytestmark = [pytest.mark.slow, pytest.mark.root]


def test_shared_claim_values_give_the_hazards(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reports = tmp_path / "reports"
    argv = ["check", "--values", str(VALUES), "--chart", "4.4.0", "--users", "dot.user", "--no-library"]
    code = cli.main([*argv, "--reports-dir", str(reports)])
    out = capsys.readouterr().out
    report = (reports / "check.md").read_text(encoding="utf-8")
    assert code == 3, out + (reports / "check" / "run.log").read_text(encoding="utf-8")[-4000:]
    assert report.startswith("# jhsc check: z2jh values")
    assert "## Your users' PVCs will be named" in report
    assert "`dot.user` → `claim-shared` (default server); `claim-shared` (server `work`)" in report
    assert "HAZARD: users `alice`, `bob`, `dot.user` all mount the claim `claim-shared`" in report
    assert "HAZARD: deleting user `bob` deleted `claim-shared`" in report and "kubespawner#880" in report
    assert "files survived a server stop/start and a hub restart" in report
    assert "Deleting user `dot.user` deletes `claim-shared`." in report
    assert "| **check-two-users** |" in report  # the matrix follows the findings
    assert (reports / "index.html").is_file()


def test_a_shared_static_claim_gives_the_sharing_hazard(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = tmp_path / "reports"
    argv = [
        "check",
        "--values",
        str(STATIC_VALUES),
        "--chart",
        "4.4.0",
        "--users",
        "dot.user",
        "--no-library",
    ]
    code = cli.main([*argv, "--reports-dir", str(reports)])
    out = capsys.readouterr().out
    report = (reports / "check.md").read_text(encoding="utf-8")
    assert code == 3, out + (reports / "check" / "run.log").read_text(encoding="utf-8")[-4000:]
    assert "`dot.user` → `shared-home` (default server); `shared-home` (server `work`)" in report
    assert "HAZARD: users `alice`, `bob`, `dot.user` all mount the claim `shared-home`" in report
    assert "deleting user `bob` deleted" not in report  # a static claim outlives its users
    assert "files survived a server stop/start and a hub restart" in report
