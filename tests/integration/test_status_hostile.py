"""`iconctl status` and `iconctl statuspage` against a hostile agent on loopback: impossible
numbers, answers that are not HTTP, rich markup and terminal escapes in its reasons, and a
reference that lies about the chain's height."""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers import run_iconctl
from tests.integration.hostile_server import HostileAgent
from tests.integration.simagent import Service, http, wait_for

pytestmark = pytest.mark.timeout(120)

HEALTHY = HostileAgent.HEALTHY_METRICS.format(height=1000)
IMPOSSIBLE_GAUGES = [
    ("icon_node_lag_blocks 0", "icon_node_lag_blocks +Inf"),
    ("icon_node_lag_blocks 0", "icon_node_lag_blocks NaN"),
    ("icon_node_lag_blocks 0", "icon_node_lag_blocks 1e+300"),
    ("icon_node_block_height 1000", "icon_node_block_height +Inf"),
    ("icon_node_block_height 1000", "icon_node_block_height 1e+300"),
    ("icon_node_block_height 1000", "icon_node_block_height -7"),
    ("icon_node_last_block_age_seconds 1.5", "icon_node_last_block_age_seconds -Inf"),
]
IMPOSSIBLE_BLOCKS = [
    {"height": float("inf"), "time_stamp": 1},
    {"height": float("nan"), "time_stamp": 1},
    {"height": 10, "time_stamp": float("inf")},
    {"height": True, "time_stamp": 1},
    {"height": "0x10", "time_stamp": 1},
    {"height": 2**80, "time_stamp": 1},
    [1, 2],
    "block",
]
# rich markup that does not parse, a screen clear, an OSC 8 hyperlink, a bell, a newline
HOSTILE_REASON = (
    "UNHEALTHY lag [/] [red]red[/red] \x1b[2J"
    "\x1b]8;;http://example.invalid/\x1b\\click\x1b]8;;\x1b\\ \x07 second\nline"
)


def _status(*args: str):
    return run_iconctl("status", *args, "--timeout", "3", timeout=60)


def _no_raw_escapes(text: str) -> None:
    raw = [c for c in text if ord(c) < 32 and c not in "\n" or ord(c) == 127]
    assert not raw, f"control characters reached the terminal: {raw!r}"


@pytest.mark.parametrize(("healthy", "hostile"), IMPOSSIBLE_GAUGES)
def test_status_shows_an_agent_with_impossible_numbers_as_invalid(healthy, hostile):
    with HostileAgent() as agent:
        agent.metrics = HEALTHY.replace(healthy, hostile)
        result = _status("--agent", f"r1={agent.url}", "--json")
        assert "internal error" not in result.stderr
        assert result.returncode == 7, result.stderr  # nothing usable: no ready node in r1
        (target,) = json.loads(result.stdout)["targets"]
        assert target["state"] == "invalid", target
        assert hostile in target["reason"], target
        table = _status("--agent", f"r1={agent.url}")
        assert table.returncode == 7 and "internal error" not in table.stderr
        assert re.search(r"r1 .*invalid", table.stdout), table.stdout


@pytest.mark.parametrize("block", IMPOSSIBLE_BLOCKS, ids=repr)
def test_status_shows_an_endpoint_with_an_impossible_block_as_invalid(block):
    with HostileAgent() as node:
        node.block = block
        result = _status("--endpoint", f"r1={node.url}", "--json")
        assert "internal error" not in result.stderr
        assert result.returncode == 7, result.stderr
        (target,) = json.loads(result.stdout)["targets"]
        assert target["state"] == "invalid" and target["reason"], target


def test_status_shows_an_agent_that_does_not_speak_http_as_invalid():
    with HostileAgent() as agent:
        agent.raw = b"garbage\r\n\r\n"
        result = _status("--agent", f"r1={agent.url}", "--json")
        assert result.returncode == 7 and "internal error" not in result.stderr, result.stderr
        (target,) = json.loads(result.stdout)["targets"]
        assert target["state"] == "invalid" and "HTTP" in target["reason"], target


def test_status_prints_agent_text_as_text_with_control_characters_escaped():
    with HostileAgent() as agent:
        agent.readyz = (503, HOSTILE_REASON)
        result = _status("--agent", f"r1={agent.url}")
        assert result.returncode == 7, result.stderr
        assert "internal error" not in result.stderr
        _no_raw_escapes(result.stdout)
        assert "[/] [red]red[/red]" in result.stdout  # shown, not interpreted
        assert "\\x1b[2J" in result.stdout and "\\x1b]8;;http://example.invalid/" in result.stdout
        data = json.loads(_status("--agent", f"r1={agent.url}", "--json").stdout)
        assert "\x1b" not in data["targets"][0]["reason"]


def test_statuspage_prints_agent_text_as_text_with_control_characters_escaped(tmp_path):
    with HostileAgent() as agent:
        agent.readyz = (503, HOSTILE_REASON)
        site = str(tmp_path / "site")
        result = run_iconctl("statuspage", "--endpoint", f"r1={agent.url}/api/v3",
                             "--agent", f"r1={agent.url}", "--out", site)  # fmt: skip
        assert result.returncode == 0, result.stderr
        _no_raw_escapes(result.stdout)
        assert "[/] [red]red[/red]" in result.stdout
        page = (tmp_path / "site" / "index.html").read_text()
        assert "\x1b" not in page and "\x07" not in page


