"""`iconctl status` against real simulator nodes and agents on loopback."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_iconctl
from tests.integration.simagent import start_agent, start_sim, wait_for

pytestmark = pytest.mark.timeout(120)

LOOP = ("--listen", "127.0.0.1:0")
FAST = ("--poll-interval", "0.1", "--reference-interval", "0.1", "--rise", "1", "--fall", "1")


def _status(*args: str):
    return run_iconctl("status", *args, "--timeout", "3", timeout=60)


def test_ready_fleet_exits_0_with_heights_and_lag(tmp_path) -> None:
    with start_sim(*LOOP, "--block-interval", "0.2") as ref, \
            start_sim(*LOOP, "--block-interval", "0.2", "--lag", "3") as node, \
            start_agent("--node", node.info["url"], *LOOP, *FAST) as agent:  # fmt: skip
        wait_for(lambda: _status("--agent", agent.info["url"]).returncode == 0, timeout=20)
        result = _status(
            "--endpoint", f"us-east-1={node.info['url']}",
            "--agent", f"us-east-1={agent.info['url']}", "--reference", ref.info["url"], "--json",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert data["regions"] == {"us-east-1": "ready"}
        endpoint = next(t for t in data["targets"] if t["kind"] == "endpoint")
        assert endpoint["height"] > 0 and 1 <= endpoint["lag"] <= 30  # started later, 3 behind
        assert endpoint["latency_ms"] > 0
        assert data["references"][0]["up"] is True
        table = _status("--endpoint", node.info["url"], "--reference", ref.info["url"])
        assert table.returncode == 0 and "ready" in table.stdout


def test_region_without_ready_node_exits_7(tmp_path) -> None:
    with start_sim(*LOOP, "--block-interval", "0.2") as healthy, \
            start_sim(*LOOP, "--admin-state", "stopped") as stopped, \
            start_agent("--node", healthy.info["url"], *LOOP, *FAST) as good, \
            start_agent("--node", stopped.info["url"], *LOOP, *FAST) as bad:  # fmt: skip
        wait_for(lambda: _status("--agent", good.info["url"]).returncode == 0, timeout=20)
        result = _status(
            "--agent", f"eu-central-1={good.info['url']}",
            "--agent", f"asia-northeast1={bad.info['url']}", "--json",
        )  # fmt: skip
        assert result.returncode == 7, result.stderr
        assert "no ready node in: asia-northeast1" in result.stderr
        data = json.loads(result.stdout)
        assert data["regions"] == {"eu-central-1": "ready", "asia-northeast1": "not ready"}
        reason = next(t["reason"] for t in data["targets"] if t["url"] == bad.info["url"])
        assert "stopped" in reason


def test_unreachable_endpoint_is_not_ready() -> None:
    result = _status("--endpoint", "http://127.0.0.1:9/api/v3", "--json")
    assert result.returncode == 7
    target = json.loads(result.stdout)["targets"][0]
    assert target["up"] is False and target["reason"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--endpoint", "ftp://example"), 3, "expected [REGION=]http"),
        ((), 2, "nothing to check"),
    ],
)
def test_bad_input(args, code, message, tmp_path) -> None:
    result = run_iconctl("status", *args, cwd=tmp_path)
    assert result.returncode == code and message in result.stderr
    assert "Traceback" not in result.stderr
