"""`iconctl gateway` in front of `iconctl sim`, both real processes on loopback.

Every client of the gateway must see, byte for byte, what it would have seen connected to the
node itself, while the node sees no more than the gateway's few sessions.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import socket
import time
from typing import Any

import aiohttp
import pytest
from coincurve import PrivateKey

from iconctl.sim.ledger import address_of_public_key, transaction_hash
from tests.helpers import free_port, need_tool
from tests.integration.edge_process import Edge
from tests.integration.simagent import Service, control, http, rpc, start_sim, wait_for

pytestmark = pytest.mark.timeout(120)

KEY = PrivateKey(bytes.fromhex("22" * 32))
SENDER = address_of_public_key(KEY.public_key.format(compressed=False))
ALICE = "hx" + "a" * 40
BOB = "hx" + "b" * 40
TRANSFER = "Transfer(Address,Address,int,bytes)"


def start_gateway(sim: Service, *args: str) -> Service:
    node = sim.info["url"].removesuffix("/api/v3")
    return Service("gateway", "--node", node, "--listen", "127.0.0.1:0", *args)


def direct(sim: Service) -> str:
    return sim.info["url"].replace("http://", "ws://") + "/icon_dex"


def metrics(gateway: Service) -> dict[str, float]:
    base = gateway.info["url"].replace("ws://", "http://").removesuffix("/api/v3/icon_dex")
    status, body = http("GET", base + "/metrics")
    assert status == 200
    found = {}
    for line in body.decode().splitlines():
        match = re.match(r"^(\w+(?:\{[^}]*\})?) (\S+)$", line)
        if match:
            found[match.group(1)] = float(match.group(2))
    return found


def transfer(sim: Service, token: str, to: str, amount: int, nonce: int) -> None:
    data = {"method": "transfer", "params": {"_to": to, "_value": hex(amount)}}
    tx = {
        "version": "0x3",
        "from": SENDER,
        "to": token,
        "stepLimit": hex(10**6),
        "timestamp": hex(time.time_ns() // 1000),
        "nid": "0x1",
        "nonce": hex(nonce),
        "dataType": "call",
        "data": data,
    }
    signature = KEY.sign_recoverable(transaction_hash(tx), hasher=None)
    tx["signature"] = base64.b64encode(signature).decode()
    status, body = rpc(sim.info["url"], "icx_sendTransaction", tx)
    assert status == 200 and "result" in body, body


async def frames_until(
    url: str, request: dict, last_height: int, timeout: float = 20, idle: float | None = None
) -> list:
    """Every message of one monitor up to the one about ``last_height`` (raw text), or until
    ``idle`` seconds pass without one (event monitors say nothing about blocks without events).
    """
    texts: list[str] = []
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.send_str(json.dumps(request))
        deadline = time.monotonic() + timeout
        while True:
            wait = deadline - time.monotonic()
            try:
                message = await asyncio.wait_for(ws.receive(), min(wait, idle or wait))
            except TimeoutError:
                if idle is not None and time.monotonic() < deadline:
                    return texts
                raise
            assert message.type == aiohttp.WSMsgType.TEXT, message
            texts.append(message.data)
            note = json.loads(message.data)
            height = note.get("height") or note.get("progress")
            if "code" in note and note["code"] != 0:
                return texts
            if height is not None and int(height, 16) >= last_height:
                return texts


@pytest.fixture(scope="module")
def busy_sim():
    """A simulator whose recent blocks hold token transfers to two accounts."""
    with start_sim("--block-interval", "0.2", "--fund", f"{SENDER}=1000") as sim:
        token = sim.info["token"]
        sim.info["transfers_from"] = tip(sim)
        for nonce in range(6):
            transfer(sim, token, ALICE if nonce % 2 else BOB, 10**18 + nonce, nonce)
            if nonce % 3 == 2:
                control(sim, "/produce", {"blocks": 1})
        control(sim, "/produce", {"blocks": 2})
        yield sim


def tip(sim: Service) -> int:
    return rpc(sim.info["url"], "icx_getLastBlock")[1]["result"]["height"]


REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("block", {}),
    ("block", {"eventFilters": [{"event": TRANSFER}], "logs": "0x1"}),
    (
        "block",
        {"eventFilters": [{"event": TRANSFER, "indexed": [None, ALICE]}, {"event": TRANSFER}]},
    ),
    ("event", {"event": TRANSFER, "progressInterval": "0x3"}),
    ("event", {"event": TRANSFER, "indexed": [None, BOB], "logs": "0x1"}),
    (
        "event",
        {"eventFilters": [{"event": TRANSFER, "indexed": [None, ALICE]}, {"event": "Nope(int)"}]},
    ),
    ("event", {"event": TRANSFER, "data": [None], "progressInterval": "0x1", "logs": "0x1"}),
]


def test_every_client_gets_the_nodes_bytes(busy_sim):
    """Seven monitors at once through the gateway (one node session with the union of their
    filters) see exactly what each sees connected to the node."""
    end = tip(busy_sim)
    start = busy_sim.info["transfers_from"]
    with start_gateway(busy_sim) as gateway:

        async def both() -> tuple[list, list]:
            jobs = []
            for base in (direct(busy_sim), gateway.info["url"]):
                for kind, request in REQUESTS:
                    body = {"height": hex(start), **request}
                    jobs.append(frames_until(f"{base}/{kind}", body, end, idle=2.0))
            results = await asyncio.gather(*jobs)
            return results[: len(REQUESTS)], results[len(REQUESTS) :]

        want, got = asyncio.run(both())
    for (kind, request), expected, seen in zip(REQUESTS, want, got, strict=True):
        assert seen == expected, (kind, request)
    events = [json.loads(t) for t in want[3] if '"index"' in t]
    assert len(events) == 6, "the fixture's six transfers are streamed"
    assert any('"logs"' in t for t in want[1]) and any('"progress"' in t for t in want[3])


BAD_REQUESTS = [
    ("block", "not json"),
    ("block", json.dumps({"height": "0x1", "nope": 1})),
    ("block", json.dumps({"height": "12"})),
    ("block", json.dumps({"height": "-0x1"})),
    ("event", json.dumps({"height": "0x1"})),
    ("event", json.dumps({"height": "0x1", "event": "Transfer(Address)", "indexed": [1, 2]})),
    ("block", json.dumps({"height": "0x1", "eventFilters": [{"addr": "hx1"}]})),
]


def test_bad_requests_are_answered_as_the_node_answers_them(busy_sim):
    async def first_answer(url: str, text: str) -> str:
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            await ws.send_str(text)
            message = await asyncio.wait_for(ws.receive(), 5)
            return message.data

    with start_gateway(busy_sim) as gateway:
        for kind, text in BAD_REQUESTS:
            want = asyncio.run(first_answer(f"{direct(busy_sim)}/{kind}", text))
            got = asyncio.run(first_answer(f"{gateway.info['url']}/{kind}", text))
            assert got == want, (kind, text)
            assert json.loads(got)["code"] != 0


def test_many_clients_share_the_nodes_few_sessions():
    """The node allows 2 sessions; 12 clients with 12 different filters are all served."""
    with (
        start_sim("--block-interval", "0.1", "--ws-max-sessions", "2") as sim,
        start_gateway(sim, "--upstream-sessions", "2") as gateway,
    ):
        end = tip(sim) + 5

        async def run() -> list[list[str]]:
            jobs = []
            for i in range(12):
                account = "hx" + f"{i:x}" * 40
                request = {
                    "height": hex(end - 8),
                    "event": TRANSFER,
                    "indexed": [None, account],
                }
                request["progressInterval"] = "0x1"
                jobs.append(frames_until(gateway.info["url"] + "/event", request, end))
            return await asyncio.gather(*jobs)

        results = asyncio.run(run())
        seen = metrics(gateway)
    for texts in results:
        assert texts[0] == '{"code":0}\n'
        progress = [int(json.loads(t)["progress"], 16) for t in texts[1:]]
        assert progress == list(range(end - 8, end + 1))
    assert seen["icon_gateway_upstream_sessions"] <= 2


def test_resume_by_height_has_no_gap_from_the_window_or_the_node():
    with (
        start_sim("--block-interval", "0.05") as sim,
        start_gateway(sim, "--window-blocks", "20") as gateway,
    ):
        url = gateway.info["url"] + "/block"
        first_tip = tip(sim)
        # a client that read up to first_tip, went away, and comes back later
        wait_for(lambda: tip(sim) > first_tip + 60, message="60 more blocks")
        end = tip(sim) + 3

        async def run() -> tuple[list, list]:
            return await asyncio.gather(
                frames_until(url, {"height": hex(first_tip + 1)}, end),
                frames_until(direct(sim) + "/block", {"height": hex(first_tip + 1)}, end),
            )

        got, want = asyncio.run(run())
        seen = metrics(gateway)
    assert got == want
    heights = [int(json.loads(t)["height"], 16) for t in got[1:]]
    assert heights == list(range(first_tip + 1, end + 1))
    assert seen['icon_gateway_replayed_blocks_total{source="jsonrpc"}'] > 0
    assert seen['icon_gateway_replayed_blocks_total{source="window"}'] > 0


async def close_of(url: str, request: dict | None = None) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        if request is not None:
            await ws.send_str(json.dumps(request))
        while True:
            message = await asyncio.wait_for(ws.receive(), 10)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                return ws.close_code or 0, str(message.extra or "")


def test_limits_close_with_their_codes():
    with start_sim("--block-interval", "0.05") as sim:
        args = ("--max-per-client", "2", "--max-clients", "3", "--max-replay", "100")
        with start_gateway(sim, *args) as gateway:
            url = gateway.info["url"] + "/block"

            async def run() -> dict[str, Any]:
                async with aiohttp.ClientSession() as session:
                    held = [await session.ws_connect(url) for _ in range(2)]
                    per_client = await close_of(url)
                    # the global limit, reached from a second address (X-Real-IP from loopback)
                    other = await session.ws_connect(url, headers={"X-Real-IP": "192.0.2.7"})
                    async with session.ws_connect(url, headers={"X-Real-IP": "192.0.2.8"}) as extra:
                        message = await asyncio.wait_for(extra.receive(), 10)
                        capacity = (extra.close_code, str(message.extra))
                    for ws in [*held, other]:
                        await ws.close()
                    behind = await close_of(url, {"height": "0x1"})
                    return {"per_client": per_client, "capacity": capacity, "behind": behind}

            found = asyncio.run(run())
            seen = metrics(gateway)
    assert found["per_client"] == (4029, "too many monitors from this address")
    assert found["capacity"] == (1013, "gateway at capacity, try again later")
    assert found["behind"][0] == 4016 and "at most 100 blocks" in found["behind"][1]
    assert seen['icon_gateway_refused_clients_total{reason="per_client"}'] == 1
    assert seen['icon_gateway_refused_clients_total{reason="capacity"}'] == 1


def _ws_handshake(port: int, path: str) -> socket.socket:
    """A raw websocket client with a tiny receive buffer that will never read its messages."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(b"0123456789abcdef").decode()
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(1)
    assert b" 101 " in answer.split(b"\r\n")[0], answer
    return sock


