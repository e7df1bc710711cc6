"""The edge proxy for real: nginx with njs on loopback in front of a JSON-RPC upstream."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.helpers import free_port, need_tool
from tests.integration import edge_config
from tests.integration.edge_process import Edge

pytestmark = pytest.mark.timeout(120)

LAST_BLOCK = {
    "height": 512,
    "time_stamp": 1559204699330360,
    "block_hash": "8e25",
    "prev_block_hash": "0fdf",
    "merkle_tree_root_hash": "5c8d",
    "peer_id": "hx4208",
    "signature": "",
    "version": "2.0",
    "confirmed_transaction_list": [],
}


class Upstream(ThreadingHTTPServer):
    """A small goloop stand-in that records what reaches it."""

    daemon_threads = True

    def __init__(self, port: int) -> None:
        self.seen: list[tuple[str, str, dict]] = []
        self.peers: set[tuple[str, int]] = set()
        super().__init__(("127.0.0.1", port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status: int, payload) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _record(self) -> None:
        self.server.seen.append((self.command, self.path, dict(self.headers)))
        self.server.peers.add(self.client_address)

    def do_GET(self):
        self._record()
        if self.headers.get("Upgrade", "").lower() == "websocket":
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
            self.end_headers()
            self.close_connection = True
            return
        self._send(200, [{"cid": "0x1", "state": "started"}])

    def do_OPTIONS(self):
        self._record()
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        self._record()
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            req = json.loads(raw)
        except ValueError:
            self._send(
                400,
                {"jsonrpc": "2.0", "error": {"code": -32700, "message": "ParseError"}, "id": None},
            )
            return
        calls = req if isinstance(req, list) else [req]
        answers = [{"jsonrpc": "2.0", "result": LAST_BLOCK, "id": c.get("id")} for c in calls]
        self._send(200, answers if isinstance(req, list) else answers[0])


@pytest.fixture(scope="module")
def upstream():
    server = Upstream(free_port())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _edge(tmp_path_factory, upstream, **overrides):
    need_tool("nginx")
    edge = Edge(
        tmp_path_factory.mktemp("edge"),
        port=free_port(),
        upstream=f"127.0.0.1:{upstream.server_address[1]}",
        **overrides,
    )
    edge.start()
    return edge


@pytest.fixture(scope="module")
def edge(tmp_path_factory, upstream):
    """An edge that checks batches itself (njs reads the body before proxying)."""
    e = _edge(
        tmp_path_factory,
        upstream,
        icon_edge_rate_per_second=10000,
        icon_edge_rate_burst=10000,
        icon_edge_max_batch=3,
        icon_edge_max_body_size="4k",
    )
    yield e
    e.stop()


@pytest.fixture(scope="module")
def fast_edge(tmp_path_factory, upstream):
    """The default: no batch check at the edge, JSON-RPC proxied straight to the node."""
    e = _edge(
        tmp_path_factory,
        upstream,
        icon_edge_rate_per_second=10000,
        icon_edge_rate_burst=10000,
        icon_edge_max_body_size="4k",
    )
    yield e
    e.stop()


@pytest.fixture(params=["edge", "fast_edge"])
def any_edge(request):
    return request.getfixturevalue(request.param)


def request(port, method, path, body=None, headers=None, source="127.0.0.1"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    conn.request(
        method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    resp = conn.getresponse()
    payload = resp.read()
    conn.close()
    return resp.status, payload


def rpc(method, id_=1):
    return {"jsonrpc": "2.0", "method": method, "id": id_}


def log_lines(edge) -> list[dict]:
    edge.flush_logs()
    return [json.loads(line) for line in edge.access_log.read_text().splitlines()]


def test_config_is_valid_for_nginx(any_edge):
    result = any_edge.check()
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("path", ["/api/v3", "/api/v3/", "/api/v3/icon_dex"])
def test_jsonrpc_is_passed_to_the_node(any_edge, upstream, path):
    status, body = request(any_edge.port, "POST", path, rpc("icx_getLastBlock"))
    assert status == 200
    assert json.loads(body)["result"]["height"] == 512
    assert upstream.seen[-1][:2] == ("POST", path)


@pytest.mark.parametrize(
    "path",
    [
        "/admin/chain",
        "/admin/chain/0x1",
        "/admin/system",
        "/metrics",
        "/api/v3d",
        "/api/v3d/icon_dex",
        "/api/v3/../admin/chain",
        "/api/v3/%2E%2E/admin/chain",
        "//admin/chain",
        "/ADMIN/chain",
        "/api/v3/icon_dex/../../../metrics",
        "/",
    ],
)
@pytest.mark.parametrize("verb", ["GET", "POST"])
def test_admin_metrics_and_debug_api_never_reach_the_node(any_edge, upstream, path, verb):
    before = len(upstream.seen)
    status, _ = request(any_edge.port, verb, path, rpc("icx_getLastBlock"))
    assert status in (400, 403, 404), (path, status)
    assert len(upstream.seen) == before, upstream.seen[before:]


def jsonrpc_error(body: bytes) -> dict:
    """The body as a JSON-RPC error response; fails the test when it is anything else."""
    answer = json.loads(body)
    assert set(answer) == {"jsonrpc", "error", "id"} and answer["jsonrpc"] == "2.0", answer
    assert isinstance(answer["error"]["code"], int), answer
    assert isinstance(answer["error"]["message"], str), answer
    return answer


@pytest.mark.parametrize(
    ("verb", "path", "body", "status", "code", "rid"),
    [
        ("POST", "/nope", rpc("icx_getLastBlock", 5), 404, -32601, 5),
        ("POST", "/admin/chain", rpc("icx_getLastBlock", "a"), 404, -32601, "a"),
        ("GET", "/metrics", None, 404, -32601, None),
        ("POST", "/api/v3d", rpc("debug_getTrace", 9), 404, -32601, 9),
        ("POST", "/api/v3/other_channel", rpc("icx_getLastBlock", 3), 404, -32601, 3),
        # a batch has no single id
        ("POST", "/nope", [rpc("icx_getLastBlock", 1)], 404, -32601, None),
        ("GET", "/api/v3", None, 405, -32600, None),
        ("PUT", "/api/v3/", b'{"jsonrpc":"2.0","id":4}', 405, -32600, None),
        ("DELETE", "/api/v3/icon_dex", None, 405, -32600, None),
    ],
)
def test_every_refusal_is_a_jsonrpc_error(any_edge, upstream, verb, path, body, status, code, rid):
    before = len(upstream.seen)
    got, raw = request(any_edge.port, verb, path, body)
    assert got == status, raw
    answer = jsonrpc_error(raw)
    assert answer["error"]["code"] == code and answer["id"] == rid
    assert len(upstream.seen) == before  # the node never saw it
    if path.startswith("/api/v3d"):
        assert answer["error"]["message"] == "MethodNotFound: debug API is disabled"


def test_405_names_the_allowed_method(any_edge):
    conn = http.client.HTTPConnection("127.0.0.1", any_edge.port, timeout=10)
    conn.request("GET", "/api/v3")
    resp = conn.getresponse()
    resp.read()
    conn.close()
    assert resp.status == 405 and resp.getheader("Allow") == "POST"


def test_cors_preflight_still_reaches_the_node(any_edge, upstream):
    """goloop answers CORS preflights itself; browsers using icon-sdk-js need them."""
    request(any_edge.port, "OPTIONS", "/api/v3", None, headers={"Origin": "https://a.example"})
    assert upstream.seen[-1][:2] == ("OPTIONS", "/api/v3")


class _Silent(ThreadingHTTPServer):
    """Accepts requests and never answers them (a node that hangs)."""

    daemon_threads = True


class _SilentHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        time.sleep(5)

    def log_message(self, *args):
        pass


def _edge_on(directory, upstream_address: str, read_timeout: str | None = None) -> Edge:
    need_tool("nginx")
    e = Edge(
        directory,
        port=free_port(),
        upstream=upstream_address,
        icon_edge_rate_per_second=10000,
        icon_edge_rate_burst=10000,
    )
    if read_timeout is not None:  # a short wait for the test instead of the node's 60 s
        params = directory / "icon_proxy_params.conf"
        params.write_text(
            params.read_text().replace(
                "proxy_read_timeout 60s;", f"proxy_read_timeout {read_timeout};"
            )
        )
    return e.start()


def test_node_down_and_node_silent_are_jsonrpc_errors_with_the_id(tmp_path):
    down = _edge_on(tmp_path / "down", f"127.0.0.1:{free_port()}")  # nothing listens there
    try:
        status, raw = request(down.port, "POST", "/api/v3", rpc("icx_getLastBlock", 77))
        assert status == 502
        assert jsonrpc_error(raw) == {
            "jsonrpc": "2.0",
            "error": {"code": -32000, "message": "ServerError: the node is unavailable"},
            "id": 77,
        }
    finally:
        down.stop()
    silent = _Silent(("127.0.0.1", free_port()), _SilentHandler)
    threading.Thread(target=silent.serve_forever, daemon=True).start()
    slow = _edge_on(tmp_path / "slow", f"127.0.0.1:{silent.server_address[1]}", "1s")
    try:
        status, raw = request(slow.port, "POST", "/api/v3/icon_dex", rpc("icx_getLastBlock", "x"))
        assert status == 504
        answer = jsonrpc_error(raw)
        assert answer["error"]["code"] == -32000 and answer["id"] == "x"
    finally:
        slow.stop()
        silent.shutdown()
        silent.server_close()


def test_the_node_sees_the_normalised_path(any_edge, upstream):
    status, _ = request(any_edge.port, "POST", "/api/v3/./icon_dex", rpc("icx_getLastBlock"))
    assert status == 200
    assert upstream.seen[-1][1] == "/api/v3/icon_dex"


def test_body_size_limit(any_edge, upstream):
    before = len(upstream.seen)
    big = json.dumps({**rpc("icx_call"), "params": {"data": "x" * 8192}}).encode()
    status, body = request(any_edge.port, "POST", "/api/v3", big)
    assert status == 413
    assert jsonrpc_error(body)["error"]["code"] == -32600
    assert len(upstream.seen) == before


def test_batch_limit(edge, upstream):
    status, body = request(
        edge.port, "POST", "/api/v3", [rpc("icx_getLastBlock", i) for i in range(3)]
    )
    assert status == 200 and len(json.loads(body)) == 3
    before = len(upstream.seen)
    status, body = request(
        edge.port, "POST", "/api/v3", [rpc("icx_getLastBlock", i) for i in range(4)]
    )
    assert status == 413
    assert "limit of 3" in json.loads(body)["error"]["message"]
    assert len(upstream.seen) == before


def test_invalid_json_is_answered_by_the_node(any_edge, upstream):
    status, body = request(any_edge.port, "POST", "/api/v3", b"{not json")
    assert status == 400
    assert json.loads(body)["error"]["code"] == -32700


def test_websocket_routes_upgrade(any_edge, upstream):
    for route in ("/api/v3/icon_dex/block", "/api/v3/icon_dex/event"):
        with socket.create_connection(("127.0.0.1", any_edge.port), timeout=5) as sock:
            sock.sendall(
                (
                    f"GET {route} HTTP/1.1\r\nHost: edge\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
                ).encode()
            )
            head = sock.recv(4096).decode()
        assert head.startswith("HTTP/1.1 101"), head
        method, path, headers = upstream.seen[-1]
        assert (method, path) == ("GET", route)
        assert headers.get("Upgrade") == "websocket"
        assert headers.get("Connection", "").lower() == "upgrade"


def test_upstream_connections_are_kept_alive(any_edge, upstream):
    upstream.peers.clear()
    for _ in range(50):
        status, _ = request(any_edge.port, "POST", "/api/v3", rpc("icx_getLastBlock"))
        assert status == 200
    # one worker, sequential requests: the same upstream connection is reused
    assert len(upstream.peers) <= 2, upstream.peers


def test_json_access_log(any_edge):
    edge = any_edge
    request(edge.port, "POST", "/api/v3", rpc("icx_getBalance"), source="127.0.0.5")
    request(
        edge.port,
        "POST",
        "/api/v3/icon_dex",
        [rpc("icx_getLastBlock", 1), rpc("icx_call", 2)],
        source="127.0.0.5",
    )
    request(edge.port, "GET", "/admin/chain", source="127.0.0.5")
    request(edge.port, "POST", "/api/v3", b"{not json", source="127.0.0.5")
    request(edge.port, "GET", "/api/v3", source="127.0.0.5")
    request(
        edge.port, "POST", "/api/v3", {**rpc("icx_call"), "params": "x" * 8192}, source="127.0.0.5"
    )
    lines = [entry for entry in log_lines(edge) if entry["client"] == "127.0.0.5"]
    assert [(e["method"], e["status"]) for e in lines] == [
        ("icx_getBalance", 200),
        ("batch", 200),
        ("", 404),
        ("invalid", 400),
        ("", 405),
        ("", 413),
    ]
    single, batch, blocked = lines[:3]
    assert batch["methods"] == "icx_getLastBlock,icx_call" and batch["batch"] == 2
    assert single["methods"] == "icx_getBalance" and single["batch"] == 0
    assert single["uri"] == "/api/v3"
    assert float(single["upstream_time"]) >= 0
    assert blocked["upstream_time"] in ("", "-")  # the node was not asked
    for entry in lines:
        assert time.strptime(entry["time"][:19], "%Y-%m-%dT%H:%M:%S")
        assert isinstance(entry["request_time"], float | int)
        assert isinstance(entry["batch"], int)
    # computing the method(s) at log time raised nothing
    assert "js exception" not in edge.error_log(), edge.error_log()


def test_method_names_are_sanitised_in_the_log(any_edge):
    edge = any_edge
    request(edge.port, "POST", "/api/v3", rpc('x"}\n{"evil":1'), source="127.0.0.6")
    request(edge.port, "POST", "/api/v3", [rpc("icx_call"), rpc("a,b"), 7], source="127.0.0.6")
    lines = [e for e in log_lines(edge) if e["client"] == "127.0.0.6"]
    assert lines[-2]["method"] == "invalid"
    assert lines[-1]["methods"] == "icx_call,invalid,invalid"


def test_without_an_edge_batch_limit_njs_is_off_the_request_path(fast_edge, upstream):
    conf = fast_edge.conf.read_text()
    assert "js_content icon.check" not in conf and "internal;" not in conf
    # njs writes the error pages only: never on the path of a call the node answers
    assert {line.strip() for line in conf.splitlines() if "js_content" in line} == {
        "js_content icon.refuse;"
    }
    assert "js_set $jsonrpc_method" in conf
    # the node, not the edge, decides about batches: the stand-in answers every call
    before = len(upstream.seen)
    calls = [{"method": "a", "id": i} for i in range(150)]  # within the 4k body limit
    status, body = request(fast_edge.port, "POST", "/api/v3", calls, source="127.0.0.7")
    assert status == 200 and len(json.loads(body)) == 150
    assert len(upstream.seen) == before + 1
    entry = [e for e in log_lines(fast_edge) if e["client"] == "127.0.0.7"][-1]
    assert entry["method"] == "batch" and entry["batch"] == 150
    # the log lists at most 100 of a batch's methods
    assert entry["methods"] == ",".join(["a"] * 100)


def test_an_edge_batch_limit_puts_the_check_in_front(edge):
    conf = edge.conf.read_text()
    assert conf.count("js_content icon.check;") == 3  # /api/v3, /api/v3/, /api/v3/icon_dex
    assert conf.count("internal;") == 3


@pytest.fixture(scope="module")
def strict_edge(tmp_path_factory, upstream):
    e = _edge(tmp_path_factory, upstream, icon_edge_rate_per_second=2, icon_edge_rate_burst=3)
    yield e
    e.stop()


def test_rate_limit_per_client(strict_edge):
    statuses = [
        request(strict_edge.port, "POST", "/api/v3", rpc("icx_getLastBlock"), source="127.0.0.2")[0]
        for _ in range(10)
    ]
    assert statuses[:4] == [200] * 4  # the rate's first token plus the burst
    assert statuses.count(429) >= 5
    status, body = request(
        strict_edge.port, "POST", "/api/v3", rpc("icx_getLastBlock"), source="127.0.0.2"
    )
    assert status == 429 and json.loads(body) == {
        "jsonrpc": "2.0",
        "error": {"code": -32000, "message": "ServerError: rate limit exceeded"},
        "id": 1,  # the refused call's own id
    }
    # another client is not affected
    status, _ = request(
        strict_edge.port, "POST", "/api/v3", rpc("icx_getLastBlock"), source="127.0.0.3"
    )
    assert status == 200
    refused = [e for e in log_lines(strict_edge) if e["client"] == "127.0.0.2"][-1]
    # the refusal read the body for its id, so the log names the refused method too
    assert (refused["status"], refused["method"], refused["upstream_time"]) == (
        429,
        "icx_getLastBlock",
        "",
    )


@pytest.mark.parametrize(("name", "values"), sorted(edge_config.GENERATED.items()))
def test_generated_compose_configs_are_up_to_date(name, values):
    """edge/nginx*.conf are rendered from the template; regenerate with ICONCTL_UPDATE_GOLDENS=1."""
    import os

    path = edge_config.EDGE_DIR / name
    expected = edge_config.render(**values)
    if os.environ.get("ICONCTL_UPDATE_GOLDENS") == "1":
        path.write_text(expected, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == expected


# --- in front of the node simulator (`iconctl sim`), as on a real node ----------------------


@pytest.fixture(scope="module")
def sim():
    from tests.integration.simagent import start_sim

    service = start_sim("--block-interval", "0.5", "--batch-limit", "10")
    yield service
    service.stop()


def _edge_before(sim, directory, **settings):
    """A started edge in front of the simulator, rate limits out of the way."""
    need_tool("nginx")
    e = Edge(
        directory,
        port=free_port(),
        upstream=sim.info["url"].split("/")[2],
        icon_edge_rate_per_second=10000,
        icon_edge_rate_burst=10000,
        **settings,
    )
    e.start()
    return e


@pytest.fixture(scope="module")
def sim_edge(tmp_path_factory, sim):
    e = _edge_before(sim, tmp_path_factory.mktemp("sim-edge"), icon_edge_max_batch=5)
    yield e
    e.stop()


def test_sim_jsonrpc_through_the_edge(sim, sim_edge):
    for path in ("/api/v3", "/api/v3/icon_dex"):
        status, body = request(sim_edge.port, "POST", path, rpc("icx_getLastBlock"))
        assert status == 200
        result = json.loads(body)["result"]
        assert result["height"] >= 1000 and len(result["block_hash"]) == 64
    status, body = request(
        sim_edge.port, "POST", "/api/v3", [rpc("icx_getLastBlock", 1), rpc("icx_getTotalSupply", 2)]
    )
    assert status == 200 and [r["id"] for r in json.loads(body)] == [1, 2]
    # the node's own JSON-RPC errors pass through unchanged
    status, body = request(sim_edge.port, "POST", "/api/v3", rpc("icx_noSuchMethod"))
    assert json.loads(body)["error"]["code"] == -32601


def test_sim_admin_and_metrics_blocked_only_at_the_edge(sim, sim_edge):
    base = sim.info["url"].rsplit("/api/v3", 1)[0]
    sim_port = int(base.rsplit(":", 1)[1])
    for path in ("/admin/chain", "/metrics"):
        assert request(sim_port, "GET", path)[0] == 200  # the node does answer them...
        assert request(sim_edge.port, "GET", path)[0] == 404  # ...but never to the public


def test_sim_batch_limit_at_the_edge(sim_edge):
    status, body = request(
        sim_edge.port, "POST", "/api/v3", [rpc("icx_getLastBlock", i) for i in range(6)]
    )
    assert status == 413 and "limit of 5" in json.loads(body)["error"]["message"]


@pytest.fixture(scope="module")
def sim_fast_edge(tmp_path_factory, sim):
    e = _edge_before(sim, tmp_path_factory.mktemp("sim-fast-edge"))
    yield e
    e.stop()


def test_sim_batch_limit_of_the_node_behind_the_default_edge(sim_fast_edge):
    """Without an edge limit the node's rpcBatchLimit (10 here) refuses larger batches."""
    status, body = request(
        sim_fast_edge.port, "POST", "/api/v3", [rpc("icx_getLastBlock", i) for i in range(10)]
    )
    assert status == 200 and len(json.loads(body)) == 10
    status, body = request(
        sim_fast_edge.port,
        "POST",
        "/api/v3",
        [rpc("icx_getLastBlock", i) for i in range(11)],
        source="127.0.0.8",
    )
    assert status == 503 and json.loads(body)["error"]["code"] == -32600
    entry = [e for e in log_lines(sim_fast_edge) if e["client"] == "127.0.0.8"][-1]
    assert (entry["method"], entry["batch"], entry["status"]) == ("batch", 11, 503)


