"""The simulator's chain, JSON-RPC dispatcher, scenario rules and data directory, in process."""

from __future__ import annotations

import json

import pytest

from iconctl.errors import InputError
from iconctl.sim import Scenario, SimOptions, Simulator
from iconctl.sim.chain import Chain
from iconctl.sim.datadir import FLUSH_BLOCKS, DataDir


def chain(cid: int = 1) -> Chain:
    return Chain(
        cid=cid,
        nid=1,
        channel="icon_dex",
        start_height=100,
        block_interval=2.0,
        now_us=1_700_000_000_000_000,
    )


def test_hashes_are_deterministic_and_found_again():
    a, b = chain(), chain()
    assert a.block_hash(42) == b.block_hash(42) != chain(cid=2).block_hash(42)
    assert a.height_of_block_hash("0x" + a.block_hash(42)) == 42
    assert a.height_of_tx_hash(a.tx_hash(42)) == 42
    forged = a.block_hash(42)[:-1] + ("0" if a.block_hash(42)[-1] != "0" else "1")
    assert a.height_of_block_hash(forged) is None
    assert a.height_of_tx_hash("0x" + "00" * 32) is None


def test_timestamps_before_and_after_start():
    c = chain()
    assert c.timestamp(99) == c.timestamp(100) - 2_000_000
    c.produce(1_700_000_000_500_000)
    assert c.head == 101 and c.timestamp(101) == 1_700_000_000_500_000
    c.produce(0)  # a clock that goes back never makes time go backwards
    assert c.timestamp(102) > c.timestamp(101)


def test_block_links_to_its_parent():
    c = chain()
    block = c.block(100)
    assert block["prev_block_hash"] == c.block(99)["block_hash"]
    assert block["confirmed_transaction_list"][0]["txHash"] == c.tx_hash(100)
    assert c.block(0)["prev_block_hash"] == ""


@pytest.fixture
def sim():
    return Simulator(SimOptions(), Scenario())


def call(sim, payload) -> tuple[int, object]:
    status, body = sim.dispatcher.handle(json.dumps(payload).encode())
    return status, json.loads(body) if body else None


def test_dispatch_last_block_and_ids(sim):
    for rid in (1, "abc", 2.5):
        status, body = call(sim, {"jsonrpc": "2.0", "id": rid, "method": "icx_getLastBlock"})
        assert status == 200 and body["id"] == rid and body["result"]["height"] == 1000


def test_notification_gets_no_answer(sim):
    """goloop treats a missing and a null id alike: a notification, not answered."""
    assert sim.dispatcher.handle(b'{"jsonrpc":"2.0","method":"icx_getLastBlock"}') == (200, b"")
    null_id = b'{"jsonrpc":"2.0","id":null,"method":"icx_getLastBlock"}'
    assert sim.dispatcher.handle(null_id) == (200, b"")


def test_block_signature_is_empty_as_goloop_writes_it(sim):
    assert (
        call(sim, {"jsonrpc": "2.0", "id": 1, "method": "icx_getLastBlock"})[1]["result"][
            "signature"
        ]
        == ""
    )


