"""`iconctl sim` as a real process on loopback: formats, scenarios, admin API, data directory."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import time

import pytest

from tests.helpers import need_tool
from tests.integration.simagent import control, http, rpc, start_sim, wait_for

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def sim():
    with start_sim("--block-interval", "0.05", "--start-height", "500") as service:
        yield service


def height(sim) -> int:
    status, body = rpc(sim.info["url"], "icx_getLastBlock")
    assert status == 200, body
    return body["result"]["height"]


def test_last_block_has_goloop_fields_and_advances(sim):
    status, body = rpc(sim.info["url"], "icx_getLastBlock", rid=1001)
    assert status == 200
    assert body["jsonrpc"] == "2.0" and body["id"] == 1001
    block = body["result"]
    assert set(block) == {
        "block_hash",
        "confirmed_transaction_list",
        "height",
        "merkle_tree_root_hash",
        "peer_id",
        "prev_block_hash",
        "signature",
        "time_stamp",
        "version",
    }
    assert isinstance(block["height"], int) and block["height"] >= 500
    assert isinstance(block["time_stamp"], int)
    assert abs(block["time_stamp"] / 1e6 - time.time()) < 5  # microseconds since the epoch
    assert len(block["block_hash"]) == 64 and not block["block_hash"].startswith("0x")
    assert block["peer_id"].startswith("hx") and block["version"] == "2.0"
    wait_for(lambda: height(sim) >= block["height"] + 3, message="height to advance")


def test_block_lookups_agree(sim):
    url = sim.info["url"]
    last = rpc(url, "icx_getLastBlock")[1]["result"]
    by_height = rpc(url, "icx_getBlockByHeight", {"height": hex(last["height"])})[1]["result"]
    assert by_height == last
    by_hash = rpc(url, "icx_getBlockByHash", {"hash": "0x" + last["block_hash"]})[1]["result"]
    assert by_hash == last
    prev = rpc(url, "icx_getBlockByHeight", {"height": hex(last["height"] - 1)})[1]["result"]
    assert last["prev_block_hash"] == prev["block_hash"]
    # a block's results are final once the next block is: ask for the one before the last
    tx = prev["confirmed_transaction_list"][0]["txHash"]
    status, body = rpc(url, "icx_getTransactionResult", {"txHash": tx})
    assert status == 200 and body["result"]["blockHeight"] == hex(prev["height"])
    assert body["result"]["status"] == "0x1"


@pytest.mark.parametrize(
    ("method", "params", "code"),
    [
        ("icx_noSuchMethod", None, -32601),
        ("icx_getBlockByHeight", {"height": "12"}, -32602),
        ("icx_getBlockByHeight", {"height": "0xffffffff"}, -31004),
        ("icx_getBlockByHash", {"hash": "0x" + "ab" * 32}, -31004),
        ("icx_getBalance", {"address": "hxnothex"}, -32602),
        ("icx_getTransactionResult", {"txHash": "0x" + "00" * 32}, -31004),
        (  # no SCORE was deployed there
            "icx_call",
            {"to": "cx" + "1" * 40, "dataType": "call", "data": {"method": "nope"}},
            -30002,
        ),
        (
            "icx_call",
            {"to": "cx" + "0" * 40, "dataType": "call", "data": {"method": "nope"}},
            -30003,
        ),
    ],
)
def test_errors_are_jsonrpc_objects_with_status_400(sim, method, params, code):
    status, body = rpc(sim.info["url"], method, params, rid=7)
    assert status == 400
    assert body["error"]["code"] == code and body["id"] == 7
    assert isinstance(body["error"]["message"], str)


def test_other_methods_and_channel_path(sim):
    url = sim.info["url"] + "/icon_dex"
    status, body = rpc(url, "icx_getNetworkInfo")
    assert status == 200
    info = body["result"]
    assert info["channel"] == "icon_dex" and info["nid"] == "0x1" and info["platform"] == "icon"
    assert int(info["latest"], 16) >= 500
    assert rpc(url, "icx_getTotalSupply")[1]["result"].startswith("0x")
    balance = rpc(url, "icx_getBalance", {"address": "hx" + "1" * 40})[1]["result"]
    assert balance == rpc(url, "icx_getBalance", {"address": "hx" + "1" * 40})[1]["result"]
    call = {
        "to": "cx0000000000000000000000000000000000000000",
        "dataType": "call",
        "data": {"method": "getStepPrice"},
    }
    assert rpc(url, "icx_call", call)[1]["result"] == "0x2e90edd00"
    status, _ = http("POST", sim.info["url"] + "/other_channel", {"jsonrpc": "2.0"})
    assert status == 404


def test_parse_error_and_batches(sim):
    url = sim.info["url"]
    status, body = http("POST", url, b"{not json")
    assert status == 400 and json.loads(body)["error"]["code"] == -32700
    status, body = http("POST", url, [])
    assert status == 400 and json.loads(body)["error"]["code"] == -32600
    batch = [{"jsonrpc": "2.0", "id": i, "method": "icx_getLastBlock"} for i in range(3)]
    batch.append({"jsonrpc": "2.0", "method": "icx_getLastBlock"})  # notification: no answer
    batch.append({"jsonrpc": "2.0", "id": 9, "method": "nope"})
    status, body = http("POST", url, batch)
    answers = json.loads(body)
    assert status == 200 and [a["id"] for a in answers] == [0, 1, 2, 9]
    assert answers[3]["error"]["code"] == -32601
    status, body = http("POST", url, [batch[0]] * 11)  # rpcBatchLimit defaults to 10
    assert status == 503 and json.loads(body)["error"]["code"] == -32600


def test_admin_stop_freezes_height_and_start_resumes(sim):
    base = sim.info["url"].removesuffix("/api/v3")
    status, body = http("GET", base + "/admin/chain")
    chains = json.loads(body)
    assert status == 200 and chains[0]["state"] == "started" and chains[0]["cid"] == "0x1"
    assert set(chains[0]) == {"cid", "nid", "channel", "state", "height", "lastError"}
    assert http("POST", base + "/admin/chain/0x1/stop") == (200, b"OK")
    frozen = json.loads(http("GET", base + "/admin/chain")[1])[0]
    assert frozen["state"] == "stopped"
    time.sleep(0.3)  # six block intervals
    again = json.loads(http("GET", base + "/admin/chain")[1])[0]
    assert again["height"] == frozen["height"]
    status, body = rpc(sim.info["url"], "icx_getLastBlock")
    assert status == 400 and body["error"] == {"code": -32000, "message": "ServerError: Stopped"}
    assert http("POST", base + "/admin/chain/0x1/stop")[0] == 500
    assert http("POST", base + "/admin/chain/icon_dex/start") == (200, b"OK")
    wait_for(lambda: height(sim) > frozen["height"], message="height after start")
    assert http("POST", base + "/admin/chain/0x9/stop")[0] == 404


def test_admin_inspect_lists_peers_and_system(sim):
    base = sim.info["url"].removesuffix("/api/v3")
    inspect = json.loads(http("GET", base + "/admin/chain/0x1")[1])
    p2p = inspect["module"]["network"]["p2p"]
    listed = sum(len(p2p[k]) for k in ("friends", "children", "uncles", "nephews", "others"))
    assert listed + (1 if p2p["parent"] else 0) == 8
    control(sim, "/scenario", {"peers": 2})
    p2p = json.loads(http("GET", base + "/admin/chain/0x1")[1])["module"]["network"]["p2p"]
    assert len(p2p["uncles"]) + len(p2p["others"]) + (1 if p2p["parent"] else 0) == 2
    system = json.loads(http("GET", base + "/admin/system")[1])
    assert system["config"]["rpcBatchLimit"] == 10 and "buildVersion" in system


def test_metrics_use_goloop_names(sim):
    rpc(sim.info["url"], "icx_getLastBlock")
    rpc(sim.info["url"], "nope")
    base = sim.info["url"].removesuffix("/api/v3")
    status, body = http("GET", base + "/metrics")
    text = body.decode()
    assert status == 200
    assert "# TYPE goloop_consensus_height gauge" in text
    assert 'goloop_jsonrpc_retrieve_cnt{channel="icon_dex",' in text
    assert 'method="icx_getLastBlock"} ' in text
    line = next(x for x in text.splitlines() if x.startswith("goloop_consensus_height{"))
    assert int(float(line.split()[-1])) >= 500


def test_control_stall_lag_errors_latency(sim):
    control(sim, "/scenario", {"stalled": True})
    stalled_at = height(sim)
    time.sleep(0.3)
    assert height(sim) == stalled_at
    state = control(sim, "/scenario", {"stalled": False, "lag": 40})
    assert state["scenario"]["lag"] == 40
    # a lag never moves the height backwards: it pauses until the chain is 40 ahead
    time.sleep(0.3)
    assert height(sim) == stalled_at
    state = control(sim, "/scenario", {"lag": 0})
    wait_for(lambda: height(sim) >= state["head"], message="catch up after the lag")

    control(sim, "/scenario", {"error_rate": 1.0})
    status, body = http(
        "POST", sim.info["url"], {"jsonrpc": "2.0", "id": 3, "method": "icx_getLastBlock"}
    )
    assert status == 500 and json.loads(body)["error"]["code"] == -31000
    control(sim, "/scenario", {"error_rate": 0.0, "latency_ms": 300})
    started = time.monotonic()
    assert rpc(sim.info["url"], "icx_getLastBlock")[0] == 200
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize(
    "body",
    [
        {"lag": -1},
        {"lag": "x"},
        {"nope": 1},
        {"admin_state": "x"},
        {"error_rate": 2},
        {"stalled": "yes"},
    ],
)
def test_control_rejects_bad_scenarios(sim, body):
    status, raw = http("POST", sim.info["control_url"] + "/scenario", body)
    assert status == 400 and "error" in json.loads(raw)


def test_admin_state_flag_and_restart():
    with start_sim("--block-interval", "0.05", "--admin-state", "stopped") as sim:
        base = sim.info["url"].removesuffix("/api/v3")
        assert json.loads(http("GET", base + "/admin/chain")[1])[0]["state"] == "stopped"
        control(sim, "/restart", {"down_seconds": 0.5})

        def refused() -> bool:
            try:
                http("GET", base + "/admin/chain", timeout=1)
            except OSError:
                return True
            return False

        wait_for(refused, timeout=3, message="the listener to go away")
        wait_for(lambda: not refused(), timeout=5, message="the listener to come back")


def test_websocket_block_stream(sim):
    aiohttp = pytest.importorskip("aiohttp")
    start = height(sim)

    async def stream() -> list[dict]:
        url = sim.info["url"].replace("http://", "ws://") + "/icon_dex/block"
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            await ws.send_str(json.dumps({"height": hex(start - 2)}))
            first = await asyncio.wait_for(ws.receive_json(), 5)
            notes = [first]
            while len(notes) < 8:
                notes.append(await asyncio.wait_for(ws.receive_json(), 5))
            return notes

    notes = asyncio.run(stream())
    assert notes[0] == {"code": 0}
    heights = [int(n["height"], 16) for n in notes[1:]]
    assert heights == list(range(start - 2, start + 5))  # history first, then new blocks
    by_height = rpc(sim.info["url"], "icx_getBlockByHeight", {"height": hex(start)})[1]["result"]
    assert notes[3]["hash"] == "0x" + by_height["block_hash"]


def test_data_dir_grows_and_resumes(tmp_path):
    data = tmp_path / "node"
    with start_sim("--block-interval", "0.02", "--data-dir", str(data)) as sim:
        db = data / "data" / "1" / "db" / "icon_dex"
        wait_for(lambda: len(list(db.glob("*.sst"))) >= 2, timeout=15, message="a flush")
        sizes = sum(p.stat().st_size for p in db.iterdir())
        wait_for(lambda: sum(p.stat().st_size for p in db.iterdir()) > sizes, message="growth")
        base = sim.info["url"].removesuffix("/api/v3")
        http("POST", base + "/admin/chain/0x1/stop")
        stopped = json.loads(http("GET", base + "/admin/chain")[1])[0]["height"]
        snapshot = {p.name: p.read_bytes() for p in db.iterdir()}
        time.sleep(0.2)
        assert {p.name: p.read_bytes() for p in db.iterdir()} == snapshot  # quiet while stopped
        copy = tmp_path / "copy"
        shutil.copytree(data, copy)
    assert (data / "data" / "1" / "genesis.zip").is_file()
    with start_sim("--data-dir", str(copy), "--block-interval", "5") as resumed:
        assert resumed.info["height"] == stopped


def test_sigterm_and_sigint_exit_cleanly():
    for sig in (signal.SIGTERM, signal.SIGINT):
        sim = start_sim()
        assert sim.stop(sig) == 0


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--control-listen", "0.0.0.0:0"], 3, "loopback only"),
        (["--control-listen", "127.attacker.example:0"], 3, "loopback only"),
        (["--block-interval", "0"], 3, "block_interval"),
        (["--admin-state", "dancing"], 3, "admin_state"),
        (["--listen", "nope"], 3, "--listen"),
        (["--cid", "zz"], 3, "--cid"),
        (["--error-rate", "1.5"], 3, "error_rate"),
    ],
)
def test_bad_flags(iconctl, args, code, message):
    result = iconctl("sim", "--listen", "127.0.0.1:0", *args, timeout=30)
    assert result.returncode == code, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_unwritable_data_dir_is_a_clear_error(iconctl, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = iconctl("sim", "--listen", "127.0.0.1:0", "--data-dir", str(blocker), timeout=30)
    assert result.returncode == 3 and "--data-dir" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_busy_port_is_a_clear_error(iconctl, sim):
    port = sim.info["url"].split(":")[-1].split("/")[0]
    result = iconctl("sim", "--listen", f"127.0.0.1:{port}", timeout=30)
    assert result.returncode == 3 and "cannot listen" in result.stderr


def test_metrics_parse_with_promtool(sim):
    """goloop's counters end in _cnt, not _total; that naming lint is the only finding."""
    promtool = need_tool("promtool")["promtool"]
    text = http("GET", sim.info["url"].removesuffix("/api/v3") + "/metrics")[1]
    result = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, timeout=30
    )
    findings = [line for line in (result.stdout + result.stderr).decode().splitlines() if line]
    assert findings and all(
        line.endswith('counter metrics should have "_total" suffix') for line in findings
    ), findings


