"""`iconctl loadtest` with real Locust runs against a JSON-RPC server on loopback."""

from __future__ import annotations

import importlib.util
import json
import re
from xml.etree import ElementTree

import pytest

from tests.helpers import REQUIRE_TOOLS, free_port, run_iconctl
from tests.integration.jsonrpc_standin import StandIn

pytestmark = pytest.mark.timeout(120)

MIX = {"icx_getLastBlock", "icx_getBalance", "icx_call", "icx_getBlockByHeight"}
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(autouse=True)
def _locust():
    # find, never import: importing locust monkey-patches the whole test process (gevent)
    if importlib.util.find_spec("locust") is None:
        message = "required Python module not installed: locust"
        if REQUIRE_TOOLS:
            pytest.fail(message + " (ICONCTL_REQUIRE_TOOLS=1)")
        pytest.skip(message)


def test_a_healthy_endpoint_passes_and_gets_the_whole_method_mix():
    with StandIn() as server:
        result = run_iconctl(
            # 6 s: a loaded machine can spend the first two starting locust, and the
            # sustained rate needs three whole seconds with answers
            "loadtest", "--endpoint", server.url, "--users", "4", "--duration", "6",
            "--p95-ms", "500", "--max-error-rate", "0.01", "--json",
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["passed"] is True and report["breaches"] == []
    assert report["requests"] > 50 and report["failures"] == 0, report
    assert 0 <= report["p50_ms"] <= report["p95_ms"] <= report["p99_ms"] and report["p99_ms"] > 0
    assert report["sustained_rps"] > 0 and report["sustained_users"] >= 1
    latency = report["latency"]
    assert latency["bucket_s"] == 1 and set(latency["methods"]) == MIX | {"batch[3]"}
    assert sum(row[4] for row in latency["total"]) == report["requests"]
    assert all(row[1] <= row[2] <= row[3] for row in latency["total"]), latency["total"]
    # the timeline: one row per second from 0, reaching all 4 users, counting every answer
    timeline = report["timeline"]
    assert timeline[0][0] == 0 and len(timeline) >= 3, timeline
    assert max(row[3] for row in timeline) == 4, timeline
    assert sum(row[1] + row[2] for row in timeline) == report["requests"], timeline
    assert set(report["methods"]) == MIX | {"batch[3]"}
    # what the server saw: every method, batches counted per inner request
    assert set(server.methods) >= MIX
    assert server.methods["icx_getLastBlock"] > report["methods"]["icx_getLastBlock"]["requests"]


def test_the_html_report_plots_latency_over_time_and_per_method(tmp_path):
    html = tmp_path / "reports" / "run.html"
    with StandIn(delay_s=0.005) as server:
        result = run_iconctl(
            "loadtest", "--endpoint", server.url, "--users", "3", "--duration", "4",
            "--html", str(html),
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # no thresholds given: the run is not said to have passed them
    assert "thresholds: passed" not in result.stdout
    assert "thresholds: none given" in result.stdout
    assert "sustained 0.0/s" not in result.stdout and " 0 users" not in result.stdout
    assert re.search(r"method\s+requests\s+failed\s+p50 ms\s+p95 ms\s+p99 ms", result.stdout)
    assert f"report: {html}" in result.stdout
    page = html.read_text()
    assert "<script" not in page
    svgs = [ElementTree.fromstring(svg) for svg in re.findall(r"(?s)<svg\b.*?</svg>", page)]
    assert len(svgs) == 4
    over_time = {p.get("data-series"): p for p in svgs[0].iter(f"{SVG}polyline")}
    assert set(over_time) == {"p50", "p95", "p99"}
    assert len(over_time["p95"].get("points").split()) >= 3  # one point per second
    per_method = {c.get("data-name") for c in svgs[1].iter(f"{SVG}circle")}
    assert per_method == MIX | {"batch[3]"}
    assert [p.get("data-series") for p in svgs[2].iter(f"{SVG}polyline")] == sorted(
        MIX | {"batch[3]"}
    )
    assert not list(tmp_path.glob("reports/.*.tmp"))


def test_a_slow_endpoint_breaks_the_latency_threshold():
    with StandIn(delay_s=0.05) as server:
        result = run_iconctl(
            "loadtest", "--endpoint", server.url, "--users", "2", "--duration", "3",
            "--p95-ms", "20",
        )  # fmt: skip
    assert result.returncode == 7, result.stderr
    assert "thresholds: BROKEN (p95 latency" in result.stdout
    assert "error: threshold broken: p95 latency" in result.stderr
    assert "Traceback" not in result.stderr


def test_failing_requests_break_the_error_rate_and_are_reported():
    with StandIn(fail_every=4) as server:
        result = run_iconctl(
            "loadtest", "--endpoint", server.url, "--users", "2", "--duration", "3",
            "--max-error-rate", "0.05", "--json",
        )  # fmt: skip
    assert result.returncode == 7, result.stderr
    report = json.loads(result.stdout)
    assert report["passed"] is False
    assert 0.15 < report["error_rate"] < 0.35
    assert report["breaches"][0].startswith("error rate")
    assert any("HTTP 500" in error["error"] for error in report["errors"])


def test_an_unreachable_endpoint_is_an_input_error(tmp_path):
    result = run_iconctl("loadtest", "--endpoint", f"http://127.0.0.1:{free_port()}/api/v3")
    assert result.returncode == 3
    assert "did not answer icx_getLastBlock" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--endpoint", "localhost:9000"], "not an http(s) URL"),
        (["--endpoint", "http://127.0.0.1:1/api/v3", "--users", "0"], "--users 0"),
        (["--endpoint", "http://127.0.0.1:1/api/v3", "--max-error-rate", "2"], "between 0 and 1"),
        (["--endpoint", "http://127.0.0.1:1/api/v3", "--html", "."], "--html .: not a file path"),
    ],
)
def test_bad_options_exit_3(args, message):
    result = run_iconctl("loadtest", *args)
    assert result.returncode == 3
    assert message in result.stderr


