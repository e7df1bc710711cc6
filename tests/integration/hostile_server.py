"""A loopback HTTP server that answers every request with a huge body, for the memory bounds
of the clients that read from the network (the agent). It records how many bytes each answer
got out before the client hung up, so a test can tell a client that stops reading early from
one that reads everything."""

from __future__ import annotations

import socket
import threading

CHUNK = b" " * (1 << 20)


class _LoopbackServer:
    """A threaded server on a free loopback port: one thread per connection runs _answer."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self):  # noqa: ANN204
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    @staticmethod
    def _read_head(conn: socket.socket) -> bytes | None:
        """The request's head (64 KiB at most), or None when the client hung up first."""
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            data = conn.recv(4096)
            if not data:
                return None
            head += data
        return head

    def _answer(self, conn: socket.socket) -> None:
        raise NotImplementedError


class HugeAnswers(_LoopbackServer):
    def __init__(self, size: int, *, declare_length: bool) -> None:
        self.size = size
        self.declare_length = declare_length
        self.sent: list[int] = []  # bytes of body written per answer
        self._lock = threading.Lock()
        super().__init__()

    def _answer(self, conn: socket.socket) -> None:
        sent = 0
        with conn:
            conn.settimeout(10)
            try:
                if self._read_head(conn) is None:
                    return
                length = b"Content-Length: %d\r\n" % self.size if self.declare_length else b""
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + length
                    + b"Connection: close\r\n\r\n"
                )
                while sent < self.size and not self._stop.is_set():
                    piece = CHUNK[: min(len(CHUNK), self.size - sent)]
                    conn.sendall(piece)
                    sent += len(piece)
            except OSError:
                pass  # the client hung up: what a bounded reader does
            finally:
                with self._lock:
                    self.sent.append(sent)


class HostileAgent(_LoopbackServer):
    """A loopback server playing a node's agent (``/readyz``, ``/metrics``) and its JSON-RPC
    endpoint (``POST /api/v3``) with whatever a test sets: lies, non-finite numbers, terminal
    escape sequences, rich markup, or bytes that are not HTTP at all (``raw``)."""

    HEALTHY_METRICS = (
        "# TYPE icon_node_block_height gauge\n"
        "icon_node_block_height {height}\n"
        "icon_node_lag_blocks 0\n"
        "icon_node_last_block_age_seconds 1.5\n"
    )

    def __init__(self, *, height: int = 1000) -> None:
        self.height = height
        self.readyz: tuple[int, str] = (200, "OK")
        self.metrics: str = self.HEALTHY_METRICS.format(height=height)
        self.block: object = None  # the JSON-RPC result; None: a fresh block at `height`
        self.raw: bytes | None = None  # when set, sent as the whole answer to every request
        self.requests = 0
        super().__init__()

    def healthy(self) -> None:
        self.readyz = (200, "OK")
        self.metrics = self.HEALTHY_METRICS.format(height=self.height)
        self.block = None
        self.raw = None

    def _answer(self, conn: socket.socket) -> None:
        import json
        import time

        with conn:
            conn.settimeout(10)
            try:
                head = self._read_head(conn)
                if head is None:
                    return
                self.requests += 1
                if self.raw is not None:
                    conn.sendall(self.raw)
                    return
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                path = line.split(" ")[1] if line.count(" ") >= 2 else "/"
                if path == "/readyz":
                    code, text = self.readyz
                    body = text.encode()
                elif path == "/metrics":
                    code, body = 200, self.metrics.encode()
                elif path.startswith("/api/v3"):
                    block = self.block
                    if block is None:
                        block = {"height": self.height, "time_stamp": int(time.time() * 1e6)}
                    answer = {"jsonrpc": "2.0", "id": 1, "result": block}
                    code, body = 200, json.dumps(answer).encode()
                else:
                    code, body = 404, b"not found\n"
                conn.sendall(
                    b"HTTP/1.1 %d X\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                    b"Connection: close\r\n\r\n" % (code, len(body)) + body
                )
            except OSError:
                pass