def test_snapshot_of_a_running_sim_restores_and_resumes(iconctl, tmp_path):
    """The demo's path: snapshot through the admin API, restore elsewhere, resume there."""
    data, store, restored = tmp_path / "node", tmp_path / "store", tmp_path / "restored"
    with start_sim("--block-interval", "0.02", "--data-dir", str(data)) as sim:
        db = data / "data" / "1" / "db" / "icon_dex"
        wait_for(lambda: len(list(db.glob("*.sst"))) >= 2, timeout=15, message="a flush")
        base = sim.info["url"].removesuffix("/api/v3")
        snap = iconctl(
            "sync",
            "snapshot",
            "--data-dir",
            str(data),
            "--store",
            str(store),
            "--admin-url",
            base,
            "--chain",
            "0x1",
            "--json",
            timeout=60,
        )
        assert snap.returncode == 0, snap.stderr
        # the chain was started again after the checkpoint and keeps going
        assert json.loads(http("GET", base + "/admin/chain")[1])[0]["state"] == "started"
        after = height(sim)
    result = iconctl(
        "sync", "restore", "--store", str(store), "--data-dir", str(restored), timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert not (restored / "data" / "auth.json").exists()  # node files are not chain data
    with start_sim("--data-dir", str(restored), "--block-interval", "5") as resumed:
        assert 1000 < resumed.info["height"] <= after


def test_websocket_event_stream_progress_and_session_limit():
    aiohttp = pytest.importorskip("aiohttp")
    with start_sim("--block-interval", "0.05", "--ws-max-sessions", "1") as sim:
        start = height(sim)
        ws_base = sim.info["url"].replace("http://", "ws://") + "/icon_dex"

        async def run() -> tuple[list[dict], dict]:
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(ws_base + "/event") as ws,
            ):
                await ws.send_str(
                    json.dumps(
                        {
                            "height": hex(start),
                            "progressInterval": "0x2",
                            "event": "Transfer(Address,Address,int)",
                        }
                    )
                )
                notes = [await asyncio.wait_for(ws.receive_json(), 5) for _ in range(4)]
                async with session.ws_connect(ws_base + "/block") as second:
                    await second.send_str(json.dumps({"height": hex(start)}))
                    refused = await asyncio.wait_for(second.receive_json(), 5)
                return notes, refused

        notes, refused = asyncio.run(run())
    assert notes[0] == {"code": 0}
    # goloop's progress is the height just processed: the first block, then every 2 blocks
    progress = [int(n["progress"], 16) for n in notes[1:]]
    assert progress == [start, start + 2, start + 4]
    assert refused == {"code": -31005, "message": "too many monitor"}


