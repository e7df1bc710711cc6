"""A small HTTP/1.1 server on asyncio's Protocol API, shared by the agent and the simulator,
with the loopback check and ``HOST:PORT`` parsing that the CLI and the status page use too.

Why not a framework: load balancer probes must stay cheap under heavy polling, and the
measurements in docs/agent.md showed a framework's per-request cost, not the work done,
set both the throughput and the tail latency. This server does only what the two services
need: request line, headers, Content-Length bodies, keep-alive, pipelining in order, bounded
sizes, and a server-side WebSocket upgrade (``websocket.py``) for the simulator's block stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import ipaddress
import logging
import re
import resource
import signal
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from iconctl.errors import InputError
from iconctl.http import websocket
from iconctl.http.websocket import Upgrade, WebSocket

__all__ = [
    "HTTPServer",
    "Handler",
    "Request",
    "Result",
    "Upgrade",
    "WebSocket",
    "is_loopback",
    "parse_hostport",
    "response",
]

MAX_HEADER_BYTES = 16 * 1024
DEFAULT_MAX_BODY = 1024 * 1024
# Slow clients (slowloris): a request must arrive whole within REQUEST_TIMEOUT of its first
# byte, and a keep-alive connection may sit idle for IDLE_TIMEOUT; the sweep runs every second.
REQUEST_TIMEOUT = 10.0
IDLE_TIMEOUT = 30.0
# Open connections stay this many file descriptors below the process's limit (client
# connections, logs and the listening socket need some), and never above MAX_CONNECTIONS.
FD_RESERVE = 128
MAX_CONNECTIONS = 4096
LOG_EVERY = 60.0  # seconds between two log lines about the same overload

log = logging.getLogger("iconctl.http")
_CONTENT_LENGTH = re.compile(r"\r\ncontent-length:[ \t]*(\d+)[ \t]*(?:\r\n|$)")
_HEADER_LINES = re.compile(r"(?:\r\n[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\r\n]*)*")


class Request:
    """One parsed request. Headers are parsed on first use: probes never need them."""

    __slots__ = (
        "_head",
        "_headers",
        "body",
        "method",
        "path",
        "peer",
        "query",
        "target",
        "version",
    )

    def __init__(
        self,
        method: str,
        target: str,
        path: str,
        query: str,
        version: str,
        headers: dict[str, str] | None,
        body: bytes,
        peer: str,
        head: str = "",
    ) -> None:
        self.method, self.target, self.path, self.query = method, target, path, query
        self.version, self.body, self.peer = version, body, peer
        self._headers = headers
        self._head = head

    @property
    def headers(self) -> dict[str, str]:
        """Header names lower-cased; the last of repeated headers wins."""
        if self._headers is None:
            self._headers = {}
            for line in self._head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                self._headers[name.strip().lower()] = value.strip()
        return self._headers

    @property
    def from_loopback(self) -> bool:
        return is_loopback(self.peer)


def is_loopback(host: str) -> bool:
    """An IP address on the loopback network (IPv4-mapped IPv6 included), or ``localhost``.
    Any other name is not: ``127.attacker.example`` resolves wherever its owner wants."""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def response(
    status: int,
    body: bytes | str = b"",
    *,
    content_type: str = "text/plain; charset=utf-8",
    headers: tuple[tuple[str, str], ...] = (),
) -> bytes:
    """A complete HTTP/1.1 response; built once and reused where the content does not change."""
    if isinstance(body, str):
        body = body.encode()
    head = _status_line(status) + b"Content-Type: " + content_type.encode("latin-1")
    head += b"\r\nContent-Length: " + str(len(body)).encode()
    for name, value in headers:
        head += f"\r\n{name}: {value}".encode("latin-1")
    return head + b"\r\n\r\n" + body


@functools.cache
def _status_line(status: int) -> bytes:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    return f"HTTP/1.1 {status} {reason}\r\n".encode("latin-1")


def _header(lower_head: str, name: str) -> str:
    """The value of one header in an already lower-cased head ("" when absent)."""
    start = lower_head.find(f"\r\n{name}:")
    if start < 0:
        return ""
    start += len(name) + 3
    end = lower_head.find("\r\n", start)
    return lower_head[start:] if end < 0 else lower_head[start:end]


Result = bytes | Upgrade
Handler = Callable[[Request], Result | Awaitable[Result]]


_BAD_REQUEST = response(400, "bad request\n", headers=(("Connection", "close"),))
_TOO_LARGE = response(413, "request too large\n", headers=(("Connection", "close"),))
_HEADERS_TOO_LARGE = response(431, "headers too large\n", headers=(("Connection", "close"),))
_NOT_IMPLEMENTED = response(
    501, "chunked request bodies are not supported\n", headers=(("Connection", "close"),)
)
_INTERNAL = response(500, "internal error\n", headers=(("Connection", "close"),))


class _Connection(asyncio.Protocol):
    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.busy = False  # an async handler is running; later requests wait (pipelining)
        self.closing = False
        self.ws: WebSocket | None = None
        self.ws_fragments = bytearray()
        self.last = time.monotonic()  # connected, or last request answered
        self.started: float | None = None  # first byte of a request not yet complete

    # asyncio callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if peer else ""
        if len(self.server.connections) >= self.server.connection_cap:
            self.server.make_room(self)
            if self.closing:
                return
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        self.closing = True
        if self.ws is not None and not self.ws.closed:
            self.ws.closed = True
            self.ws.on_close()

    def data_received(self, data: bytes) -> None:
        fast = self.server.fast_get
        if (
            fast is not None
            and not self.buf
            and self.ws is None
            and not self.busy
            and data.startswith(b"GET ")
            and data.endswith(b"\r\n\r\n")
            and data.find(b"\r\n\r\n") == len(data) - 4
            and b"onnection:" not in data
            and b"ONNECTION:" not in data
        ):
            # One complete keep-alive GET with nothing after it: the probe path.
            end = data.find(b" HTTP/1.1\r\n", 4)
            if end > 4 and self.transport is not None:
                answer = fast(data[4:end])
                if answer is not None:
                    self.transport.write(answer)
                    self.last = time.monotonic()
                    return
        if not self.buf:
            self.started = time.monotonic()
        self.buf += data
        if self.ws is not None:
            self._ws_process()
        elif not self.busy:
            self._process()

    # HTTP
    def _process(self) -> None:
        while not self.busy and not self.closing and self.ws is None:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > MAX_HEADER_BYTES:
                    self._fail(_HEADERS_TOO_LARGE)
                return
            if end > MAX_HEADER_BYTES:
                self._fail(_HEADERS_TOO_LARGE)
                return
            try:
                head = self.buf[:end].decode("latin-1")
                line_end = head.find("\r\n")
                method, target, version = (head if line_end < 0 else head[:line_end]).split(" ")
                if not version.startswith("HTTP/1."):
                    raise ValueError(version)
                lower = head.lower()
                length = 0
                if "content-length:" in lower:
                    match = _CONTENT_LENGTH.search(lower)
                    if match is None:
                        raise ValueError("content-length")
                    length = int(match.group(1))
                chunked = close = keep = False
                if "transfer-encoding:" in lower:
                    chunked = "chunked" in _header(lower, "transfer-encoding")
                if "connection:" in lower:
                    connection = _header(lower, "connection")
                    close, keep = "close" in connection, "keep-alive" in connection
                if line_end >= 0 and not _HEADER_LINES.fullmatch(head, line_end):
                    raise ValueError("malformed header line")
            except ValueError:
                self._fail(_BAD_REQUEST)
                return
            if chunked:
                self._fail(_NOT_IMPLEMENTED)
                return
            if length > self.server.max_body:
                self._fail(_TOO_LARGE)
                return
            total = end + 4 + length
            if len(self.buf) < total:
                return
            body = bytes(self.buf[end + 4 : total]) if length else b""
            del self.buf[:total]
            self.last = time.monotonic()
            self.started = self.last if self.buf else None
            path, _, query = target.partition("?")
            keep_alive = (not close) if version == "HTTP/1.1" else keep
            request = Request(method, target, path, query, version, None, body, self.peer, head)
            try:
                result = self.server.handler(request)
            except Exception:  # a handler bug must not kill the connection loop silently
                self.server.on_error()
                self._fail(_INTERNAL)
                return
            if type(result) is bytes:
                self._send(request, result, keep_alive)
                continue
            if inspect.isawaitable(result):
                self.busy = True
                task = asyncio.ensure_future(result)
                self.server.tasks.add(task)
                task.add_done_callback(functools.partial(self._finished, request, keep_alive))
                return
            self._send(request, result, keep_alive)

    def _finished(self, request: Request, keep_alive: bool, task: asyncio.Future[Any]) -> None:
        self.server.tasks.discard(task)
        self.busy = False
        self.last = time.monotonic()
        if self.closing:
            return
        if task.cancelled() or task.exception() is not None:
            self.server.on_error()
            self._fail(_INTERNAL)
            return
        self._send(request, task.result(), keep_alive)
        if not self.closing:
            self._process()

    def _send(self, request: Request, result: Result, keep_alive: bool) -> None:
        assert self.transport is not None
        if isinstance(result, Upgrade):
            self._upgrade(request, result.socket)
            return
        self.transport.write(result)
        if not keep_alive:
            self.closing = True
            self.transport.close()

    def _abort(self) -> None:
        """Drop the connection now, freeing its file descriptor (no lingering close)."""
        self.closing = True
        self.server.connections.discard(self)
        if self.transport is not None:
            self.transport.abort()

    def _fail(self, payload: bytes) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.write(payload)
            self.transport.close()

    # WebSocket
    def _upgrade(self, request: Request, socket: WebSocket) -> None:
        assert self.transport is not None
        handshake = websocket.handshake(request.method, request.headers)
        if handshake is None:
            self._fail(
                response(400, "websocket upgrade expected\n", headers=(("Connection", "close"),))
            )
            return
        self.transport.write(handshake)
        self.ws = socket
        socket.attach(self.transport)
        if self.buf:
            self._ws_process()

    def _ws_process(self) -> None:
        assert self.ws is not None
        websocket.receive(self.ws, self.buf, self.ws_fragments)


class _RateLimitedLog:
    """One warning line per LOG_EVERY seconds for a repeating condition, with a count."""

    def __init__(self) -> None:
        self._last = -LOG_EVERY
        self._skipped = 0

    def emit(self, message: str) -> None:
        now = time.monotonic()
        if now - self._last < LOG_EVERY:
            self._skipped += 1
            return
        more = f" ({self._skipped} more since the last line)" if self._skipped else ""
        log.warning("%s%s", message, more)
        self._last, self._skipped = now, 0


_accept_errors = _RateLimitedLog()


def _quiet_accept_errors(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """asyncio logs a whole traceback for every accept() that fails with EMFILE; under a
    connection flood that is megabytes a second. One line a minute says the same."""
    exc = context.get("exception")
    if isinstance(exc, OSError) and "accept" in str(context.get("message", "")):
        _accept_errors.emit(f"cannot accept connections: {exc.strerror or exc}")
        return
    loop.default_exception_handler(context)


@dataclass
class HTTPServer:
    """One listening socket and its connections; ``handler`` maps a Request to a response."""

    handler: Handler
    max_body: int = DEFAULT_MAX_BODY
    on_error: Callable[[], None] = lambda: None
    # Optional shortcut for bodiless keep-alive GETs: target bytes -> response, or None to
    # take the normal path. Lets probes skip request parsing entirely.
    fast_get: Callable[[bytes], bytes | None] | None = None
    request_timeout: float = REQUEST_TIMEOUT
    idle_timeout: float = IDLE_TIMEOUT
    max_connections: int = MAX_CONNECTIONS
    connections: set[_Connection] = field(default_factory=set)
    tasks: set[asyncio.Future[Any]] = field(default_factory=set)
    connection_cap: int = MAX_CONNECTIONS  # set at start from the open-files limit
    _server: asyncio.base_events.Server | None = None
    _sweeper: asyncio.Task[None] | None = None
    _overload: _RateLimitedLog = field(default_factory=lambda: _RateLimitedLog())

    async def start(self, host: str, port: int) -> int:
        """Listen; return the bound port (useful with port 0)."""
        loop = asyncio.get_running_loop()
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        fds = self.max_connections if soft == resource.RLIM_INFINITY else soft - FD_RESERVE
        self.connection_cap = max(16, min(self.max_connections, fds))
        if loop.get_exception_handler() is None:
            loop.set_exception_handler(_quiet_accept_errors)
        self._server = await loop.create_server(
            lambda: _Connection(self), host, port, reuse_address=True, backlog=1024
        )
        self._sweeper = asyncio.ensure_future(self._sweep())
        return self._server.sockets[0].getsockname()[1]

    def make_room(self, newcomer: _Connection) -> None:
        """At the cap: close the connection that has waited longest for its request to
        complete (else the longest idle one), so slow or idle clients cannot lock out the
        load balancer's probes; refuse the newcomer only when every connection is busy."""
        candidates = [c for c in self.connections if not c.busy and c.ws is None]
        self._overload.emit(
            f"{len(self.connections)} connections open, the cap ({self.connection_cap}, below "
            "the open-files limit): closing the slowest to make room"
        )
        victim = min(
            candidates,
            key=lambda c: (c.started is None, c.started or c.last),
            default=None,
        )
        if victim is None:
            newcomer._abort()
        else:
            victim._abort()

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            for conn in list(self.connections):
                if conn.busy or conn.ws is not None:
                    continue
                if conn.started is not None:
                    if now - conn.started > self.request_timeout:
                        conn._abort()
                elif now - conn.last > self.idle_timeout:
                    conn._abort()

    async def stop(self) -> None:
        """Stop listening and drop every open connection (a crash or restart, as a node would)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            conn.closing = True
            if conn.ws is not None and not conn.ws.closed:
                conn.ws.closed = True
                conn.ws.on_close()
            if conn.transport is not None:
                conn.transport.abort()
        for task in list(self.tasks):
            task.cancel()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None


def cannot_listen(exc: OSError, host: str | None = None, port: int | None = None) -> InputError:
    """The one-line error (exit 3) for a listener that could not bind: the address (when the
    caller knows which listener failed) and the system's reason."""
    where = f" on {host}:{port}" if host is not None else ""
    return InputError(f"--listen: cannot listen{where}: {exc.strerror or exc}")


async def until_stopped(
    ready: Callable[[], None],
    handlers: Mapping[signal.Signals, Callable[[], None]] | None = None,
) -> None:
    """Wait for SIGTERM or SIGINT: how each long-running service (agent, simulator, gateway)
    is stopped. Those handlers and ``handlers`` (the agent's drain switch) are in place before
    ``ready`` runs, so a signal sent as soon as the ready line is out is handled; they are
    removed again on the way out."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    installed = {signal.SIGTERM: stop.set, signal.SIGINT: stop.set, **(handlers or {})}
    for sig, handler in installed.items():
        loop.add_signal_handler(sig, handler)
    try:
        ready()
        await stop.wait()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def parse_hostport(value: str, *, option: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6) as given to --listen style options."""
    host, sep, port_text = value.rpartition(":")
    host = host.strip("[]")
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not sep or not host or not 0 <= port <= 65535:
        raise InputError(f"{option}: expected HOST:PORT, got {value!r}")
    return host, port
