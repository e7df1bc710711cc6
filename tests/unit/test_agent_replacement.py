"""Replacement on liveness, without processes: when the watch asks, the boot grace in the
liveness verdict, and the checks on what the instance metadata service answers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from iconctl.agent.health import NodeSample
from iconctl.agent.replacement import RETRY_SECONDS, InstanceMetadata, ReplacementWatch
from iconctl.agent.service import Agent, AgentConfig
from iconctl.errors import InputError


def test_watch_asks_once_after_failing_without_a_break() -> None:
    watch = ReplacementWatch(after=60)
    assert not watch.due(None, 0)  # no verdict yet
    assert not watch.due(False, 10)
    assert not watch.due(False, 69)
    assert not watch.due(True, 70)  # a break: the count starts again
    assert not watch.due(False, 71)
    assert not watch.due(False, 130)
    assert watch.due(False, 131)
    watch.attempted(131)
    assert watch.requested
    assert not watch.due(False, 500)  # asked once, never again


def test_watch_retries_a_failed_request_after_a_while() -> None:
    watch = ReplacementWatch(after=5)
    watch.due(False, 0)
    assert watch.due(False, 5)
    watch.attempted(5, "AccessDenied")
    assert (watch.errors, watch.error, watch.requested) == (1, "AccessDenied", False)
    assert not watch.due(False, 5 + RETRY_SECONDS - 1)
    assert watch.due(False, 5 + RETRY_SECONDS)


def _agent(**options: Any) -> Agent:
    return Agent(AgentConfig(node="http://127.0.0.1:9", **options))


def test_liveness_holds_during_the_boot_grace_until_the_node_first_answers() -> None:
    agent = _agent(boot_grace=600)
    assert agent.live.ok is True  # before the first poll too
    start = agent.started
    agent.sample = NodeSample(answered=False, error="connection refused")
    verdict = agent._liveness(start + 100)
    assert verdict.ok and verdict.reason.startswith("starting: node not answering")
    assert not agent._liveness(start + 601).ok  # the grace is over

    agent.sample = NodeSample(answered=True, height=1, block_time=0.0)
    assert agent._liveness(start + 200).ok
    agent.sample = NodeSample(answered=False, error="connection refused")
    # It answered once: the grace no longer applies, the node is gone.
    assert agent._liveness(start + 201).reason == "node not answering: connection refused"


def test_without_grace_a_silent_node_is_not_live() -> None:
    agent = _agent()
    assert agent.live.ok is None
    assert not agent._liveness(agent.started).ok


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"boot_grace": -1}, "--boot-grace must be between 0 and 86400"),
        ({"replace_unhealthy": "gcp"}, "--replace-unhealthy: expected aws"),
        ({"replace_after": 0.5}, "--replace-after must be between 1 and 3600"),
        ({"imds_endpoint": "https://169.254.169.254"}, "--imds-endpoint: expected http://"),
        ({"imds_endpoint": "http://169.254.169.254/latest"}, "--imds-endpoint: expected"),
    ],
)
def test_bad_replacement_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        AgentConfig(node="http://127.0.0.1:9", **options).validate()


class _Answer:
    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self.content_length = len(body)
        self._body = body
        self.content = self

    async def read(self, n: int) -> bytes:
        chunk, self._body = self._body[:n], self._body[n:]
        return chunk

    def close(self) -> None:
        pass

    async def __aenter__(self) -> _Answer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass


class _Session:
    def __init__(self, answers: dict[str, tuple[int, bytes]]) -> None:
        self.answers = answers

    def put(self, url: str, **_: Any) -> _Answer:
        return _Answer(*self.answers[url.rsplit("/latest/", 1)[1]])

    get = put


GOOD = {
    "api/token": (200, b"AQAAA-token"),
    "meta-data/instance-id": (200, b"i-0123456789abcdef0"),
    "meta-data/placement/region": (200, b"eu-west-1"),
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({}, None),
        ({"api/token": (403, b"")}, "token: HTTP 403"),
        ({"meta-data/instance-id": (200, b"../../etc")}, "not an instance id"),
        ({"meta-data/instance-id": (200, b"i-01 23")}, "malformed"),
        ({"meta-data/placement/region": (200, b"eu-west-1\nx")}, "malformed"),
        ({"meta-data/placement/region": (200, b"\xff\xfe")}, "not ASCII"),
        ({"meta-data/instance-id": (200, b"i-" + b"0" * 4096)}, "too large"),
    ],
)
def test_metadata_answers_are_checked(change: dict[str, tuple[int, bytes]], message: str | None):
    session = _Session({**GOOD, **change})
    metadata = InstanceMetadata("http://127.0.0.1:1")
    if message is None:
        identity = asyncio.run(metadata.identity(session))
        assert (identity.instance_id, identity.region) == ("i-0123456789abcdef0", "eu-west-1")
    else:
        with pytest.raises(Exception, match=message):
            asyncio.run(metadata.identity(session))


class _SlowReplacement:
    """Stands in for AwsSelfReplacement: each request takes a while."""

    def __init__(self) -> None:
        self.requests = 0

    async def request(self, session: Any) -> Any:
        self.requests += 1
        await asyncio.sleep(0.2)
        return type("Identity", (), {"instance_id": "i-0123456789abcdef0"})()


def test_one_request_at_a_time_however_slow_the_api() -> None:
    async def scenario() -> tuple[int, bool]:
        agent = _agent(replace_unhealthy="aws", replace_after=1, rise=1, fall=1)
        slow = _SlowReplacement()
        agent.replacement = slow  # type: ignore[assignment]
        agent.sample = NodeSample(answered=False, error="connection refused")
        agent.replace_watch.failing_since = agent.started - 5  # failing for a while already
        for _ in range(10):  # polls arrive faster than the API answers
            agent.evaluate(0.0)
            await asyncio.sleep(0.01)
        assert agent._replacing is not None
        await agent._replacing
        agent.evaluate(0.0)  # asked and answered: never again
        return slow.requests, agent.replace_watch.requested

    assert asyncio.run(scenario()) == (1, True)