def test_sim_websocket_blocks_through_the_edge(sim_edge):
    """A real websocket to the simulator's block stream, through the edge."""
    import base64
    import os
    import struct

    with socket.create_connection(("127.0.0.1", sim_edge.port), timeout=10) as sock:
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(
            (
                f"GET /api/v3/icon_dex/block HTTP/1.1\r\nHost: edge\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)
        assert head.startswith(b"HTTP/1.1 101"), head
        payload = json.dumps({"height": hex(1000)}).encode()
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)
        first = sock.recv(2)
        assert first[0] & 0x0F == 1, first  # a text frame comes back
        length = first[1] & 0x7F
        if length == 126:
            length = struct.unpack("!H", sock.recv(2))[0]
        data = b""
        while len(data) < length:
            data += sock.recv(length - len(data))
        assert json.loads(data)  # the node's answer (a result or a notification)


def test_tls_flavour_serves_https_and_redirects_http(tmp_path_factory, upstream):
    """The single-node configuration with a certificate where certbot would put it."""
    import ssl
    import subprocess

    need_tool("nginx", "openssl")
    workdir = tmp_path_factory.mktemp("tls-edge")
    live = workdir / "live" / "icon-edge"
    live.mkdir(parents=True)
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(live / "privkey.pem"),
            "-out",
            str(live / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
    )
    https_port = free_port()
    e = Edge(
        workdir,
        port=free_port(),
        upstream=f"127.0.0.1:{upstream.server_address[1]}",
        icon_edge_tls_email="ops@example.org",
        icon_edge_domain="localhost",
        icon_edge_https_port=https_port,
        icon_edge_cert_dir=str(workdir / "live"),
        icon_edge_acme_webroot=str(workdir),
    )
    e.start()
    try:
        status, _ = request(e.port, "POST", "/api/v3", rpc("icx_getLastBlock"))
        assert status == 301  # plain HTTP only redirects (and answers ACME challenges)
        context = ssl.create_default_context(cafile=str(live / "fullchain.pem"))
        context.check_hostname = False
        conn = http.client.HTTPSConnection("127.0.0.1", https_port, timeout=10, context=context)
        conn.request(
            "POST",
            "/api/v3",
            body=json.dumps(rpc("icx_getLastBlock")),
            headers={"Content-Type": "application/json"},
        )
        resp = conn.getresponse()
        assert resp.status == 200
        assert json.loads(resp.read())["result"]["height"] == 512
        assert resp.getheader("Strict-Transport-Security")
        conn.request("GET", "/admin/chain")
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 404
        conn.close()
    finally:
        e.stop()


# --- the immutable-read cache, in front of the simulator -----------------------------------


@pytest.fixture(scope="module")
def sim_cache_edge(tmp_path_factory, sim):
    directory = tmp_path_factory.mktemp("sim-cache-edge")
    e = _edge_before(
        sim,
        directory,
        icon_edge_cache_size=16,
        icon_edge_cache_dir=str(directory / "cache"),
        # run as root, nginx's workers would be "nobody" and could not reach a cache inside
        # pytest's private temp directory; unprivileged, the directive is ignored
        icon_edge_user="root",
    )
    yield e
    e.stop()


def node_calls(sim, method: str) -> int:
    """goloop_jsonrpc_retrieve_cnt{method} of the simulator: what reached the node."""
    from tests.integration.simagent import http

    text = http("GET", sim.info["url"].removesuffix("/api/v3") + "/metrics")[1].decode()
    for line in text.splitlines():
        if line.startswith("goloop_jsonrpc_retrieve_cnt{") and f'method="{method}"' in line:
            return int(float(line.split()[-1]))
    return 0


def raw_call(port: int, path: str, method: str, params=None, rid=1) -> tuple[int, bytes]:
    payload = {"jsonrpc": "2.0", "method": method, "id": rid}
    if params is not None:
        payload["params"] = params
    return request(port, "POST", path, payload)


def test_cache_answers_immutable_reads_with_the_nodes_bytes(sim, sim_cache_edge):
    from tests.integration.simagent import rpc as sim_rpc

    sim_port = int(sim.info["url"].split(":")[2].split("/")[0])
    height = sim_rpc(sim.info["url"], "icx_getLastBlock")[1]["result"]["height"] - 2
    params = {"height": hex(height)}
    before = node_calls(sim, "icx_getBlockByHeight")
    first = raw_call(sim_cache_edge.port, "/api/v3", "icx_getBlockByHeight", params, rid=1)
    assert first[0] == 200, sim_cache_edge.error_log()[-3000:]
    for rid in ("x<y", 7, 2.5):  # other ids, other paths: one key
        hit = raw_call(sim_cache_edge.port, "/api/v3/icon_dex", "icx_getBlockByHeight", params, rid)
        direct = raw_call(sim_port, "/api/v3", "icx_getBlockByHeight", params, rid)
        assert hit == direct  # same status, same bytes, the caller's id
    assert node_calls(sim, "icx_getBlockByHeight") == before + 1 + 3  # 1 miss + 3 direct
    entries = [e for e in log_lines(sim_cache_edge) if e["method"] == "icx_getBlockByHeight"]
    assert [e["cache"] for e in entries[-4:]] == ["MISS", "HIT", "HIT", "HIT"]


def test_cache_never_stores_what_can_change(sim, sim_cache_edge):
    from tests.integration.simagent import control
    from tests.integration.simagent import rpc as sim_rpc

    tip = sim_rpc(sim.info["url"], "icx_getLastBlock")[1]["result"]["height"]
    future = {"height": hex(tip + 50)}
    status, body = raw_call(sim_cache_edge.port, "/api/v3", "icx_getBlockByHeight", future)
    assert status == 400 and json.loads(body)["error"]["code"] == -31004
    control(sim, "/produce", {"blocks": 60})
    status, body = raw_call(sim_cache_edge.port, "/api/v3", "icx_getBlockByHeight", future)
    assert status == 200 and json.loads(body)["result"]["height"] == tip + 50  # not the error
    # reads of the latest state are never cached; reads at an explicit height are
    for method, params, cached in (
        ("icx_getLastBlock", None, False),
        ("icx_getBalance", {"address": "hx" + "1" * 40}, False),
        ("icx_getBalance", {"address": "hx" + "1" * 40, "height": hex(tip)}, True),
        ("icx_getTotalSupply", {"height": hex(tip)}, True),
    ):
        before = node_calls(sim, method)
        for rid in range(3):
            assert raw_call(sim_cache_edge.port, "/api/v3", method, params, rid)[0] == 200
        assert node_calls(sim, method) - before == (1 if cached else 3), method
    # a batch with a member that can change, and notifications, take the node's own path
    before = node_calls(sim, "icx_getTotalSupply")
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "icx_getTotalSupply", "params": params},
        {"jsonrpc": "2.0", "id": 2, "method": "icx_getLastBlock"},
    ]
    status, body = request(sim_cache_edge.port, "POST", "/api/v3", batch)
    assert status == 200 and [a["id"] for a in json.loads(body)] == [1, 2]
    assert node_calls(sim, "icx_getTotalSupply") == before + 1