def test_the_simulator_serves_the_whole_mix_without_errors():
    from tests.integration.simagent import start_sim

    with start_sim("--block-interval", "0.5") as sim:
        result = run_iconctl(
            "loadtest", "--endpoint", sim.info["url"], "--users", "4", "--duration", "4",
            "--max-error-rate", "0", "--json",
        )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout
    report = json.loads(result.stdout)
    assert report["failures"] == 0 and report["requests"] > 50
    assert set(report["methods"]) == MIX | {"batch[3]"}


def test_the_simulators_injected_errors_break_the_error_budget():
    from tests.integration.simagent import start_sim

    with start_sim("--error-rate", "0.2", "--seed", "7") as sim:
        result = run_iconctl(
            "loadtest", "--endpoint", sim.info["url"], "--users", "2", "--duration", "3",
            "--max-error-rate", "0.05", "--json",
        )  # fmt: skip
    report = json.loads(result.stdout)
    assert result.returncode == 7
    assert 0.08 < report["error_rate"] < 0.4


@pytest.fixture
def sim_behind_edge(tmp_path):
    """`iconctl sim` behind the real edge proxy (nginx + njs) on loopback; yields a factory."""
    from tests.helpers import need_tool
    from tests.integration.edge_process import Edge
    from tests.integration.simagent import start_sim

    need_tool("nginx")
    started = []
    with start_sim("--block-interval", "0.5") as sim:

        def edge(**limits) -> str:
            proxy = Edge(tmp_path / f"edge{len(started)}", port=free_port(),
                         upstream=sim.info["url"].split("/")[2], **limits)  # fmt: skip
            started.append(proxy.start())
            return f"http://127.0.0.1:{proxy.port}/api/v3"

        try:
            yield edge
        finally:
            for proxy in started:
                proxy.stop()


def test_the_mix_passes_through_the_edge_proxy(sim_behind_edge):
    url = sim_behind_edge(icon_edge_rate_per_second=100000, icon_edge_rate_burst=100000)
    result = run_iconctl(
        "loadtest", "--endpoint", url, "--users", "3", "--duration", "4",
        "--p95-ms", "1000", "--max-error-rate", "0", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout
    report = json.loads(result.stdout)
    assert report["failures"] == 0 and set(report["methods"]) == MIX | {"batch[3]"}


def test_the_edge_rate_limit_stops_one_greedy_client(sim_behind_edge):
    # the shipped per-client limit (50/s, burst 100) against one client sending hundreds/s:
    # the edge answers 429, and the run fails its error budget (exit 7)
    url = sim_behind_edge()
    result = run_iconctl(
        "loadtest", "--endpoint", url, "--users", "3", "--duration", "4",
        "--max-error-rate", "0.05", "--json",
    )  # fmt: skip
    assert result.returncode == 7, result.stderr + result.stdout
    report = json.loads(result.stdout)
    assert report["error_rate"] > 0.3
    assert any("HTTP 429" in error["error"] for error in report["errors"])
    # what got through is the limit: at most the burst plus 50/s, never the client's full rate
    passed = report["requests"] - report["failures"]
    assert passed <= 100 + 50 * len(report["timeline"]) + 10, report["timeline"]
