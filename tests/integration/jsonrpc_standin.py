"""A tiny JSON-RPC v3 stand-in on loopback for load-test and status-page tests.

It answers the methods the load test sends with goloop-shaped results, counts what it saw,
and can be made slow or failing per test.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class StandIn:
    def __init__(self, *, delay_s: float = 0.0, fail_every: int = 0, height: int = 1000) -> None:
        self.delay_s = delay_s
        self.fail_every = fail_every  # every Nth POST answers HTTP 500
        self.height = height
        self.methods: Counter[str] = Counter()
        self.posts = 0
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                status, body = owner.answer(self.rfile.read(length))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v3"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, raw: bytes) -> tuple[int, bytes]:
        with self._lock:
            self.posts += 1
            failing = self.fail_every and self.posts % self.fail_every == 0
        if self.delay_s:
            time.sleep(self.delay_s)
        payload = json.loads(raw)
        if failing:
            error = {"jsonrpc": "2.0", "error": {"code": -31000, "message": "SystemError"}, "id": 1}
            return 500, json.dumps(error).encode()
        if isinstance(payload, list):
            return 200, json.dumps([self._one(item) for item in payload]).encode()
        return 200, json.dumps(self._one(payload)).encode()

    def _one(self, request: dict[str, Any]) -> dict[str, Any]:
        method = request.get("method")
        with self._lock:
            self.methods[method] += 1
        if method == "icx_getLastBlock":
            result: Any = {"height": self.height, "time_stamp": int(time.time() * 1e6)}
        elif method == "icx_getBlockByHeight":
            result = {"height": int(request["params"]["height"], 16)}
        elif method in ("icx_getBalance", "icx_call"):
            result = "0x2e90edd000"
        else:
            return {
                "jsonrpc": "2.0",
                "error": {"code": -32601, "message": "MethodNotFound"},
                "id": request.get("id"),
            }
        return {"jsonrpc": "2.0", "result": result, "id": request.get("id")}

    def __enter__(self) -> StandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
