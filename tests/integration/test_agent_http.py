"""The shared HTTP server on a real loopback socket: framing, limits, keep-alive, pipelining."""

from __future__ import annotations

import asyncio

import pytest

from iconctl.http.server import HTTPServer, Request, response

pytestmark = pytest.mark.timeout(30)


async def echo_handler(req: Request):
    if req.path == "/slow":
        await asyncio.sleep(0.05)
        return response(200, "slow")
    return response(200, f"{req.method} {req.path} {len(req.body)} {req.headers.get('x-a', '')}")


async def exchange(raw: bytes, *, read_until_close: bool = True, max_body: int = 1024) -> bytes:
    server = HTTPServer(
        lambda r: echo_handler(r) if r.path == "/slow" else _sync(r), max_body=max_body
    )
    port = await server.start("127.0.0.1", 0)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(raw)
        await writer.drain()
        if read_until_close:
            data = await asyncio.wait_for(reader.read(), 5)
        else:
            try:
                data = await asyncio.wait_for(reader.read(65536), 0.5)
            except TimeoutError:
                data = b""
        writer.close()
        return data
    finally:
        await server.stop()


def _sync(req: Request) -> bytes:
    return response(200, f"{req.method} {req.path} {len(req.body)} {req.headers.get('x-a', '')}")


def run(raw: bytes, **kw) -> bytes:
    return asyncio.run(exchange(raw, **kw))


def test_keep_alive_and_pipelining_in_order():
    raw = (
        b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST /b HTTP/1.1\r\nContent-Length: 3\r\nX-A: hi\r\n\r\nabc"
        b"GET /c HTTP/1.1\r\nConnection: close\r\n\r\n"
    )
    data = run(raw)
    bodies = [part.split(b"\r\n\r\n")[0] for part in data.split(b"HTTP/1.1 ")[1:]]
    assert len(bodies) == 3
    assert data.index(b"slow") < data.index(b"POST /b 3 hi") < data.index(b"GET /c 0")


def test_http10_closes_without_keep_alive():
    data = run(b"GET /a HTTP/1.0\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200 OK") and data.endswith(b"GET /a 0 ")


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GARBAGE\r\n\r\n", b"400"),
        (b"GET / SPDY/3\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nbad header line\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nContent-Length: 99999\r\n\r\n", b"413"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", b"501"),
        (b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n", b"431"),
    ],
)
def test_bad_requests_get_a_status_and_a_close(raw, status):
    data = run(raw)
    assert data.startswith(b"HTTP/1.1 " + status)
    assert b"Connection: close" in data


def test_partial_body_waits_for_the_rest():
    data = run(b"POST /p HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345", read_until_close=False)
    assert data == b""


async def fast_exchange(chunks: list[bytes]) -> bytes:
    fast = response(200, "fast")
    server = HTTPServer(_sync, fast_get=lambda target: fast if target == b"/f" else None)
    port = await server.start("127.0.0.1", 0)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
            await asyncio.sleep(0.05)
        data = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        return data
    finally:
        await server.stop()


def test_fast_path_answers_probes_and_defers_everything_else():
    data = asyncio.run(
        fast_exchange(
            [
                b"GET /f HTTP/1.1\r\nHost: x\r\n\r\n",  # the shortcut
                b"GET /other HTTP/1.1\r\n\r\n",  # not a shortcut target
                b"GET /f HTTP/1.1\r\n\r\nGET /f HTTP/1.1\r\n\r\n",  # pipelined: normal path
                b"GET /f HTTP/1.0\r\n\r\n",  # HTTP/1.0 closes
            ]
        )
    )
    assert data.count(b"\r\n\r\nfast") == 1
    assert b"GET /other 0" in data
    assert data.count(b"GET /f 0") == 3  # the normal handler answered the rest, in order
    assert data.endswith(b"GET /f 0 ")  # and the HTTP/1.0 request closed the connection


def test_fast_path_respects_connection_close():
    data = asyncio.run(fast_exchange([b"GET /f HTTP/1.1\r\nConnection: close\r\n\r\n"]))
    assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"GET /f 0 ")


def test_node_metrics_are_relayed_and_cached():
    """goloop's /metrics through the agent (monitoring never needs the admin API's port), and
    scraping the relay faster than once a second does not reach the node more often."""
    import time

    from tests.integration.simagent import http, start_agent, start_sim

    with start_sim("--listen", "127.0.0.1:0", "--block-interval", "0.05") as sim, \
            start_agent("--node", sim.info["url"], "--listen", "127.0.0.1:0") as agent:  # fmt: skip
        status, body = http("GET", agent.info["url"] + "/node/metrics")
        assert status == 200 and b"goloop_consensus_height" in body
        bodies, started = set(), time.monotonic()
        while time.monotonic() - started < 0.5:  # ten blocks pass; the answer may change once
            status, body = http("GET", agent.info["url"] + "/node/metrics")
            assert status == 200
            bodies.add(body)
        assert len(bodies) <= 2
    with start_agent("--node", "http://127.0.0.1:9/api/v3", "--listen", "127.0.0.1:0") as lonely:
        status, body = http("GET", lonely.info["url"] + "/node/metrics")
        assert status == 502 and body.startswith(b"node not answering")