def test_routes_as_goloop_serves_them():
    """/api/v3/ is served; the debug API is off (404) unless --debug-api; GET is 405."""
    funded = "hx" + "5" * 40
    with start_sim("--block-interval", "5", "--fund", f"{funded}=2.5") as sim:
        url = sim.info["url"]
        base = url.removesuffix("/api/v3")
        assert rpc(url + "/", "icx_getLastBlock")[0] == 200
        assert rpc(url, "icx_getBalance", {"address": funded})[1]["result"] == hex(25 * 10**17)
        assert rpc(url, "icx_getBalance", {"address": "hx" + "6" * 40})[1]["result"] == "0x0"
        assert http("POST", base + "/api/v3d", {"jsonrpc": "2.0"}) == (
            404,
            b"debug API is disabled",
        )
        assert http("GET", url)[0] == 405
        assert http("POST", url + "/nope", {"jsonrpc": "2.0"}) == (404, b"No channel")
    with start_sim("--block-interval", "5", "--debug-api") as sim:
        params = {
            "version": "0x3",
            "from": "hx" + "5" * 40,
            "to": "hx" + "6" * 40,
            "timestamp": "0x1",
            "nid": "0x1",
        }
        debug = sim.info["url"].replace("/api/v3", "/api/v3d")
        assert rpc(debug, "debug_estimateStep", params)[1]["result"] == "0x186a0"
        assert rpc(sim.info["url"], "debug_estimateStep", params)[1]["error"]["code"] == -32601


def test_event_monitor_refuses_a_filter_without_an_event_signature(sim):
    aiohttp = pytest.importorskip("aiohttp")

    async def ask(request: dict) -> dict:
        url = sim.info["url"].replace("http://", "ws://") + "/icon_dex/event"
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            await ws.send_str(json.dumps(request))
            return await asyncio.wait_for(ws.receive_json(), 5)

    assert asyncio.run(ask({"height": "0x1"})) == {
        "code": -32602,
        "message": "bad event request parameter",
    }
    assert asyncio.run(ask({"height": "0x1", "nope": 1}))["code"] == -32700
    assert asyncio.run(ask({"height": "0x1", "event": "Transfer(Address)"})) == {"code": 0}


def test_fund_option_refuses_bad_values(iconctl):
    result = iconctl("sim", "--listen", "127.0.0.1:0", "--fund", "hx12=3", timeout=30)
    assert result.returncode == 3 and "--fund" in result.stderr, result.stderr
