"""A store that goes away: the retry policy every store shares (backoff with jitter inside a
total deadline) and the per-request timeout, against real servers on loopback."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from iconctl.sync.snapshot import create_snapshot
from iconctl.sync.store import open_store
from tests.helpers.sync import chain_tree, make_data_dir, script_server

pytestmark = pytest.mark.timeout(120)

# Serves a directory, but answers 503 to every request during the first OUTAGE seconds after
# its first request (a store restarting, a CDN origin failing over).
FLAKY_SERVER = r"""
import functools, http.server, sys, time
outage = float(sys.argv[3])
first = []
class H(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        if not first:
            first.append(time.monotonic())
        if time.monotonic() - first[0] < outage:
            self.send_response(503)
            self.send_header("Content-Length", "11")
            self.end_headers()
            self.wfile.write(b"unavailable")
            return
        super().do_GET()
h = functools.partial(H, directory=sys.argv[2])
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), h).serve_forever()
"""

# Accepts connections (the kernel completes the handshake) and never answers.
SILENT_SERVER = r"""
import socket, sys, time
s = socket.create_server(("127.0.0.1", int(sys.argv[1])), backlog=128)
held = []
while True:
    conn, _ = s.accept()
    held.append(conn)
"""


@pytest.fixture
def published(tmp_path: Path) -> tuple[Path, Path]:
    node = make_data_dir(tmp_path / "node", tables=4)
    store = tmp_path / "store"
    create_snapshot(node, open_store(str(store)))
    return node, store


def test_restore_rides_out_a_3_second_outage(published, tmp_path: Path, iconctl):
    node, store = published
    target = tmp_path / "t"
    with script_server(FLAKY_SERVER, str(store), "3") as base:
        started = time.monotonic()
        res = iconctl("sync", "restore", "--store", base, "--data-dir", str(target), "--json")
        took = time.monotonic() - started
    assert res.returncode == 0, res.stderr
    assert took >= 3  # it really met the outage, and waited it out
    assert chain_tree(target) == chain_tree(node)
    assert json.loads(res.stdout)["bytes_fetched"] > 0


def test_a_store_that_never_answers_fails_within_the_timeout(tmp_path: Path, iconctl):
    with script_server(SILENT_SERVER) as base:
        started = time.monotonic()
        res = iconctl(
            "sync", "restore", "--store", base, "--data-dir", str(tmp_path / "t"),
            "--timeout", "1",
        )  # fmt: skip
        took = time.monotonic() - started
    assert res.returncode == 5, res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert "latest.json" in res.stderr and "timed out" in res.stderr
    assert took < 15  # the deadline is 4 x --timeout (plus one request), not minutes


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["verify", "--snapshot", "20260101T000000.000Z-00000000"], 5),
        (["list"], 3),  # http stores cannot be listed: refused at once
    ],
)
def test_every_reading_command_takes_a_timeout(args, code, iconctl):
    with script_server(SILENT_SERVER) as base:
        started = time.monotonic()
        res = iconctl("sync", *args, "--store", base, "--timeout", "0.5")
        took = time.monotonic() - started
    assert res.returncode == code, res.stderr
    assert "Traceback" not in res.stderr and took < 10
