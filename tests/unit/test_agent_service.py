"""The agent's endpoints, metrics and options, driven without a network."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from iconctl.agent.service import Agent, AgentConfig, display_url, rpc_url
from iconctl.errors import InputError
from iconctl.health import NodeSample
from iconctl.http.server import Request, parse_hostport

NOW = time.time()


def request(method: str, path: str, peer: str = "127.0.0.1") -> Request:
    return Request(method, path, path, "", "HTTP/1.1", {}, b"", peer)


def split(raw: bytes) -> tuple[int, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.fixture
def agent():
    return Agent(
        AgentConfig(
            node="http://127.0.0.1:9000", rise=1, fall=1, references=["https://ref.example/api/v3"]
        )
    )


def observe(agent: Agent, **fields) -> None:
    base = {"answered": True, "height": 1000, "block_time": NOW - 2, "state": "started"}
    agent.sample = NodeSample(**{**base, **fields})
    agent.evaluate(NOW)


def test_probes_before_the_first_poll(agent):
    status, body = split(agent.handle(request("GET", "/readyz")))
    assert status == 503 and body.startswith(b"UNHEALTHY starting")


def test_ready_body_is_exactly_ok_and_head_has_no_body(agent):
    observe(agent)
    assert split(agent.handle(request("GET", "/readyz"))) == (200, b"OK")
    assert split(agent.handle(request("GET", "/healthz"))) == (200, b"OK")
    raw = agent.handle(request("HEAD", "/readyz"))
    assert raw.endswith(b"\r\n\r\n") and b"Content-Length: 2" in raw
    assert split(agent.handle(request("POST", "/readyz")))[0] == 405


def test_unready_body_names_the_reason(agent):
    agent.references[0].up, agent.references[0].height = True, 1100
    observe(agent)
    status, body = split(agent.handle(request("GET", "/readyz")))
    assert status == 503 and body == b"UNHEALTHY lag 100 blocks > 30 (node 1000, reference 1100)"
    assert split(agent.handle(request("GET", "/healthz"))) == (200, b"OK")


@pytest.mark.parametrize("peer", ["10.0.0.5", "192.168.1.9", "2001:db8::1"])
def test_drain_endpoint_refuses_remote_clients(agent, peer):
    observe(agent)
    assert split(agent.handle(request("POST", "/drain", peer)))[0] == 403
    assert split(agent.handle(request("DELETE", "/drain", peer)))[0] == 403
    assert split(agent.handle(request("GET", "/readyz", peer))) == (200, b"OK")


@pytest.mark.parametrize("peer", ["127.0.0.1", "::1"])
def test_drain_from_loopback(agent, peer):
    observe(agent)
    assert split(agent.handle(request("POST", "/drain", peer))) == (200, b"draining\n")
    assert split(agent.handle(request("GET", "/readyz"))) == (503, b"UNHEALTHY draining")
    assert split(agent.handle(request("GET", "/healthz"))) == (200, b"OK")  # still alive
    assert split(agent.handle(request("DELETE", "/drain", peer))) == (200, b"serving\n")
    assert split(agent.handle(request("GET", "/readyz"))) == (200, b"OK")


def test_metrics_names_and_values(agent):
    agent.references[0].up, agent.references[0].height = True, 1003
    agent.peers = 7
    observe(agent)
    agent.handle(request("GET", "/readyz"))
    status, body = split(agent.handle(request("GET", "/metrics")))
    text = body.decode()
    assert status == 200
    values = {k: float(v) for k, v in re.findall(r"^(\S+) (\S+)$", text, re.M)}
    assert values["icon_node_block_height"] == 1000
    assert values["icon_node_lag_blocks"] == 3
    assert values["icon_node_ready"] == 1 and values["icon_node_up"] == 1
    assert values["icon_node_peers"] == 7 and values["icon_agent_draining"] == 0
    assert values['icon_reference_block_height{reference="https://ref.example/api/v3"}'] == 1003
    assert float(values["icon_node_last_block_age_seconds"]) > 0
    assert "# TYPE icon_agent_poll_duration_seconds histogram" in text
    assert values['icon_agent_poll_duration_seconds_bucket{le="+Inf",target="node"}'] == 0
    assert values['icon_agent_probe_requests_total{path="/readyz"}'] == 1
    for line in text.splitlines():  # every sample line parses as name{labels} value
        assert line.startswith("#") or re.match(r"^[a-z_]+(\{[^}]*\})? [-+0-9.eInfNa]+$", line)


def test_metrics_omit_unknown_values(agent):
    observe(agent, answered=False, height=None, block_time=None, state=None, error="timeout")
    text = split(agent.handle(request("GET", "/metrics")))[1].decode()
    assert "icon_node_up 0" in text and "icon_node_ready 0" in text
    assert "icon_node_block_height " not in text and "icon_node_lag_blocks " not in text


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000/api/v3"),
        ("http://127.0.0.1:9000/", "http://127.0.0.1:9000/api/v3"),
        ("http://node:9000/api/v3/icon_dex", "http://node:9000/api/v3/icon_dex"),
        ("https://ctz.solidwallet.io/api/v3", "https://ctz.solidwallet.io/api/v3"),
    ],
)
def test_rpc_url(given, expected):
    assert rpc_url(given, "--node") == expected


@pytest.mark.parametrize("bad", ["127.0.0.1:9000", "ftp://x/api", "http://", "nonsense"])
def test_rpc_url_rejects(bad):
    with pytest.raises(InputError, match="--node"):
        rpc_url(bad, "--node")


def test_display_url_drops_credentials_and_query():
    assert display_url("https://user:pw@ref.example:8443/api/v3?key=s") == (
        "https://ref.example:8443/api/v3"
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_lag_blocks": -1}, "--max-lag-blocks"),
        ({"max_block_age_seconds": 0}, "--max-block-age"),
        ({"poll_interval": 0}, "--poll-interval"),
        ({"rise": 0}, "--rise"),
        ({"references": ["http://a/api/v3", "http://a/api/v3"]}, "twice"),
    ],
)
def test_config_validation(changes, message):
    with pytest.raises(InputError, match=message):
        Agent(AgentConfig(node="http://127.0.0.1:9000", **changes))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:9900", ("127.0.0.1", 9900)),
        ("[::1]:80", ("::1", 80)),
        ("0.0.0.0:0", ("0.0.0.0", 0)),
    ],
)
def test_parse_hostport(value, expected):
    assert parse_hostport(value, option="--listen") == expected


@pytest.mark.parametrize("value", ["9900", ":9900", "host:", "host:99999", "host:x"])
def test_parse_hostport_rejects(value):
    with pytest.raises(InputError, match="--listen"):
        parse_hostport(value, option="--listen")


def test_a_crashing_poll_fails_readiness_instead_of_freezing_it(agent):
    observe(agent)
    assert split(agent.handle(request("GET", "/readyz"))) == (200, b"OK")

    async def boom() -> None:
        raise RuntimeError("bug")

    agent.poll_node = boom
    agent.config.poll_interval = 0.01

    async def run() -> None:
        task = asyncio.ensure_future(agent._node_loop())
        await asyncio.sleep(0.1)
        task.cancel()

    asyncio.run(run())
    status, body = split(agent.handle(request("GET", "/readyz")))
    assert status == 503 and body == b"UNHEALTHY node not answering: agent error: bug"


# One lying reference must not unready the fleet (issue: best reference = max of heights) ----
LIAR = 10**9


def refs_agent(count: int) -> Agent:
    urls = [f"https://ref{i}.example/api/v3" for i in range(count)]
    return Agent(AgentConfig(node="http://127.0.0.1:9000", rise=1, fall=1, references=urls))


def answer(agent: Agent, *heights: int | None) -> None:
    for ref, height in zip(agent.references, heights, strict=True):
        ref.up, ref.height = height is not None, height
        ref.answers += 1  # a new answer each time


def progress(agent: Agent, height: int = 1000, age: float = 2.0) -> None:
    """Two polls of a node making ICON's block every 2 s: the agent knows the chain's rate."""
    observe(agent, height=height - 10, block_time=NOW - age - 20)
    observe(agent, height=height, block_time=NOW - age)


def gauge_values(agent: Agent) -> dict[str, float]:
    text = split(agent.handle(request("GET", "/metrics")))[1].decode()
    return {k: float(v) for k, v in re.findall(r"^(\S+) (\S+)$", text, re.M)}


def ref_label(i: int) -> str:
    return f'{{reference="https://ref{i}.example/api/v3"}}'


def test_a_reference_far_from_the_median_is_ignored_and_counted():
    agent = refs_agent(3)
    answer(agent, 1002, LIAR, 1001)
    progress(agent)
    assert split(agent.handle(request("GET", "/readyz"))) == (200, b"OK")
    values = gauge_values(agent)
    assert values["icon_node_lag_blocks"] == 2
    assert values[f"icon_reference_ignored{ref_label(1)}"] == 1
    assert values[f"icon_reference_ignored{ref_label(0)}"] == 0
    assert values[f"icon_reference_outliers_total{ref_label(1)}"] == 1
    assert values[f"icon_reference_outliers_total{ref_label(0)}"] == 0
    progress(agent, 1001)  # the same answer is counted once, however often it is judged
    assert gauge_values(agent)[f"icon_reference_outliers_total{ref_label(1)}"] == 1
    answer(agent, 1003, LIAR, 1002)
    progress(agent, 1002)
    assert gauge_values(agent)[f"icon_reference_outliers_total{ref_label(1)}"] == 2


def test_of_two_references_that_disagree_the_lower_decides():
    agent = refs_agent(2)
    answer(agent, LIAR, 1100)  # one honest reference: the node really lags 100 blocks
    observe(agent, height=1000)  # no chain rate known yet: only the references' agreement counts
    status, body = split(agent.handle(request("GET", "/readyz")))
    assert status == 503 and body.startswith(b"UNHEALTHY lag 100 blocks > 30")
    assert gauge_values(agent)[f"icon_reference_ignored{ref_label(0)}"] == 1
    answer(agent, LIAR, 1001)
    observe(agent, height=1000)
    assert split(agent.handle(request("GET", "/readyz"))) == (200, b"OK")


def test_a_lone_reference_beyond_the_chains_possible_progress_is_ignored():
    agent = refs_agent(1)
    answer(agent, LIAR)
    progress(agent)  # the node's last block is 2 s old: the tip cannot be 10^9 blocks ahead
    assert split(agent.handle(request("GET", "/readyz"))) == (200, b"OK")
    values = gauge_values(agent)
    assert values[f"icon_reference_ignored{ref_label(0)}"] == 1
    assert "icon_node_lag_blocks" not in values  # no usable reference: no lag to report


def test_a_lone_honest_reference_still_measures_a_lagging_node():
    agent = refs_agent(1)
    answer(agent, 1400)
    progress(agent, 1000, age=900)  # 15 min behind at 2 s a block: 450 blocks is possible
    status, body = split(agent.handle(request("GET", "/readyz")))
    assert status == 503 and body.startswith(b"UNHEALTHY lag 400 blocks > 30")
    assert gauge_values(agent)[f"icon_reference_ignored{ref_label(0)}"] == 0


def test_references_that_agree_outweigh_the_rate_bound():
    """Two references that corroborate each other are believed even where the node's rate
    says they are too far ahead (a skewed clock on this host must not hide a real lag)."""
    agent = refs_agent(3)
    answer(agent, 1100, 1101, LIAR)
    progress(agent)
    status, body = split(agent.handle(request("GET", "/readyz")))
    assert status == 503 and body.startswith(b"UNHEALTHY lag 101 blocks > 30"), body
    values = gauge_values(agent)
    assert values[f"icon_reference_ignored{ref_label(2)}"] == 1
    assert values[f"icon_reference_ignored{ref_label(0)}"] == 0


def test_all_references_down_the_node_progress_decides():
    agent = refs_agent(2)
    answer(agent, None, None)
    progress(agent)
    assert split(agent.handle(request("GET", "/readyz"))) == (200, b"OK")
