"""/region/readyz: counting against min_ready, caching, and the fallback when the source fails."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from aiohttp import web

from iconctl.agent.region import (
    AwsTargetGroup,
    GcpBackendService,
    RegionCount,
    RegionHealth,
    parse_source,
)
from iconctl.agent.service import Agent, AgentConfig
from iconctl.errors import InputError
from iconctl.health import NodeSample, Verdict
from iconctl.http.server import Request

ARN = "arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/icon-rpc/0123456789abcdef"
READY, UNREADY = Verdict(True), Verdict(False, "lag 40 blocks > 30")


def test_healthy_while_at_least_min_ready_nodes_are_ready():
    region = RegionHealth(min_ready=2, max_stale=60)
    region.record(RegionCount(ready=2, total=3), now=100)
    assert region.verdict(101, UNREADY) == Verdict(True)
    region.record(RegionCount(ready=1, total=3), now=110)
    assert region.verdict(111, READY) == Verdict(False, "region: 1 of 3 nodes ready < 2")


def test_a_fresh_count_decides_whatever_this_node_says():
    """The answering node speaks for the region: its own state does not enter a fresh count."""
    region = RegionHealth(min_ready=1, max_stale=60)
    region.record(RegionCount(ready=0, total=2), now=0)
    assert not region.verdict(1, READY).ok
    region.record(RegionCount(ready=2, total=2), now=2)
    assert region.verdict(3, UNREADY).ok


def test_a_failing_source_keeps_the_last_count_until_it_is_stale():
    region = RegionHealth(min_ready=2, max_stale=60)
    region.record(RegionCount(ready=1, total=3), now=0)
    region.fail("timeout")
    # Within max_stale: the last count still decides, even against this node's readiness.
    assert region.verdict(59, READY) == Verdict(False, "region: 1 of 3 nodes ready < 2")


def test_a_stale_source_falls_back_to_this_nodes_readiness():
    """Source down: a healthy region (its nodes ready) stays in, a dead one goes out."""
    region = RegionHealth(min_ready=2, max_stale=60)
    region.record(RegionCount(ready=3, total=3), now=0)
    region.fail("HTTP 503")
    healthy = region.verdict(61, READY)
    assert healthy.ok
    assert "region source unavailable (HTTP 503, last count 61s old)" in healthy.reason
    dead = region.verdict(61, UNREADY)
    assert not dead.ok
    assert dead.reason == (
        "region source unavailable (HTTP 503, last count 61s old); this node: lag 40 blocks > 30"
    )


def test_never_counted_falls_back_at_once():
    region = RegionHealth(min_ready=3, max_stale=60)
    assert region.verdict(0, READY).ok
    region.fail("connection refused")
    assert region.verdict(0, UNREADY).reason.startswith(
        "region source unavailable (connection refused); this node:"
    )


def test_a_recovered_source_decides_again():
    region = RegionHealth(min_ready=2, max_stale=30)
    region.fail("timeout")
    assert region.verdict(100, READY).ok
    region.record(RegionCount(ready=1, total=2), now=100)
    assert not region.verdict(100, READY).ok


@pytest.mark.parametrize("min_ready,max_stale", [(0, 60), (1, 0)])
def test_rejects_bad_limits(min_ready, max_stale):
    with pytest.raises(InputError):
        RegionHealth(min_ready, max_stale)


def test_parses_sources():
    aws = parse_source(f"aws:{ARN}")
    assert isinstance(aws, AwsTargetGroup) and aws.region == "eu-central-1" and aws.arn == ARN
    gcp = parse_source("gcp:proj/icon-rpc/asia-northeast1/icon-nodes")
    assert isinstance(gcp, GcpBackendService)
    assert gcp.group_url.endswith("/proj/regions/asia-northeast1/instanceGroups/icon-nodes")
    for bad in (
        "prometheus:http://x",
        "aws:arn:aws:s3:::bucket",
        "aws:i-123",
        "gcp:proj/icon-rpc",
        "gcp:proj//r/g",
    ):
        with pytest.raises(InputError, match="--region-source"):
            parse_source(bad)


# --- the agent's endpoint --------------------------------------------------------------------


class FakeSource:
    """Counts given by the test; raises when told to, counts its calls."""

    label = "test"

    def __init__(self) -> None:
        self.answer: RegionCount | Exception = RegionCount(0, 0)
        self.calls = 0

    async def count(self) -> RegionCount:
        self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    async def close(self) -> None:
        pass


def request(method: str, path: str) -> Request:
    return Request(method, path, path, "", "HTTP/1.1", {}, b"", "10.0.0.5")


def split(raw: bytes) -> tuple[int, bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def region_agent(min_ready: int = 2) -> tuple[Agent, FakeSource]:
    agent = Agent(
        AgentConfig(
            node="http://127.0.0.1:9000",
            rise=1,
            fall=1,
            region_source=f"aws:{ARN}",
            region_min_ready=min_ready,
        )
    )
    source = FakeSource()
    agent.region_source = source
    now = time.time()
    agent.sample = NodeSample(answered=True, height=10, block_time=now - 1, state="started")
    agent.evaluate(now)
    return agent, source


def test_endpoint_flips_at_min_ready_and_probes_never_reach_the_source():
    agent, source = region_agent(min_ready=2)
    source.answer = RegionCount(1, 3)
    asyncio.run(agent.poll_region())
    for _ in range(100):
        assert split(agent.handle(request("GET", "/region/readyz"))) == (
            503,
            b"UNHEALTHY region: 1 of 3 nodes ready < 2",
        )
        assert agent._fast_get(b"/region/readyz") == agent.handle(request("GET", "/region/readyz"))
    assert source.calls == 1
    source.answer = RegionCount(2, 3)
    asyncio.run(agent.poll_region())
    assert split(agent.handle(request("GET", "/region/readyz"))) == (200, b"OK")
    raw = agent.handle(request("HEAD", "/region/readyz"))
    assert raw.endswith(b"\r\n\r\n") and b"Cache-Control: no-store" in raw
    metrics = agent.metrics(time.time()).decode()
    assert "icon_region_ready 1.0" in metrics and "icon_region_ready_nodes 2.0" in metrics
    assert "icon_region_nodes 3.0" in metrics and "icon_region_fallback 0.0" in metrics
    assert 'icon_agent_polls_total{result="ok",target="region"} 2.0' in metrics


def test_endpoint_falls_back_when_the_source_stays_down():
    agent, source = region_agent(min_ready=2)
    source.answer = RuntimeError("HTTP 500")
    asyncio.run(agent.poll_region())
    status, body = split(agent.handle(request("GET", "/region/readyz")))
    assert status == 200 and body == b"OK"  # never counted: this node is ready
    agent.set_draining(True)  # this node stops being ready: so does the fallback answer
    status, body = split(agent.handle(request("GET", "/region/readyz")))
    assert status == 503 and body.endswith(b"this node: draining")
    metrics = agent.metrics(time.time()).decode()
    assert "icon_region_source_up 0" in metrics and "icon_region_fallback 1" in metrics


def test_endpoint_is_404_without_a_source():
    agent = Agent(AgentConfig(node="http://127.0.0.1:9000"))
    status, body = split(agent.handle(request("GET", "/region/readyz")))
    assert status == 404 and b"--region-source" in body
    assert agent._fast_get(b"/region/readyz") is None
    assert "icon_region" not in agent.metrics(time.time()).decode()


def test_region_options_are_checked():
    with pytest.raises(InputError, match="--region-max-stale"):
        AgentConfig(node="http://n", region_interval=30, region_max_stale=10).validate()
    with pytest.raises(InputError, match="--region-interval"):
        AgentConfig(node="http://n", region_interval=0.1).validate()


# --- the GCP source against a loopback stand-in for the metadata server and compute API -------


def test_gcp_source_counts_healthy_instances_with_a_cached_token():
    calls = {"token": 0, "health": 0}

    async def token(request: web.Request) -> web.Response:
        assert request.headers["Metadata-Flavor"] == "Google"
        calls["token"] += 1
        return web.json_response({"access_token": "tok", "expires_in": 3600})

    async def health(request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == "Bearer tok"
        body = await request.json()
        assert body["group"].endswith("/projects/p/regions/r/instanceGroups/g")
        assert request.match_info["bs"] == "icon-rpc"
        calls["health"] += 1
        states = ["HEALTHY", "UNHEALTHY", "HEALTHY", "UNKNOWN"]
        statuses = [{"healthState": s, "instance": f"i{n}"} for n, s in enumerate(states)]
        return web.json_response({"healthStatus": statuses})

    async def main() -> list[RegionCount]:
        app = web.Application()
        app.router.add_get("/computeMetadata/v1/instance/service-accounts/default/token", token)
        app.router.add_post("/compute/v1/projects/p/global/backendServices/{bs}/getHealth", health)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        source = GcpBackendService("p", "icon-rpc", "r", "g", api=base, metadata=base)
        try:
            return [await source.count(), await source.count()]
        finally:
            await source.close()
            await runner.cleanup()

    assert asyncio.run(main()) == [RegionCount(2, 4), RegionCount(2, 4)]
    assert calls == {"token": 1, "health": 2}


def test_gcp_source_reports_api_errors():
    async def token(request: web.Request) -> web.Response:
        return web.json_response({"access_token": "t", "expires_in": 3600})

    async def denied(request: web.Request) -> web.Response:
        return web.Response(status=403, text=json.dumps({"error": "denied"}))

    async def main() -> str:
        app = web.Application()
        app.router.add_get("/computeMetadata/v1/instance/service-accounts/default/token", token)
        app.router.add_post("/compute/v1/projects/p/global/backendServices/b/getHealth", denied)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        source = GcpBackendService("p", "b", "r", "g", api=base, metadata=base)
        try:
            await source.count()
        except RuntimeError as exc:
            return str(exc)
        finally:
            await source.close()
            await runner.cleanup()
        return "no error"

    assert asyncio.run(main()) == "getHealth: HTTP 403"