def test_cache_answers_batches_of_immutable_reads_with_the_nodes_bytes(sim, sim_cache_edge):
    from tests.integration.simagent import rpc as sim_rpc

    sim_port = int(sim.info["url"].split(":")[2].split("/")[0])
    tip = sim_rpc(sim.info["url"], "icx_getLastBlock")[1]["result"]["height"]
    at = {"height": hex(tip - 3)}
    batch = [
        {"jsonrpc": "2.0", "id": "a<b", "method": "icx_getBlockByHeight", "params": at},
        {"jsonrpc": "2.0", "id": 7, "method": "icx_getTotalSupply", "params": at},
        {"jsonrpc": "2.0", "id": 2.5, "method": "icx_getBalance",
         "params": {"address": "hx" + "3" * 40, **at}},
        # a member that is an error now (a block not made yet) is answered but never stored
        {"jsonrpc": "2.0", "id": 9, "method": "icx_getBlockByHeight",
         "params": {"height": hex(tip + 500)}},
    ]  # fmt: skip
    before = node_calls(sim, "icx_getBlockByHeight")
    first = request(sim_cache_edge.port, "POST", "/api/v3", batch)
    assert first[0] == 200, sim_cache_edge.error_log()[-3000:]
    second = request(sim_cache_edge.port, "POST", "/api/v3/icon_dex", batch)
    direct = request(sim_port, "POST", "/api/v3", batch)
    assert first == second == direct  # same status, same bytes, every caller's id
    # block tip-3: one miss, then a hit; block tip+500: every time (never stored); direct: 2
    assert node_calls(sim, "icx_getBlockByHeight") == before + 1 + 2 + 2
    reordered = [batch[1], batch[0]]
    hits = request(sim_cache_edge.port, "POST", "/api/v3", reordered)
    assert hits == request(sim_port, "POST", "/api/v3", reordered)
    assert node_calls(sim, "icx_getBlockByHeight") == before + 1 + 2 + 2 + 1  # the direct one
    entries = [e for e in log_lines(sim_cache_edge) if e["method"] == "batch"]
    assert [e["cache"] for e in entries[-3:]] == ["MISS", "MISS", "HIT"]
    # longer than the node's batch limit: the node refuses it as a whole, as without the cache
    eleven = [dict(batch[1], id=i) for i in range(11)]
    refused = request(sim_cache_edge.port, "POST", "/api/v3", eleven)
    assert refused == request(sim_port, "POST", "/api/v3", eleven)
    assert refused[0] == 503
