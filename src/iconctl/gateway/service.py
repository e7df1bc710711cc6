"""The websocket gateway: many client monitors, a few upstream sessions (docs/edge.md).

Clients speak goloop's monitor protocol to the gateway exactly as to the node. All of them are
fed from one upstream ``/block`` session that carries the union of their event filters (a
second one exists only while the filter set changes: make before break), through a bounded
window of recent blocks that also serves clients resuming from a height below the tip.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from iconctl.errors import InputError
from iconctl.gateway.frames import BlockRecord, filter_key, progress_note, ws_text
from iconctl.gateway.metrics import GatewayMetrics
from iconctl.gateway.upstream import Session, UpstreamError, rpc_call
from iconctl.http.server import cannot_listen, until_stopped
from iconctl.sim.monitor import (
    MAX_FILTERS,
    MonitorRequest,
    Refused,
    check_height,
    compile_filters,
    frame,
    read_request,
)

log = logging.getLogger("iconctl.gateway")

# Close codes (docs/edge.md lists them with what a client should do).
CLOSE_GOING_AWAY = 1001  # the gateway stops
CLOSE_NO_PONG = 1001  # going away: the client stopped answering pings
CLOSE_NODE_UNAVAILABLE = 1011  # a replay needed the node and it did not answer
CLOSE_CAPACITY = 1013  # try again later: the gateway's global limit
CLOSE_TOO_SLOW = 4008  # the client did not read its messages fast enough
CLOSE_TOO_FAR_BEHIND = 4016  # the requested height is beyond the replay limit
CLOSE_PER_CLIENT = 4029  # too many monitors from this address
CLOSE_FILTERS = 4030  # too many distinct event filters at the gateway
REQUEST_TIMEOUT = 30.0
PING = b"\x89\x00"  # an empty ping frame (RFC 6455 5.5.2)
MAX_REQUEST = 64 * 1024


@dataclass
class GatewayConfig:
    node: str
    host: str = "127.0.0.1"
    port: int = 9081
    channel: str = "icon_dex"
    upstream_sessions: int = 2
    max_clients: int = 20_000
    max_per_client: int = 16
    window_blocks: int = 1_000
    window_bytes: int = 64 * 1024 * 1024
    max_replay: int = 10_000
    max_filters: int = MAX_FILTERS
    ping_interval: float = 30.0
    client_backlog: int = 256 * 1024
    # The kernel would otherwise grow a stalled client's send buffer to 4 MiB (tcp_wmem); with
    # thousands of clients that, not the gateway's own queue, is where memory goes.
    send_buffer: int = 128 * 1024
    trusted_proxies: list[str] = field(default_factory=lambda: ["127.0.0.0/8", "::1/128"])

    def validate(self) -> None:
        parts = urlsplit(self.node)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(f"--node: expected http(s)://HOST:PORT, got {self.node!r}")
        if not self.channel or "/" in self.channel:
            raise InputError(f"--channel: invalid channel name {self.channel!r}")
        checks = [
            (1 <= self.upstream_sessions <= 8, "--upstream-sessions must be between 1 and 8"),
            (1 <= self.max_clients <= 1_000_000, "--max-clients must be between 1 and 1000000"),
            (1 <= self.max_per_client <= self.max_clients, "--max-per-client: 1..max-clients"),
            (1 <= self.window_blocks <= 1_000_000, "--window-blocks: 1..1000000"),
            (0 <= self.max_replay <= 10_000_000, "--max-replay: 0..10000000"),
            (1 <= self.max_filters <= MAX_FILTERS, f"--max-filters: 1..{MAX_FILTERS}"),
            (1 <= self.ping_interval <= 3600, "--ping-interval: 1..3600 seconds"),
            (4096 <= self.client_backlog <= 1 << 30, "--client-backlog: 4096..1073741824 bytes"),
        ]
        for ok, message in checks:
            if not ok:
                raise InputError(message)
        for cidr in self.trusted_proxies:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise InputError(f"--trusted-proxy: not an address range: {cidr!r}") from None

    @property
    def base(self) -> str:
        base = self.node.rstrip("/")
        return base[: -len("/api/v3")] if base.endswith("/api/v3") else base

    @property
    def rpc_url(self) -> str:
        return self.base + "/api/v3"

    @property
    def monitor_url(self) -> str:
        return "ws" + self.base[len("http") :] + f"/api/v3/{self.channel}/block"


class Client:
    """One client monitor: what it asked for, where it is, and what waits to be written."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        transport: asyncio.BaseTransport | None,
        ip: str,
        events: bool,
        request: MonitorRequest,
    ) -> None:
        self.ws = ws
        self.ip = ip
        self.events = events
        specs = request.filter_specs(events=events)
        self.specs = specs
        self.keys = tuple(filter_key(spec) for spec in specs)
        self.logs = request.logs
        self.interval = request.interval
        self.next_height = request.height
        self.last_progress = 0
        self.transport = transport if isinstance(transport, asyncio.WriteTransport) else None
        self.last_seen = time.monotonic()
        self.closed = False


