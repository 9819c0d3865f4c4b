"""The statistics the benchmark reports are built from (pure logic; the benchmarks are not tests)."""

from __future__ import annotations

import pytest
from benchlib import ratio, summary


def test_summary_median_and_nearest_rank_p90() -> None:
    samples = [float(x) for x in range(1, 11)]  # 1..10
    got = summary(list(reversed(samples)))
    assert got["n"] == 10
    assert got["median_s"] == 5.5
    assert got["p90_s"] == 9.0  # nearest rank: ceil(0.9 * 10) = 9th smallest
    assert (got["min_s"], got["max_s"]) == (1.0, 10.0)
    assert got["samples_s"] == list(reversed(samples)), "samples keep their run order"


def test_summary_of_few_samples_takes_the_largest_as_p90() -> None:
    assert summary([0.2, 0.1, 0.3])["p90_s"] == 0.3
    assert summary([0.25])["p90_s"] == 0.25


def test_summary_rounds_to_tenths_of_milliseconds() -> None:
    assert summary([0.000123456])["median_s"] == 0.0001


def test_summary_refuses_no_samples() -> None:
    with pytest.raises(ValueError):
        summary([])


def test_ratio_is_of_medians() -> None:
    assert ratio([1.0, 2.0, 100.0], [0.5, 1.0, 0.1]) == 4.0


def test_http_answers_as_jupyterhub_waits_for_a_server() -> None:
    """Any answer below 500 counts and a redirect is not followed (wait_for_http_server); a 5xx or a
    refused connection does not."""
    import http.server
    import threading

    from benchlib import free_port, http_answers

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            codes = {"/redirect": 302, "/missing": 404, "/broken": 503}
            self.send_response(codes[self.path])
            if self.path == "/redirect":
                self.send_header("Location", "/broken")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert http_answers(f"{base}/redirect") and http_answers(f"{base}/missing")
        assert not http_answers(f"{base}/broken")
    finally:
        server.shutdown()
    assert not http_answers(f"http://127.0.0.1:{free_port()}/")