def _masked_text(text: str) -> bytes:
    payload = text.encode()
    mask = b"\x01\x02\x03\x04"
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    assert len(payload) < 126
    return bytes([0x81, 0x80 | len(payload)]) + mask + masked


def test_a_slow_client_is_dropped_and_the_others_keep_up():
    with (
        start_sim("--block-interval", "0.5") as sim,
        start_gateway(sim, "--client-backlog", "8192") as gateway,
    ):
        port = gateway.info["port"]
        start = tip(sim)
        slow = _ws_handshake(port, "/api/v3/icon_dex/block")
        slow.sendall(_masked_text(json.dumps({"height": hex(start)})))
        try:
            # once it is served live (a replay would wait for it instead of dropping it)
            wait_for(
                lambda: metrics(gateway).get("icon_gateway_delivery_seconds_count", 0) >= 2,
                message="the slow client served live",
            )
            # 5000 messages of ~100 bytes: more than the socket buffers and the backlog hold
            status, _ = http(
                "POST", sim.info["control_url"] + "/produce", {"blocks": 5000}, timeout=60
            )
            assert status == 200
            end = tip(sim)

            async def reader() -> list:
                url = gateway.info["url"] + "/block"
                return await frames_until(url, {"height": hex(start)}, end, timeout=60)

            texts = asyncio.run(reader())
            wait_for(
                lambda: metrics(gateway).get('icon_gateway_dropped_clients_total{reason="slow"}'),
                timeout=20,
                message="the slow client dropped",
            )
        finally:
            slow.close()
    heights = [int(json.loads(t)["height"], 16) for t in texts[1:]]
    assert heights == list(range(start, end + 1))


