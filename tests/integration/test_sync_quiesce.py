"""The node is paused only around the checkpoint: goloop's admin API (served here by a small
HTTP server on loopback that speaks its format) or operator commands."""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers.sync import chain_tree, make_data_dir

pytestmark = pytest.mark.timeout(120)


class FakeAdmin:
    """POST /admin/chain/{cid}/stop|start and GET /admin/chain/{cid}, recording the calls and
    whether the data directory was being written while the chain was 'started'."""

    def __init__(self, data_dir: Path, cid: str = "0x1") -> None:
        self.state = "started"
        self.calls: list[str] = []
        self.cid = cid
        self.data_dir = data_dir
        admin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _send(self, code, doc):
                body = json.dumps(doc).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path == "/admin/chain":
                    admin.calls.append("LIST")
                    listing = [{"cid": admin.cid, "channel": "icon_dex", "state": admin.state}]
                    self._send(200, listing)
                elif self.path == f"/admin/chain/{admin.cid}":
                    admin.calls.append("GET")
                    self._send(
                        200,
                        {
                            "cid": admin.cid,
                            "nid": "0x1",
                            "channel": "icon_dex",
                            "state": admin.state,
                            "height": 100,
                            "lastError": "",
                        },
                    )
                else:
                    self._send(404, {"message": "not found"})

            def do_POST(self):
                action = self.path.rsplit("/", 1)[-1]
                if self.path.startswith(f"/admin/chain/{admin.cid}/") and action in (
                    "stop",
                    "start",
                ):
                    admin.calls.append(action)
                    # a chain that finished stopping only after a poll or two
                    admin.state = "stopping" if action == "stop" else "started"
                    if action == "stop":
                        threading.Timer(0.1, lambda: setattr(admin, "state", "stopped")).start()
                    else:
                        # the node writes as soon as it runs again
                        (admin.data_dir / "data/1/000004.log").open("ab").write(b"after")
                    self._send(200, {})
                else:
                    self._send(404, {"message": "not found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def test_admin_api_pause_brackets_the_checkpoint(tmp_path: Path, iconctl):
    node = make_data_dir(tmp_path / "node", tables=3)
    before = chain_tree(node)
    admin = FakeAdmin(node)
    try:
        res = iconctl(
            "sync",
            "snapshot",
            "--data-dir",
            str(node),
            "--store",
            str(tmp_path / "store"),
            "--admin-url",
            admin.url,
            "--chain",
            "0x1",
            "--json",
        )
    finally:
        admin.close()
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert admin.calls[0] == "stop" and admin.calls[-1] == "start"
    assert "GET" in admin.calls and admin.state == "started"
    assert out["quiesce"] == "admin-api" and 0 < out["pause_seconds"] < 3
    # the snapshot holds the data as it was at the pause, not the write after the restart
    from iconctl.sync.restore import restore_snapshot
    from iconctl.sync.store import open_store

    restore_snapshot(open_store(str(tmp_path / "store")), tmp_path / "t")
    assert chain_tree(tmp_path / "t") == before
    assert chain_tree(node) != before


def test_admin_api_failure_restarts_nothing_it_did_not_stop(tmp_path: Path, iconctl):
    node = make_data_dir(tmp_path / "node", tables=1)
    admin = FakeAdmin(node)
    try:
        res = iconctl(
            "sync",
            "snapshot",
            "--data-dir",
            str(node),
            "--store",
            str(tmp_path / "store"),
            "--admin-url",
            admin.url,
            "--chain",
            "0x9",
        )
    finally:
        admin.close()
    assert res.returncode == 5 and "goloop admin POST /stop" in res.stderr
    # what failed is named as a request to a URL, not as a tool that exited
    assert "/admin/chain/0x9/stop answered HTTP" in res.stderr and "exited" not in res.stderr
    assert admin.calls == [] and not (tmp_path / "store" / "latest.json").exists()


def test_stop_and_start_commands(tmp_path: Path, iconctl):
    node = make_data_dir(tmp_path / "node", tables=1)
    log = tmp_path / "calls.txt"
    cmd = f"{sys.executable} -c \"import sys; open(sys.argv[1], 'a').write(sys.argv[2] + ' ')\""
    res = iconctl(
        "sync",
        "snapshot",
        "--data-dir",
        str(node),
        "--store",
        str(tmp_path / "s"),
        "--stop-cmd",
        f"{cmd} {log} stop",
        "--start-cmd",
        f"{cmd} {log} start",
    )
    assert res.returncode == 0, res.stderr
    assert log.read_text() == "stop start "
    res = iconctl(
        "sync",
        "snapshot",
        "--data-dir",
        str(node),
        "--store",
        str(tmp_path / "s"),
        "--stop-cmd",
        "false",
        "--start-cmd",
        f"{cmd} {log} start",
    )
    assert res.returncode == 5 and "stop the node" in res.stderr
    assert log.read_text() == "stop start "  # a failed stop is not followed by a start


@pytest.mark.parametrize(
    "args",
    [
        ["--chain", "0x1"],
        ["--stop-cmd", "true"],
        [
            "--admin-url",
            "http://127.0.0.1:1",
            "--chain",
            "0x1",
            "--stop-cmd",
            "true",
            "--start-cmd",
            "true",
        ],
        ["--admin-url", "ftp://x", "--chain", "0x1"],
    ],
)
def test_inconsistent_quiesce_options_are_usage_errors(tmp_path: Path, iconctl, args):
    node = make_data_dir(tmp_path / "node", tables=1)
    res = iconctl(
        "sync", "snapshot", "--data-dir", str(node), "--store", str(tmp_path / "s"), *args
    )
    assert res.returncode == 3, res.stderr
    assert not (tmp_path / "s").exists()


def test_admin_api_without_chain_pauses_the_nodes_only_chain(tmp_path: Path, iconctl):
    node = make_data_dir(tmp_path / "node", tables=1)
    admin = FakeAdmin(node, cid="0x2c")
    try:
        res = iconctl(
            "sync", "snapshot", "--data-dir", str(node), "--store", str(tmp_path / "store"),
            "--admin-url", admin.url, "--json",
        )  # fmt: skip
    finally:
        admin.close()
    assert res.returncode == 0, res.stderr
    assert admin.calls[0] == "LIST" and admin.calls[1] == "stop" and admin.calls[-1] == "start"