class Gateway:
    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.metrics = GatewayMetrics()
        self.http: aiohttp.ClientSession | None = None
        self.window: dict[int, BlockRecord] = {}
        self.window_size = 0
        self.oldest = 0
        self.newest: int | None = None
        self.first_block = asyncio.Event()
        self.primary: Session | None = None
        self.pending: Session | None = None
        self.clients: set[Client] = set()
        self.per_ip: dict[str, int] = {}
        self.connections = 0
        self.waiting: dict[int, set[Client]] = {}
        self.filter_refs: dict[str, int] = {}
        self.filter_specs: dict[str, dict[str, Any]] = {}
        self.replays = asyncio.Semaphore(4)
        self.trusted = [ipaddress.ip_network(c, strict=False) for c in config.trusted_proxies]
        self.tasks: set[asyncio.Task[Any]] = set()
        self.metrics.bind(self)

    # upstream ------------------------------------------------------------------------------
    async def start(self) -> None:
        self.http = aiohttp.ClientSession()
        self._spawn(self._open_primary())
        self._spawn(self._keepalive())

    async def _keepalive(self) -> None:
        """Ping every client each interval (one frame, written to all in one pass); close those
        that sent nothing, not even a pong, for three intervals. One timer for all clients,
        and a tolerance a busy client or a slow mobile link can meet."""
        interval = self.config.ping_interval
        while True:
            await asyncio.sleep(interval)
            silent_since = time.monotonic() - 3 * interval
            for client in list(self.clients):
                if client.last_seen < silent_since:
                    self.metrics.dropped.labels(reason="no_pong").inc()
                    self._close(client, CLOSE_NO_PONG, "no answer to pings")
                else:
                    self._push(client, PING, None)

    async def _open_primary(self) -> None:
        assert self.http is not None
        backoff = 0.2
        while True:
            try:
                tip = await rpc_call(self.http, self.config.rpc_url, "icx_getLastBlock")
                start = int(tip["height"])
                break
            except (UpstreamError, KeyError, TypeError, ValueError) as exc:
                log.warning("node %s: %s", self.config.rpc_url, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
        if self.primary is None:  # a filtered client may have opened one meanwhile
            self.primary = self._session(start)

    def _session(self, start: int) -> Session:
        assert self.http is not None
        keys = sorted(k for k, n in self.filter_refs.items() if n > 0)
        return Session(
            self.config.monitor_url,
            self.http,
            keys=keys,
            specs=[self.filter_specs[k] for k in keys],
            start=start,
            on_block=self._on_block,
            on_retry=self.metrics.upstream_reconnects.inc,
            ping_interval=self.config.ping_interval,
        )

    def _on_block(self, session: Session, note: dict[str, Any], size: int) -> None:
        height = int(note["height"], 16)
        record = self.window.get(height)
        fresh = record is None
        if record is None:
            record = BlockRecord(height=height, hash=note["hash"])
        before = record.size
        record.merge(session.keys, note, size)
        if fresh:
            self._remember(record)
        else:
            self.window_size += record.size - before
        if self.newest is None or height > self.newest:
            self.newest = height
            self.metrics.upstream_height.set(height)
        self.first_block.set()
        self._dispatch(record)
        primary = self.primary
        if session is self.pending and primary is not None:
            caught_up = session.next_height >= primary.next_height
            if caught_up:
                self.primary, self.pending = session, None
                self._spawn(primary.stop())

    def _remember(self, record: BlockRecord) -> None:
        if not self.window or record.height < self.oldest:
            self.oldest = record.height
        self.window[record.height] = record
        self.window_size += record.size
        while self.window and (
            len(self.window) > self.config.window_blocks
            or self.window_size > self.config.window_bytes
        ):
            while self.oldest not in self.window:
                self.oldest += 1
            evicted = self.window.pop(self.oldest)
            self.window_size -= evicted.size

    def _reconcile(self) -> None:
        """Make an upstream session carry every filter some client needs, from where needed."""
        if self.primary is None or self.http is None:
            return
        covered = set(self.primary.keys)
        uncovered = [c for c in self.clients if not covered.issuperset(c.keys)]
        if not uncovered:
            return
        start = min([self.primary.next_height, *(c.next_height for c in uncovered)])
        needed = {k for k, n in self.filter_refs.items() if n > 0}
        if self.pending is not None:
            if needed <= set(self.pending.keys) and self.pending.next_height <= start:
                return
            start = min(start, self.pending.next_height)
            self._spawn(self.pending.stop())
            self.pending = None
        if self.config.upstream_sessions == 1:  # break before make: no second session
            self._spawn(self.primary.stop())
            self.primary = self._session(start)
        else:
            self.pending = self._session(start)

    # clients -------------------------------------------------------------------------------
    def _dispatch(self, record: BlockRecord) -> None:
        for client in list(self.waiting.get(record.height, ())):
            if record.covers(client.keys):
                self._deliver(client, record, record.received)

    def _deliver(self, client: Client, record: BlockRecord, received: float | None) -> None:
        height = record.height
        if client.events:
            notes = record.event_notes(client.keys, client.logs)
            for note in notes:
                self._push(client, note, received)
            due = client.last_progress == 0 or height - client.last_progress >= client.interval
            if client.interval > 0 and (due or notes):
                client.last_progress = height
                self._push(client, progress_note(height), received)
        else:
            if client.keys:
                self._push(client, record.block_note(client.keys, client.logs), received)
            else:  # the common case: one encoding of the message for every such client
                self._push(client, record.plain_wire(), received)
        self._move(client, height + 1)

    def _move(self, client: Client, height: int) -> None:
        bucket = self.waiting.get(client.next_height)
        if bucket is not None:
            bucket.discard(client)
            if not bucket:
                del self.waiting[client.next_height]
        client.next_height = height
        if not client.closed:
            self.waiting.setdefault(height, set()).add(client)

    def _push(self, client: Client, text: str | bytes, received: float | None) -> None:
        """Write one message now. Live messages (``received`` set) to a client whose backlog is
        full close it as too slow; replays never get here with a full backlog (_catch_up)."""
        transport = client.transport
        if client.closed or transport is None or transport.is_closing():
            client.closed = True
            return
        if received is not None and transport.get_write_buffer_size() > self.config.client_backlog:
            self.metrics.dropped.labels(reason="slow").inc()
            resume = f"too slow: resume from height {client.next_height:#x}"
            self._close(client, CLOSE_TOO_SLOW, resume)
            return
        transport.write(ws_text(text) if isinstance(text, str) else text)
        if received is not None:
            self.metrics.delivery.observe(time.monotonic() - received)

    def _close(self, client: Client, code: int, reason: str) -> None:
        if client.closed:
            return
        client.closed = True
        self._spawn(_close_ws(client.ws, code, reason))

    async def _catch_up(self, client: Client) -> None:
        """Bring a client from its requested height to the tip, then leave it to _dispatch."""
        await self.first_block.wait()
        refusal = self._too_far_behind(client)  # admitted before the node's tip was known
        if refusal is not None:
            self._close(client, *refusal)
            return
        served = 0
        while not client.closed:
            while (
                not client.closed
                and client.transport is not None
                and client.transport.get_write_buffer_size() > self.config.client_backlog // 2
            ):
                await asyncio.sleep(0.02)  # a replay goes at the client's pace
            height = client.next_height
            if self.newest is None or height > self.newest:
                return
            record = self.window.get(height)
            if record is not None and record.covers(client.keys):
                self._deliver(client, record, None)
                self.metrics.replayed.labels(source="window").inc()
            elif not client.keys:
                try:
                    async with self.replays:
                        record = await self._fetch_block(height)
                except UpstreamError as exc:
                    log.warning("replay of block %d: %s", height, exc)
                    self._close(client, CLOSE_NODE_UNAVAILABLE, "the node did not answer a replay")
                    return
                if client.next_height == height:
                    self._deliver(client, record, None)
                    self.metrics.replayed.labels(source="jsonrpc").inc()
            else:
                self._reconcile()  # an upstream session with its filters brings these blocks
                return
            served += 1
            if served % 64 == 0:
                await asyncio.sleep(0)  # a long replay must not starve live delivery

    async def _fetch_block(self, height: int) -> BlockRecord:
        assert self.http is not None
        params = {"height": hex(height)}
        result = await rpc_call(self.http, self.config.rpc_url, "icx_getBlockByHeight", params)
        block_hash = result.get("block_hash") if isinstance(result, dict) else None
        if not isinstance(block_hash, str):
            raise UpstreamError("icx_getBlockByHeight: no block_hash in the answer")
        return BlockRecord(height=height, hash="0x" + block_hash)

    def client_ip(self, request: web.Request) -> str:
        peer = request.remote or ""
        forwarded = request.headers.get("X-Real-IP", "").strip()
        if forwarded:
            try:
                address = ipaddress.ip_address(peer)
                if any(address in net for net in self.trusted):
                    return forwarded[:64]
            except ValueError:
                pass
        return peer

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["channel"] != self.config.channel:
            raise web.HTTPNotFound(text="No channel\n")
        events = request.match_info["kind"] == "event"
        ws = web.WebSocketResponse(autoping=False, max_msg_size=MAX_REQUEST, compress=False)
        transport = request.transport
        sock = transport.get_extra_info("socket") if transport is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.config.send_buffer)
        await ws.prepare(request)
        ip = self.client_ip(request)
        if self.connections >= self.config.max_clients:
            self.metrics.refused.labels(reason="capacity").inc()
            await _close_ws(ws, CLOSE_CAPACITY, "gateway at capacity, try again later")
            return ws
        if self.per_ip.get(ip, 0) >= self.config.max_per_client:
            self.metrics.refused.labels(reason="per_client").inc()
            await _close_ws(ws, CLOSE_PER_CLIENT, "too many monitors from this address")
            return ws
        self.connections += 1
        self.per_ip[ip] = self.per_ip.get(ip, 0) + 1
        try:
            await self._serve(ws, request.transport, ip, events)
        finally:
            self.connections -= 1
            self.per_ip[ip] -= 1
            if not self.per_ip[ip]:
                del self.per_ip[ip]
        return ws

    async def _serve(
        self,
        ws: web.WebSocketResponse,
        transport: asyncio.BaseTransport | None,
        ip: str,
        events: bool,
    ) -> None:
        try:
            message = await asyncio.wait_for(ws.receive(), REQUEST_TIMEOUT)
        except TimeoutError:
            await _close_ws(ws, 1008, "no monitor request")
            return
        if message.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
            return
        text = (
            message.data
            if isinstance(message.data, str)
            else message.data.decode("utf-8", "replace")
        )
        try:
            request = read_request(text, events=events)
            compile_filters(request, events=events)
            check_height(request)
        except Refused as exc:
            self.metrics.refused.labels(reason="bad_request").inc()
            await ws.send_str(frame({"code": exc.code, "message": exc.message}))
            await ws.close()
            return
        client = Client(ws, transport, ip, events, request)
        refusal = self._admit(client)
        if refusal is not None:
            await _close_ws(ws, *refusal)
            return
        self._push(client, frame({"code": 0}), None)
        catch_up = asyncio.ensure_future(self._catch_up(client))
        try:
            async for message in ws:  # goloop ignores later messages (iconsdk's keepalives)
                client.last_seen = time.monotonic()
                if message.type == aiohttp.WSMsgType.PING:
                    await ws.pong(message.data)
                if client.closed:
                    break
            if not client.closed:
                client.closed = True
        except Exception:  # noqa: BLE001 - a broken client connection ends only that client
            client.closed = True
        finally:
            self._detach(client)
            catch_up.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await catch_up

    def _too_far_behind(self, client: Client) -> tuple[int, str] | None:
        if self.newest is None or self.newest - client.next_height <= self.config.max_replay:
            return None
        self.metrics.refused.labels(reason="too_far_behind").inc()
        return (
            CLOSE_TOO_FAR_BEHIND,
            f"height too far behind the tip: at most {self.config.max_replay} blocks",
        )

    def _admit(self, client: Client) -> tuple[int, str] | None:
        refusal = self._too_far_behind(client)
        if refusal is not None:
            return refusal
        new_keys = {k for k in client.keys if not self.filter_refs.get(k)}
        active = sum(1 for n in self.filter_refs.values() if n > 0)
        if active + len(new_keys) > self.config.max_filters:
            self.metrics.refused.labels(reason="filters").inc()
            return CLOSE_FILTERS, "too many distinct event filters at this gateway"
        for key, spec in zip(client.keys, client.specs, strict=True):
            self.filter_refs[key] = self.filter_refs.get(key, 0) + 1
            self.filter_specs[key] = spec
        self.clients.add(client)
        self.waiting.setdefault(client.next_height, set()).add(client)
        self.metrics.clients.labels(monitor="event" if client.events else "block").inc()
        return None

    def _detach(self, client: Client) -> None:
        if client not in self.clients:
            return
        client.closed = True
        self.clients.discard(client)
        bucket = self.waiting.get(client.next_height)
        if bucket is not None:
            bucket.discard(client)
            if not bucket:
                del self.waiting[client.next_height]
        for key in client.keys:
            self.filter_refs[key] -= 1
            if not self.filter_refs[key]:
                del self.filter_refs[key]  # the session keeps it until the next change
        self.metrics.clients.labels(monitor="event" if client.events else "block").dec()

    # life cycle ----------------------------------------------------------------------------
    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def stop(self) -> None:
        for client in list(self.clients):
            self._close(client, CLOSE_GOING_AWAY, "gateway stopping")
        for session in (self.pending, self.primary):
            if session is not None:
                await session.stop()
        await asyncio.sleep(0.1)
        for task in list(self.tasks):
            task.cancel()
        if self.http is not None:
            await self.http.close()

    async def health(self, request: web.Request) -> web.Response:
        if self.upstream_sessions():
            return web.Response(text="OK\n")
        return web.Response(status=503, text="UNHEALTHY no upstream session\n")

    def upstream_sessions(self) -> int:
        return sum(1 for s in (self.primary, self.pending) if s is not None and s.connected)


async def _close_ws(ws: web.WebSocketResponse, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(ws.close(code=code, message=reason.encode()), 5)


async def serve(config: GatewayConfig, ready: Callable[[Gateway, int], None]) -> None:
    gateway = Gateway(config)
    app = web.Application()
    route = "/api/v3/{channel}/{kind:block|event}"
    app.router.add_get(route, gateway.handle)
    app.router.add_get("/metrics", gateway.metrics.handle)
    app.router.add_get("/healthz", gateway.health)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=5)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port, backlog=4096, reuse_address=True)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise cannot_listen(exc, config.host, config.port) from None
    await gateway.start()
    addresses = runner.addresses  # (host, port, ...) of each bound socket
    port = int(addresses[0][1]) if addresses else config.port
    try:
        await until_stopped(lambda: ready(gateway, port))
    finally:
        await gateway.stop()
        await runner.cleanup()
