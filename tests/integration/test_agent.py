"""`iconctl agent` against real simulators on loopback, one test per health scenario."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from tests.helpers import EXAMPLES, need_tool
from tests.integration.simagent import control, http, start_agent, start_sim, wait_for

pytestmark = pytest.mark.timeout(90)

FAST = (
    "--poll-interval",
    "0.1",
    "--reference-interval",
    "0.1",
    "--timeout",
    "0.5",
    "--rise",
    "2",
    "--fall",
    "2",
)


def base(sim) -> str:
    return sim.info["url"].removesuffix("/api/v3")


def probe(agent, path: str = "/readyz") -> tuple[int, str]:
    status, body = http("GET", agent.info["url"] + path)
    return status, body.decode()


def metrics(agent) -> dict[str, float]:
    text = http("GET", agent.info["url"] + "/metrics")[1].decode()
    return {k: float(v) for k, v in re.findall(r"^([^#\s]\S*) (\S+)$", text, re.M)}


def wait_probe(
    agent, status: int, starts: str = "", path: str = "/readyz", timeout: float = 10
) -> str:
    def check():
        got = probe(agent, path)
        return got if got[0] == status and got[1].startswith(starts) else None

    return wait_for(check, timeout=timeout, message=f"{path} {status} {starts!r}")[1]


@pytest.fixture
def node():
    with start_sim("--block-interval", "0.05", "--start-height", "5000") as sim:
        yield sim


@pytest.fixture
def reference():
    with start_sim("--block-interval", "0.05", "--start-height", "5000") as sim:
        yield sim


def test_in_sync(node, reference):
    with start_agent("--node", base(node), "--reference", reference.info["url"], *FAST) as agent:
        assert wait_probe(agent, 200) == "OK"
        assert probe(agent, "/healthz") == (200, "OK")
        m = metrics(agent)
        assert m["icon_node_ready"] == 1 and m["icon_node_up"] == 1
        assert m["icon_node_block_height"] >= 5000
        assert m["icon_node_lag_blocks"] <= 30  # negative: the reference started later
        assert m[f'icon_reference_block_height{{reference="{reference.info["url"]}"}}'] >= 5000
        assert m["icon_node_peers"] == 8
        assert m['icon_agent_poll_duration_seconds_count{target="node"}'] >= 1
        assert m["icon_node_last_block_age_seconds"] < 5


def test_lagging_then_catching_up(node, reference):
    control(node, "/scenario", {"lag": 200})
    with start_agent(
        "--node", base(node), "--reference", reference.info["url"], "--max-lag-blocks", "50", *FAST
    ) as agent:
        reason = wait_probe(agent, 503, "UNHEALTHY lag")
        assert re.match(r"UNHEALTHY lag \d+ blocks > 50 \(node \d+, reference \d+\)", reason)
        assert metrics(agent)["icon_node_lag_blocks"] > 50
        assert probe(agent, "/healthz") == (200, "OK")  # lagging is alive, just not ready
        control(node, "/scenario", {"lag": 0})
        assert wait_probe(agent, 200) == "OK"


def test_stalled(node, reference):
    with start_agent(
        "--node",
        base(node),
        "--reference",
        reference.info["url"],
        "--max-block-age",
        "1",
        "--max-lag-blocks",
        "1000",
        *FAST,
    ) as agent:
        wait_probe(agent, 200)
        control(node, "/scenario", {"stalled": True})
        reason = wait_probe(agent, 503, "UNHEALTHY last block")
        assert re.match(r"UNHEALTHY last block \d+s old > 1s \(height \d+\)$", reason)
        assert metrics(agent)["icon_node_last_block_age_seconds"] > 1


def test_node_down(node, reference):
    with start_agent("--node", base(node), "--reference", reference.info["url"], *FAST) as agent:
        wait_probe(agent, 200)
        node.stop()
        assert wait_probe(agent, 503) == "UNHEALTHY node not answering: connection refused"
        assert wait_probe(agent, 503, path="/healthz").startswith("UNHEALTHY node not answering")
        m = metrics(agent)
        assert m["icon_node_up"] == 0 and m["icon_node_ready"] == 0
        assert m['icon_agent_polls_total{result="error",target="node"}'] >= 2


def test_node_restart_recovers(node):
    with start_agent("--node", base(node), *FAST) as agent:
        wait_probe(agent, 200)
        control(node, "/restart", {"down_seconds": 1.0})
        wait_probe(agent, 503, "UNHEALTHY node not answering")
        assert wait_probe(agent, 200) == "OK"
        assert metrics(agent)["icon_agent_ready_transitions_total"] >= 2


def test_references_down_node_progress_decides(node, reference):
    with start_agent(
        "--node", base(node), "--reference", reference.info["url"], "--max-block-age", "1", *FAST
    ) as agent:
        wait_probe(agent, 200)
        reference.stop()
        label = f'icon_reference_up{{reference="{reference.info["url"]}"}}'
        wait_for(lambda: metrics(agent)[label] == 0, message="the reference to be down")
        time.sleep(0.5)
        assert probe(agent) == (200, "OK")  # the node still makes progress: stay in service
        assert "icon_node_lag_blocks" not in metrics(agent)
        control(node, "/scenario", {"stalled": True})
        reason = wait_probe(agent, 503, "UNHEALTHY last block")
        assert reason.endswith("references down)")


def test_admin_state_stopped(node, reference):
    with start_agent("--node", base(node), "--reference", reference.info["url"], *FAST) as agent:
        wait_probe(agent, 200)
        assert http("POST", base(node) + "/admin/chain/0x1/stop")[0] == 200
        assert wait_probe(agent, 503) == "UNHEALTHY admin state stopped"
        assert probe(agent, "/healthz") == (200, "OK")  # a quiesced node must not be restarted
        assert metrics(agent)['icon_node_chain_state{state="stopped"}'] == 1
        assert http("POST", base(node) + "/admin/chain/0x1/start")[0] == 200
        assert wait_probe(agent, 200) == "OK"


def test_flapping_suppressed():
    """A node failing a quarter of its calls at random: without hysteresis the probe flaps;
    with it, the state holds."""
    with start_sim("--block-interval", "0.05", "--error-rate", "0.25", "--seed", "7") as flaky:
        # a generous timeout: only the node's injected errors fail a poll, not a loaded machine
        common = ("--node", base(flaky), "--poll-interval", "0.05", "--timeout", "3")
        with (
            start_agent(*common, "--rise", "1", "--fall", "1") as jumpy,
            start_agent(*common, "--rise", "6", "--fall", "6") as steady,
        ):
            name = "icon_agent_ready_transitions_total"
            wait_for(
                lambda: metrics(jumpy)['icon_agent_polls_total{result="ok",target="node"}'] >= 60,
                timeout=30,
                message="60 polls",
            )
            assert metrics(jumpy)[name] >= 4
            assert metrics(steady)[name] <= 1
            assert probe(steady) == (200, "OK")


def test_drain_endpoint_and_signals(node):
    with start_agent("--node", base(node), *FAST) as agent:
        wait_probe(agent, 200)
        assert http("POST", agent.info["url"] + "/drain") == (200, b"draining\n")
        assert probe(agent) == (503, "UNHEALTHY draining")  # at once, no hysteresis
        assert probe(agent, "/healthz") == (200, "OK")
        assert metrics(agent)["icon_agent_draining"] == 1
        assert http("DELETE", agent.info["url"] + "/drain") == (200, b"serving\n")
        assert probe(agent) == (200, "OK")
        agent.send(signal.SIGUSR1)
        wait_probe(agent, 503, "UNHEALTHY draining", timeout=3)
        agent.send(signal.SIGUSR2)
        wait_probe(agent, 200, timeout=3)
        assert agent.stop() == 0


def test_probe_rate_does_not_reach_the_node(node):
    """The node sees the same call rate whether the probes are idle or hammering the agent."""

    def node_calls() -> float:
        text = http("GET", base(node) + "/metrics")[1].decode()
        line = next(
            x
            for x in text.splitlines()
            if x.startswith("goloop_jsonrpc_retrieve_cnt{") and "icx_getLastBlock" in x
        )
        return float(line.split()[-1])

    with start_agent("--node", base(node), "--poll-interval", "0.1") as agent:
        wait_probe(agent, 200)
        start = node_calls()
        time.sleep(1.0)
        idle = node_calls() - start

        def hammer(_: int) -> int:
            deadline = time.monotonic() + 1.0
            count = 0
            while time.monotonic() < deadline:
                assert probe(agent)[0] == 200
                count += 1
            return count

        start = node_calls()
        with ThreadPoolExecutor(4) as pool:
            probes = sum(pool.map(hammer, range(4)))
        busy = node_calls() - start
    assert probes > 200
    assert 4 <= idle <= 12, idle
    # probes add no calls; a busy, shared CPU may delay a poll but never adds one
    assert idle / 2 <= busy <= idle + 2, (idle, busy, probes)


def test_spec_gives_defaults(tmp_path, node):
    spec = yaml.safe_load((EXAMPLES / "single-node.yaml").read_text())
    spec["health"] = {
        "max_lag_blocks": 7,
        "max_block_age_seconds": 45,
        "references": ["https://127.0.0.1:1/api/v3"],
    }
    path = tmp_path / "iconctl.yaml"
    path.write_text(yaml.safe_dump(spec))
    with start_agent("--node", base(node), "--spec", str(path), *FAST) as agent:
        assert agent.info["max_lag_blocks"] == 7 and agent.info["max_block_age"] == 45
        assert agent.info["references"] == ["https://127.0.0.1:1/api/v3"]
        assert wait_probe(agent, 200) == "OK"  # the unreachable reference is simply down
        assert metrics(agent)['icon_reference_up{reference="https://127.0.0.1:1/api/v3"}'] == 0
    with start_agent(
        "--node", base(node), "--spec", str(path), "--max-lag-blocks", "9", *FAST
    ) as agent:
        assert agent.info["max_lag_blocks"] == 9  # flags win over the spec


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--node", "not-a-url"], "--node"),
        (["--node", "http://127.0.0.1:1", "--reference", "ftp://x"], "--reference"),
        (["--node", "http://127.0.0.1:1", "--poll-interval", "0"], "--poll-interval"),
        (["--node", "http://127.0.0.1:1", "--listen", "nope"], "--listen"),
        (["--node", "http://127.0.0.1:1", "--spec", "/nonexistent/iconctl.yaml"], "iconctl.yaml"),
    ],
)
def test_bad_input_exit_3(iconctl, args, message):
    result = iconctl("agent", *args, timeout=30)
    assert result.returncode == 3, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_json_ready_line(node):
    with start_agent("--node", base(node)) as agent:
        assert set(agent.info) >= {"url", "node", "references"}
        assert json.loads(json.dumps(agent.info))["node"] == base(node) + "/api/v3"


def test_options_from_the_environment(node, reference, monkeypatch):
    monkeypatch.setenv("ICONCTL_AGENT_NODE", base(node))
    monkeypatch.setenv("ICONCTL_AGENT_REFERENCES", f"{reference.info['url']} http://127.0.0.1:1")
    monkeypatch.setenv("ICONCTL_AGENT_MAX_LAG_BLOCKS", "11")
    with start_agent() as agent:
        assert agent.info["node"] == base(node) + "/api/v3"
        assert agent.info["references"] == [reference.info["url"], "http://127.0.0.1:1/api/v3"]
        assert agent.info["max_lag_blocks"] == 11


def test_metrics_pass_promtool_lint(node, reference):
    promtool = need_tool("promtool")["promtool"]
    with start_agent("--node", base(node), "--reference", reference.info["url"], *FAST) as agent:
        wait_probe(agent, 200)
        text = http("GET", agent.info["url"] + "/metrics")[1]
    result = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_lying_reference_does_not_unready_the_node():
    """Two honest references and one a billion blocks ahead: the node stays ready, the liar
    is reported as ignored. With only the liar and one honest reference, the lower decides."""
    slow = ("--block-interval", "0.5", "--start-height", "5000")
    with (
        start_sim(*slow) as node,
        start_sim(*slow) as honest_a,
        start_sim(*slow) as honest_b,
        start_sim("--block-interval", "0.5", "--start-height", "1000005000") as liar,
    ):
        refs = [honest_a, liar, honest_b]
        args = [x for r in refs for x in ("--reference", r.info["url"])]
        with start_agent("--node", base(node), *args, *FAST) as agent:
            assert wait_probe(agent, 200) == "OK"
            label = f'{{reference="{liar.info["url"]}"}}'
            m = wait_for(
                lambda: (x := metrics(agent))[f"icon_reference_outliers_total{label}"] >= 2 and x,
                message="the liar's answers to be counted",
            )
            assert m[f"icon_reference_ignored{label}"] == 1
            assert m[f'icon_reference_ignored{{reference="{honest_a.info["url"]}"}}'] == 0
            assert abs(m["icon_node_lag_blocks"]) <= 10
            time.sleep(0.5)
            assert probe(agent) == (200, "OK")
        two = ("--reference", liar.info["url"], "--reference", honest_a.info["url"])
        with start_agent("--node", base(node), *two, *FAST) as agent:
            assert wait_probe(agent, 200) == "OK"
            time.sleep(0.5)
            assert probe(agent) == (200, "OK")
            assert metrics(agent)[f'icon_reference_ignored{{reference="{liar.info["url"]}"}}'] == 1