def test_batch_above_the_limit_carries_data(sim):
    calls = [{"jsonrpc": "2.0", "id": i, "method": "icx_getLastBlock"} for i in range(11)]
    status, body = call(sim, calls)
    assert status == 503
    assert body["error"] == {
        "code": -32600,
        "message": "InvalidRequest",
        "data": "too many request",
    }


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"id": 1, "method": "icx_getLastBlock"}, -32600),  # no "jsonrpc"
        ({"jsonrpc": "2.0", "id": 1}, -32600),
        ({"jsonrpc": "2.0", "id": 1, "method": "icx_getBalance", "params": [1]}, -32602),
        ("just a string", -32600),
        ({"jsonrpc": "2.0", "id": 1, "method": "icx_getLastBlock", "extra": 1}, -32600),
        ({"jsonrpc": "2.0", "id": True, "method": "icx_getLastBlock"}, -32600),
        ({"jsonrpc": "1.0", "id": 1, "method": "icx_getLastBlock"}, -32600),
        # goloop's validators: lowercase hex only, no unknown fields, no height past the tip
        (
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "icx_getBlockByHeight",
                "params": {"height": "0x3E8"},
            },
            -32602,
        ),
        (
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "icx_getBlockByHeight",
                "params": {"height": "0x03e8"},
            },
            -32602,
        ),
        (
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "icx_getBlockByHeight",
                "params": {"height": "0x3e8", "full": "0x1"},
            },
            -32602,
        ),
        (
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "icx_getBlockByHeight",
                "params": {"height": 1000},
            },
            -32602,
        ),
        (
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "icx_getBlockByHeight",
                "params": {"height": "0x3e9"},
            },
            -31004,
        ),
        (
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "icx_getBalance",
                "params": {"address": "hx" + "A" * 40},
            },
            -32602,
        ),
        (
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "icx_getBalance",
                "params": {"address": "hx" + "a" * 40, "height": "0x3e9"},
            },
            -31004,
        ),
        ({"jsonrpc": "2.0", "id": 1, "method": "icx_getBalance"}, -32602),
        ({"jsonrpc": "2.0", "id": 1, "method": "icx_getLastBlock", "params": {"x": "1"}}, -32602),
        (
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "icx_call",
                "params": {"to": "cx" + "1" * 40, "dataType": "call", "data": {}},
            },
            -32602,
        ),
        (
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "icx_call",
                "params": {"to": "cx" + "1" * 40, "dataType": "call", "data": {"method": "x"}},
            },
            -30002,
        ),
        (
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "icx_getScoreApi",
                "params": {"address": "hx" + "1" * 40},
            },
            -32602,
        ),
        (
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "icx_getScoreApi",
                "params": {"address": "cx" + "1" * 40},
            },
            -31004,
        ),
        (
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "icx_getScoreStatus",
                "params": {"address": "cx" + "1" * 40},
            },
            -31004,
        ),
        ({"jsonrpc": "2.0", "id": 1, "method": "debug_estimateStep"}, -32601),
    ],
)
def test_dispatch_invalid_requests(sim, payload, code):
    status, body = call(sim, payload)
    assert status == 400 and body["error"]["code"] == code


def test_stopped_chain_answers_stopped(sim):
    sim.scenario.admin_state = "stopped"
    status, body = call(sim, {"jsonrpc": "2.0", "id": 1, "method": "icx_getLastBlock"})
    assert status == 400 and body["error"]["message"] == "ServerError: Stopped"


def test_lag_serves_older_blocks():
    sim = Simulator(SimOptions(start_height=1000), Scenario(lag=40))
    assert sim.height == 960
    sim.produce_now(10)
    assert sim.height == 970 and sim.chain.head == 1010
    sim.scenario.update({"lag": 100})
    sim.produce_now(10)
    assert sim.height == 970  # never backwards
    sim.scenario.update({"lag": 0})
    sim.produce_now(1)
    assert sim.height == 1021


@pytest.mark.parametrize(
    "changes",
    [
        {"lag": -1},
        {"lag": 1.5},
        {"block_interval": 0},
        {"error_rate": -0.1},
        {"stalled": 1},
        {"admin_state": "paused"},
        {"peers": "8"},
        {"unknown": 1},
        {"latency_ms": True},
    ],
)
def test_scenario_update_is_all_or_nothing(changes):
    scenario = Scenario()
    before = Scenario(**vars(scenario))
    with pytest.raises(InputError):
        scenario.update({"peers": 3, **changes})
    assert scenario == before


def test_scenario_update_applies_and_converts():
    scenario = Scenario()
    scenario.update({"block_interval": 1, "stalled": True, "admin_state": "stopped"})
    assert scenario.block_interval == 1.0 and isinstance(scenario.block_interval, float)
    assert scenario.stalled and scenario.admin_state == "stopped"


def test_data_dir_flushes_and_resumes(tmp_path):
    c = chain()
    data = DataDir(tmp_path, cid=1, channel="icon_dex")
    assert data.last_height() is None
    data.open(c, 100)
    for _ in range(FLUSH_BLOCKS + 5):
        data.append(c, c.produce(c.timestamp(c.head) + 1))
    data.close()
    db = tmp_path / "data" / "1" / "db" / "icon_dex"
    assert sorted(p.name for p in db.glob("*.sst")) == ["000001.sst", "000003.sst"]
    assert (db / "CURRENT").read_text() == "MANIFEST-000001\n"
    assert not list((tmp_path / "data" / "1" / "tmp").iterdir())  # no temp files left
    assert DataDir(tmp_path, cid=1, channel="icon_dex").last_height() == c.head
    with (db / "000004.log").open("ab") as log:
        log.write(b'{"height": 99999, "trunc')  # a torn write after a crash
    assert DataDir(tmp_path, cid=1, channel="icon_dex").last_height() == c.head
