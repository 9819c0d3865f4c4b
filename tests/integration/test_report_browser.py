"""The HTML report in a real browser: Debian's chromium, headless, on the fixed results set.

Checks what a person sees: every matrix cell, one failure expanded from its link (``#cell=<id>``),
a click that opens and closes a cell (through the DevTools protocol), and a screenshot saved to
``reports/report.png`` for a human to look at. The page must render with every host unresolvable:
it is one self-contained file. ``.ci/run`` installs chromium; elsewhere the tests skip without it,
but on CI (``CI=true``) a missing chromium fails them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from harness.report.build import Written, build_report
from harness.results import Verdict

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "unit" / "report_golden" / "results"
SCREENSHOT = ROOT / "reports" / "report.png"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # nothing may be fetched: every host name fails to resolve
    "--host-resolver-rules=MAP * ~NOTFOUND",
]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(
            "chromium is not installed on this CI machine; .ci/run installs it (apt-get install chromium)"
        )
    pytest.skip("chromium is not installed (apt-get install chromium; .ci/run installs it on CI)")


@pytest.fixture(scope="module")
def chromium() -> str:
    return _chromium()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Written:
    reports = tmp_path_factory.mktemp("reports")
    shutil.copytree(GOLDEN, reports / "results")
    return build_report(reports)


def _failure_id(report: Written) -> str:
    return next(c.id for c in report.matrix.ordered_cells() if c.verdict is Verdict.FAIL and c.bundle)


def _run(chromium: str, *args: str) -> str:
    with tempfile.TemporaryDirectory(prefix="jhsc-chromium-") as profile:
        done = subprocess.run(
            [chromium, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class _Page(HTMLParser):
    """The matrix cells and detail panels of a dumped DOM, with their attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[dict[str, str | None]] = []
        self.details: list[dict[str, str | None]] = []
        self.text: list[str] = []
        self._in_open_detail = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        if tag == "a" and "cell" in classes:
            self.cells.append(found)
        if tag == "article" and "detail" in classes:
            self.details.append(found)
            self._in_open_detail = 0 if "hidden" in found else 1
        elif self._in_open_detail and tag == "a":
            self.text.append(f"<a href={found.get('href')}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self._in_open_detail = 0

    def handle_data(self, data: str) -> None:
        if self._in_open_detail:
            self.text.append(data)


def test_every_cell_and_the_linked_failure_are_shown(chromium: str, report: Written) -> None:
    chosen = _failure_id(report)
    dom = _run(chromium, "--dump-dom", f"{report.html.as_uri()}#cell={chosen}")
    page = _Page()
    page.feed(dom)
    assert len(page.cells) == len(report.matrix.cells)
    assert {c["data-cell"] for c in page.cells} == {c.id for c in report.matrix.cells.values()}
    assert [c["data-cell"] for c in page.cells if c["aria-expanded"] == "true"] == [chosen]
    assert [d["data-cell"] for d in page.details if "hidden" not in d] == [chosen]
    cell = next(c for c in report.matrix.cells.values() if c.id == chosen)
    shown = " ".join(page.text)
    assert cell.reason and cell.reason in shown
    assert cell.failure and cell.failure.location in shown
    assert f"<a href={cell.bundle}/>".replace("[", "%5B").replace("]", "%5D") in shown
    for step in cell.steps:
        assert step.label in shown


class _DevTools:
    """Just enough of the DevTools protocol to load a page, run a script and read a value."""

    def __init__(self, url: str) -> None:
        import websocket

        self.socket = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.next_id = 0

    def call(self, method: str, **params: Any) -> Any:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return message["result"]

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")


@pytest.fixture
def devtools(chromium: str, tmp_path: Path) -> Iterator[_DevTools]:
    profile = tmp_path / "profile"
    browser = subprocess.Popen(
        [chromium, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not port_file.is_file() or not port_file.read_text().strip():
            assert browser.poll() is None, "chromium exited before opening its DevTools port"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port in 60s"
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as answer:
            pages = [t for t in json.load(answer) if t["type"] == "page"]
        client = _DevTools(pages[0]["webSocketDebuggerUrl"])
        try:
            yield client
        finally:
            client.socket.close()
    finally:
        browser.terminate()
        try:
            browser.wait(timeout=30)
        except subprocess.TimeoutExpired:
            browser.kill()
            browser.wait()


def test_a_click_opens_a_cell_and_a_second_click_closes_it(devtools: _DevTools, report: Written) -> None:
    devtools.call("Page.navigate", url=report.html.as_uri())
    deadline = time.monotonic() + 30
    while (
        devtools.evaluate("document.readyState + (document.querySelector('a.cell') ? '+' : '')")
        != "complete+"
    ):
        assert time.monotonic() < deadline, "the report did not load"
        time.sleep(0.1)
    state = (
        "JSON.stringify([location.hash,"
        " [...document.querySelectorAll('.detail:not([hidden])')].map(d => d.dataset.cell),"
        " [...document.querySelectorAll('a.cell[aria-expanded=true]')].map(a => a.dataset.cell)])"
    )
    assert json.loads(devtools.evaluate(state)) == ["", [], []]
    chosen = _failure_id(report)
    click = f"document.querySelector('a.cell[data-cell=\"{chosen}\"]').click()"
    devtools.evaluate(click)
    assert json.loads(devtools.evaluate(state)) == [f"#cell={chosen}", [chosen], [chosen]]
    devtools.evaluate(click)
    assert json.loads(devtools.evaluate(state)) == ["", [], []]


def test_screenshot_of_an_expanded_failure(chromium: str, report: Written) -> None:
    SCREENSHOT.parent.mkdir(exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    url = f"{report.html.as_uri()}#cell={_failure_id(report)}"
    _run(chromium, "--hide-scrollbars", "--window-size=1400,1000", f"--screenshot={SCREENSHOT}", url)
    data = SCREENSHOT.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