@pytest.mark.parametrize(("healthy", "hostile"), IMPOSSIBLE_GAUGES[:4])
def test_statuspage_shows_impossible_agent_numbers_instead_of_crashing(tmp_path, healthy, hostile):
    with HostileAgent() as agent:
        agent.metrics = HEALTHY.replace(healthy, hostile)
        result = run_iconctl("statuspage", "--endpoint", f"r1={agent.url}/api/v3",
                             "--agent", f"r1={agent.url}", "--out", str(tmp_path / "site"),
                             "--json")  # fmt: skip
        assert result.returncode == 0, result.stderr
        (region,) = json.loads(result.stdout)["regions"]
        assert region["status"] == "degraded", region
        assert hostile in region["detail"], region


def test_one_lying_reference_does_not_unready_the_fleet():
    with HostileAgent() as node, HostileAgent() as honest, \
            HostileAgent(height=1000 + 10**9) as liar:  # fmt: skip
        both = _status("--endpoint", f"r1={node.url}", "--reference", honest.url,
                       "--reference", liar.url, "--json")  # fmt: skip
        assert both.returncode == 0, both.stdout + both.stderr
        data = json.loads(both.stdout)
        refs = {r["url"]: r for r in data["references"]}
        assert refs[liar.url]["state"] == "ignored" and refs[liar.url]["reason"], refs
        assert refs[honest.url]["state"] == "up"
        assert data["targets"][0]["lag"] == 0
        alone = _status("--endpoint", f"r1={node.url}", "--reference", liar.url, "--json")
        assert alone.returncode == 0, alone.stdout + alone.stderr
        (ref,) = json.loads(alone.stdout)["references"]
        assert ref["state"] == "ignored" and "beyond" in ref["reason"], ref
        table = _status("--endpoint", f"r1={node.url}", "--reference", liar.url)
        assert re.search(r"reference .*ignored", table.stdout), table.stdout


def test_a_real_lag_still_counts_against_one_honest_reference():
    # the node's last block is old (it is stuck), so the reference 200 blocks on is plausible
    with HostileAgent(height=800) as node, HostileAgent() as honest:
        node.block = {"height": 800, "time_stamp": 1}  # stuck since 1970
        result = _status("--endpoint", f"r1={node.url}", "--reference", honest.url, "--json")
        assert result.returncode == 7, result.stdout
        data = json.loads(result.stdout)
        assert data["references"][0]["state"] == "up"
        assert data["targets"][0]["lag"] == 200


def test_serve_keeps_rebuilding_when_an_agent_turns_hostile(tmp_path):
    out = tmp_path / "site"
    with HostileAgent() as agent, Service(
        "statuspage", "--endpoint", f"r1={agent.url}/api/v3", "--agent", f"r1={agent.url}",
        "--out", str(out), "--serve", "--listen", "127.0.0.1:0", "--interval", "5",
    ) as page:  # fmt: skip
        samples = lambda: len(json.loads((out / "history.json").read_text()))  # noqa: E731

        def region() -> dict:
            return json.loads(http("GET", page.info["url"] + "status.json")[1])["regions"][0]

        assert samples() == 1 and region()["status"] == "operational"
        agent.metrics = HEALTHY.replace("icon_node_lag_blocks 0", "icon_node_lag_blocks +Inf")
        wait_for(lambda: samples() >= 3, timeout=25, message="two rebuilds with a hostile agent")
        assert region()["status"] == "degraded" and "+Inf" in region()["detail"]
        agent.healthy()
        wait_for(lambda: region()["status"] == "operational", timeout=15, message="recovery")
        assert page.proc.poll() is None


def test_the_serve_loop_outlives_a_rebuild_that_fails_unforeseen_and_says_so(tmp_path, caplog):
    import threading

    from iconctl.health import Thresholds
    from iconctl.statuspage.probe import Result, Target
    from iconctl.statuspage.server import StatusServer
    from iconctl.statuspage.site import build

    out = tmp_path / "site"
    target = Target("r1", "http://127.0.0.1:9/api/v3")
    good = [Result("r1", target.endpoint, "operational", "", height=1000)]
    calls: list[int] = []

    def probe() -> list[Result]:
        calls.append(1)
        if len(calls) in (1, 3):
            raise RuntimeError("a bug nobody foresaw")
        return good

    def write(results, record, notice):  # noqa: ANN001
        return build([target], Thresholds(), out, results=results, record=record, notice=notice)

    write(good, True, "")
    server = StatusServer(out, "127.0.0.1", 0, probe=probe, write=write, interval_s=0.05)
    try:
        timer = threading.Thread(target=server._timer, daemon=True)
        timer.start()
        wait_for(lambda: len(calls) >= 4, timeout=10, message="the loop going on after a failure")
        server.stopping.set()
        timer.join(5)
        assert "a bug nobody foresaw" in caplog.text
        assert json.loads((out / "status.json").read_text())["notice"] == ""  # recovered
        calls.clear()
        server.rebuild()  # fails once more: the page says so, over the last figures
        status = json.loads((out / "status.json").read_text())
        assert "latest check failed" in status["notice"]
        assert status["regions"][0]["status"] == "operational"
        assert "latest check failed" in (out / "index.html").read_text()
    finally:
        server.httpd.server_close()