def test_upstream_loss_is_invisible_but_for_time():
    with start_sim("--block-interval", "0.1") as sim, start_gateway(sim) as gateway:
        start = tip(sim)

        async def run() -> list[str]:
            url = gateway.info["url"] + "/block"
            reading = asyncio.ensure_future(
                frames_until(url, {"height": hex(start)}, start + 40, 40)
            )
            await asyncio.sleep(0.5)
            await asyncio.to_thread(control, sim, "/restart", {"down_seconds": 1.5})
            return await reading

        texts = asyncio.run(run())
        seen = metrics(gateway)
    heights = [int(json.loads(t)["height"], 16) for t in texts[1:]]
    assert heights == list(range(start, start + 41))
    assert seen["icon_gateway_upstream_reconnects_total"] >= 1


def test_the_gateway_pings_its_clients():
    with (
        start_sim("--block-interval", "5") as sim,
        start_gateway(sim, "--ping-interval", "1") as gateway,
    ):

        async def run() -> aiohttp.WSMsgType:
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(gateway.info["url"] + "/block", autoping=False) as ws,
            ):
                await ws.send_str(json.dumps({"height": hex(tip(sim) + 100)}))
                assert (await asyncio.wait_for(ws.receive(), 5)).data == '{"code":0}\n'
                message = await asyncio.wait_for(ws.receive(), 5)
                return message.type

        assert asyncio.run(run()) == aiohttp.WSMsgType.PING


