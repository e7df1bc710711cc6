"""The agent's bounds against hostile peers: huge answers (memory) and slow clients (fds)."""

from __future__ import annotations

import re

import pytest

from tests.integration.hostile_server import HugeAnswers
from tests.integration.simagent import http, start_agent, wait_for

pytestmark = pytest.mark.timeout(120)

MiB = 1 << 20


def metrics(agent) -> dict[str, float]:
    text = http("GET", agent.info["url"] + "/metrics")[1].decode()
    return {k: float(v) for k, v in re.findall(r"^([^#\s]\S*) (\S+)$", text, re.M)}


def peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        line = next(x for x in status if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "until-eof"])
def test_a_256_mib_answer_does_not_grow_the_agent(declare_length):
    """A node and a reference that answer every request with 256 MiB: the agent stops
    reading after its cap, stays small, and reports the answer as an error."""
    size = 256 * MiB
    with (
        HugeAnswers(size, declare_length=declare_length) as node,
        HugeAnswers(size, declare_length=declare_length) as reference,
    ):
        with start_agent(
            "--node", node.url, "--reference", reference.url,
            "--poll-interval", "0.3", "--reference-interval", "0.3", "--timeout", "10",
        ) as agent:  # fmt: skip
            wait_for(
                lambda: (m := metrics(agent)).get(
                    'icon_agent_polls_total{result="error",target="node"}', 0) >= 3
                and m.get(
                    f'icon_agent_polls_total{{result="error",target="{reference.url}/api/v3"}}', 0
                ) >= 3,
                timeout=60,
                message="three failed polls of the node and of the reference",
            )  # fmt: skip
            status, body = http("GET", agent.info["url"] + "/node/metrics", timeout=15)
            assert status == 502 and b"too large" in body, body[:200]
            status, body = http("GET", agent.info["url"] + "/readyz")
            assert status == 503 and b"too large" in body, body
            peak = peak_rss_mib(agent.proc.pid)
        assert peak < 120, f"agent peak RSS {peak:.0f} MiB"
        # stream-rejected: no answer was read anywhere near whole
        answers = node.sent + reference.sent
        assert answers and max(answers) < 64 * MiB, [n // MiB for n in answers]


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "until-eof"])
def test_a_huge_cloud_api_answer_is_refused_early(monkeypatch, declare_length):
    """The region source's cloud API answers (AWS SDK, GCP over aiohttp) are capped too."""
    import asyncio

    from iconctl.agent.region import AwsTargetGroup, GcpBackendService
    from iconctl.http.client import AnswerTooLarge

    arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/0123456789abcdef"
    with HugeAnswers(256 * MiB, declare_length=declare_length) as api:
        monkeypatch.setenv("AWS_ENDPOINT_URL", api.url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        with pytest.raises(AnswerTooLarge):
            asyncio.run(AwsTargetGroup(arn, region="us-east-1").count(timeout=10))

        async def gcp() -> None:
            source = GcpBackendService("p", "bs", "r", "g", api=api.url, metadata=api.url)
            try:
                await source.count(timeout=10)
            finally:
                await source.close()

        with pytest.raises(AnswerTooLarge):
            asyncio.run(gcp())
    assert len(api.sent) == 2 and max(api.sent) < 64 * MiB, [n // MiB for n in api.sent]


def test_half_open_connections_do_not_starve_the_probes(tmp_path):
    """Slowloris: 1,100 connections that send half a request and wait, against an agent with
    systemd's default limit of 1,024 open files. Other clients still get /readyz, stderr
    stays small, and the half-open connections are closed after the request timeout."""
    import resource
    import socket
    import time

    from tests.integration.simagent import start_sim

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2400:
        pytest.skip(f"needs 2,400 open files for the attacking side (hard limit {hard})")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2400), hard))
    stderr = tmp_path / "agent.stderr"
    attackers: list[socket.socket] = []
    try:
        with (
            start_sim("--block-interval", "0.5") as node,
            stderr.open("w") as err,
            start_agent(
                "--node", node.info["url"], "--poll-interval", "0.5", "--rise", "1",
                stderr=err, max_open_files=1024,
            ) as agent,
        ):  # fmt: skip
            url = agent.info["url"]
            host, port = url.removeprefix("http://").split(":")
            wait_for(lambda: http("GET", url + "/readyz")[0] == 200, message="ready")
            for _ in range(1100):
                sock = socket.create_connection((host, int(port)), timeout=5)
                sock.sendall(b"GET /readyz HTTP/1.1\r\nHost: agent\r\n")  # never finished
                attackers.append(sock)
            started = time.monotonic()
            answered = 0
            for _ in range(20):  # other clients are still served, promptly
                status, body = http("GET", url + "/readyz", timeout=2)
                assert (status, body) == (200, b"OK")
                answered += 1
                time.sleep(0.1)
            assert answered == 20 and time.monotonic() - started < 20
            # the half-open ones that were not already pushed out go at the request timeout
            time.sleep(11)
            open_left = 0
            for sock in attackers:
                sock.settimeout(0.01)
                try:
                    open_left += sock.recv(1) != b""
                except TimeoutError:
                    open_left += 1
                except OSError:
                    pass
            assert open_left == 0
            assert http("GET", url + "/readyz")[0] == 200
        size = stderr.stat().st_size
        assert size < 20_000, stderr.read_text()[-2000:]
    finally:
        for sock in attackers:
            sock.close()
