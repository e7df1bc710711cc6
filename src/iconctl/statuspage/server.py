"""`--serve`: the site plus an Alertmanager webhook receiver on loopback, rebuilt on a timer.

It binds to loopback only: publish the directory with a real web server or a bucket, and
point an Alertmanager on the same host at ``/alertmanager``. Webhook bodies are bounded and
parsed as untrusted input.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from iconctl.console import printable
from iconctl.errors import InputError
from iconctl.statuspage import history
from iconctl.statuspage.probe import Result
from iconctl.statuspage.site import INCIDENTS_FILE, last_results

log = logging.getLogger("iconctl.statuspage")
MAX_WEBHOOK_BYTES = 1_000_000
ROUTES = {"/": "index.html", "/index.html": "index.html", "/status.json": "status.json"}
TYPES = {"index.html": "text/html; charset=utf-8", "status.json": "application/json"}


def check_loopback(host: str) -> None:
    from iconctl.http.server import is_loopback

    if not is_loopback(host):
        raise InputError(
            f"--listen {host}: the status page server binds to loopback only; publish the "
            "--out directory with a web server instead"
        )


class StatusServer:
    def __init__(
        self, out_dir: Path, host: str, port: int, *, probe: Callable[[], list[Result]],
        write: Callable[[list[Result] | None, bool, str], object], interval_s: float,
    ) -> None:  # fmt: skip
        self.out_dir = out_dir
        self.probe = probe  # slow (network): never under the lock
        self.write = write  # write(results, record, notice): fast, under the lock
        self.failing = False
        self.interval_s = interval_s
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "iconctl-statuspage"
            sys_version = ""

            def log_message(self, fmt: str, *args: object) -> None:
                log.debug(fmt, *args)

            def _send(self, code: int, body: bytes, kind: str = "text/plain") -> None:
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-cache")
                self.send_header("X-Content-Type-Options", "nosniff")
                self.send_header("Content-Security-Policy", "default-src 'none'; style-src "
                                 "'unsafe-inline'; img-src 'self'; connect-src 'self'")  # fmt: skip
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                name = ROUTES.get(self.path.split("?", 1)[0])
                if name is None:
                    self._send(404, b"not found\n")
                    return
                try:
                    body = (owner.out_dir / name).read_bytes()
                except FileNotFoundError:
                    self._send(503, b"not built yet\n")
                    return
                self._send(200, body, TYPES[name])

            def do_POST(self) -> None:  # noqa: N802
                if self.path != "/alertmanager":
                    self._send(404, b"not found\n")
                    return
                try:
                    length = int(self.headers.get("Content-Length", ""))
                except ValueError:
                    self._send(411, b"length required\n")
                    return
                if not 0 < length <= MAX_WEBHOOK_BYTES:
                    self._send(413, b"payload too large\n")
                    return
                try:
                    payload = json.loads(self.rfile.read(length))
                    with owner.lock:
                        count = history.record_alerts(owner.out_dir / INCIDENTS_FILE, payload)
                        owner.write(last_results(owner.out_dir), False, "")
                except (ValueError, InputError) as exc:
                    self._send(400, f"bad webhook: {exc}\n".encode())
                    return
                self._send(200, f"recorded {count} alerts\n".encode())

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else host
        return f"http://{name}:{port}/"

    def _timer(self) -> None:
        while not self.stopping.wait(self.interval_s):
            self.rebuild()

    def rebuild(self) -> None:
        """Probe and rewrite the site. Nothing one probe or one rebuild does may end the loop:
        a failure is logged in one line and said on the page, over the last good figures."""
        try:
            results = self.probe()
            with self.lock:
                self.write(results, True, "")
            self.failing = False
        except Exception as exc:  # noqa: BLE001 - the loop outlives any one bad rebuild
            reason = printable(str(exc) or type(exc).__name__, 200)
            log.warning("rebuild failed (the page keeps the last figures): %s", reason)
            self.failing = True
            notice = (
                f"The latest check failed at {time.strftime('%H:%M UTC', time.gmtime())}; "
                "the figures below are from the check before."
            )
            try:
                with self.lock:
                    self.write(last_results(self.out_dir), False, notice)
            except Exception as again:  # noqa: BLE001 - e.g. the disk is full: log, go on
                log.warning("could not mark the page stale: %s", printable(str(again), 200))

    def serve(self) -> None:
        """Serve until SIGINT or SIGTERM."""

        def stop(*_: object) -> None:
            self.stopping.set()
            threading.Thread(target=self.httpd.shutdown, daemon=True).start()

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        timer = threading.Thread(target=self._timer, daemon=True)
        timer.start()
        try:
            self.httpd.serve_forever(poll_interval=0.2)
        finally:
            self.stopping.set()
            self.httpd.server_close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