def test_bad_options_exit_3(iconctl):
    result = iconctl("gateway", "--node", "ftp://x", timeout=30)
    assert result.returncode == 3 and "--node" in result.stderr, result.stderr
    result = iconctl("gateway", "--node", "http://127.0.0.1:1", "--upstream-sessions", "0")
    assert result.returncode == 3 and "--upstream-sessions" in result.stderr, result.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = iconctl("gateway", "--node", "http://127.0.0.1:1", "--listen", f"127.0.0.1:{port}")
    assert result.returncode == 3 and "cannot listen" in result.stderr, result.stderr


def test_the_edge_routes_monitors_to_the_gateway(tmp_path, busy_sim):
    """nginx (edge/nginx.conf.j2 with icon_edge_ws_gateway) -> gateway -> node: the node's
    bytes reach the client, and the gateway's per-client limit sees the client's address."""
    need_tool("nginx")
    end = tip(busy_sim)
    with start_gateway(busy_sim, "--max-per-client", "1") as gateway:
        edge = Edge(
            tmp_path,
            port=free_port(),
            upstream=busy_sim.info["url"].split("/")[2],
            icon_edge_ws_gateway=f"127.0.0.1:{gateway.info['port']}",
        ).start()
        try:
            through = f"ws://127.0.0.1:{edge.port}/api/v3/icon_dex"
            request = {"height": hex(busy_sim.info["transfers_from"]), "event": TRANSFER}
            request["logs"] = "0x1"

            async def run() -> tuple[list, list, tuple[int, str]]:
                want = await frames_until(direct(busy_sim) + "/event", request, end, idle=2.0)
                async with aiohttp.ClientSession() as session:
                    held = await session.ws_connect(through + "/block")
                    second = await close_of(through + "/block")
                    await held.close()
                got = await frames_until(through + "/event", request, end, idle=2.0)
                return want, got, second

            want, got, second = asyncio.run(run())
            seen = metrics(gateway)
        finally:
            edge.stop()
    assert got == want and len(want) > 1
    assert second == (4029, "too many monitors from this address")
    assert seen['icon_gateway_refused_clients_total{reason="per_client"}'] == 1


def test_replay_limit_holds_for_clients_that_came_before_the_node():
    """A client admitted while the node was still down (tip unknown) is held to --max-replay
    once the tip is known, instead of replaying from its height over JSON-RPC."""
    port = free_port()
    gateway = Service(
        "gateway", "--node", f"http://127.0.0.1:{port}", "--listen", "127.0.0.1:0",
        "--max-replay", "100",
    )  # fmt: skip
    with gateway:

        async def run() -> tuple[str, int, str]:
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(gateway.info["url"] + "/block") as ws,
            ):
                await ws.send_str(json.dumps({"height": "0x1"}))
                ack = await asyncio.wait_for(ws.receive(), 5)
                with start_sim("--listen", f"127.0.0.1:{port}", "--start-height", "1000"):
                    message = await asyncio.wait_for(ws.receive(), 20)
                return ack.data, ws.close_code or 0, str(message.extra)

        ack, code, reason = asyncio.run(run())
    assert ack == '{"code":0}\n'
    assert (code, reason) == (4016, "height too far behind the tip: at most 100 blocks")


def test_a_client_that_never_answers_pings_is_closed():
    with (
        start_sim("--block-interval", "5") as sim,
        start_gateway(sim, "--ping-interval", "1") as gateway,
    ):

        async def run() -> tuple[int, str]:
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(gateway.info["url"] + "/block", autoping=False) as ws,
            ):
                await ws.send_str(json.dumps({"height": hex(tip(sim) + 100)}))
                while True:  # read (pings too) but never answer them
                    message = await asyncio.wait_for(ws.receive(), 10)
                    if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                        return ws.close_code or 0, str(message.extra)

        assert asyncio.run(run()) == (1001, "no answer to pings")
        assert metrics(gateway)['icon_gateway_dropped_clients_total{reason="no_pong"}'] == 1
