"""The simulator's accounts, transactions, SCOREs and event filters, in process."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import pytest
from coincurve import PrivateKey

from iconctl.sim import Scenario, SimOptions, Simulator, parse_funds
from iconctl.sim.ledger import (
    STEP_DEFAULT,
    STEP_PRICE,
    Bloom,
    address_of_public_key,
    event_value_bytes,
    int_bytes,
    transaction_hash,
)
from iconctl.sim.monitor import EventFilter
from iconctl.sim.rpc import Context

KEY = PrivateKey(bytes.fromhex("11" * 32))
SENDER = address_of_public_key(KEY.public_key.format(compressed=False))
OTHER = "hx" + "2" * 40
ICX = 10**18


def signed(key: PrivateKey = KEY, **fields) -> dict:
    tx = {
        "version": "0x3",
        "from": address_of_public_key(key.public_key.format(compressed=False)),
        "to": OTHER,
        "value": hex(ICX),
        "stepLimit": hex(200_000),
        "timestamp": hex(time.time_ns() // 1000),
        "nid": "0x1",
        "nonce": "0x1",
        **fields,
    }
    tx = {k: v for k, v in tx.items() if v is not None}
    signature = key.sign_recoverable(transaction_hash(tx), hasher=None)
    return {**tx, "signature": base64.b64encode(signature).decode()}


@pytest.fixture
def sim():
    return Simulator(SimOptions(funds={SENDER: 100 * ICX}), Scenario())


def call(sim, method, params=None, ctx=None):
    payload = {"jsonrpc": "2.0", "id": 7, "method": method}
    if params is not None:
        payload["params"] = params
    answer = sim.dispatcher.handle(json.dumps(payload).encode(), ctx)
    if not isinstance(answer, tuple):
        answer = asyncio.run(_awaited(answer))
    status, body = answer
    return status, json.loads(body)


async def _awaited(answer):
    return await answer


def balance(sim, address):
    return int(call(sim, "icx_getBalance", {"address": address})[1]["result"], 16)


def test_goloop_serialization_of_a_transaction():
    """The example of goloop's and the SDKs' serializer: sorted keys, escapes, nested data."""
    tx = {
        "version": "0x3",
        "from": "hx" + "1" * 40,
        "data": {"method": "transfer", "params": {"_to": "a.b", "list": ["x", None]}},
        "signature": "ignored",
    }
    expected = (
        "icx_sendTransaction.data.{method.transfer.params.{_to.a\\.b.list.[x.\\0]}}"
        ".from.hx" + "1" * 40 + ".version.0x3"
    )
    import hashlib

    assert transaction_hash(tx) == hashlib.sha3_256(expected.encode()).digest()


def test_accounts_start_empty_unless_funded(sim):
    assert balance(sim, SENDER) == 100 * ICX
    assert balance(sim, OTHER) == 0
    assert balance(sim, "hx" + "3" * 40) == 0


def test_a_signed_transfer_moves_value_and_fee(sim):
    status, body = call(sim, "icx_sendTransaction", signed())
    assert status == 200, body
    tx_hash = body["result"]
    assert call(sim, "icx_getTransactionResult", {"txHash": tx_hash})[1]["error"]["code"] == -31002
    assert call(sim, "icx_getTransactionByHash", {"txHash": tx_hash})[1]["error"]["code"] == -31004
    sim.produce_now(1)
    block = call(sim, "icx_getLastBlock")[1]["result"]
    assert [t["txHash"] for t in block["confirmed_transaction_list"]][1:] == [tx_hash]
    # the result is final only once the next block is (goloop's "Executing")
    assert call(sim, "icx_getTransactionResult", {"txHash": tx_hash})[1]["error"]["code"] == -31003
    sim.produce_now(1)
    result = call(sim, "icx_getTransactionResult", {"txHash": tx_hash})[1]["result"]
    assert result["status"] == "0x1" and result["txIndex"] == "0x1"
    assert result["stepUsed"] == hex(STEP_DEFAULT) and result["eventLogs"] == []
    assert result["blockHash"] == "0x" + block["block_hash"]
    assert balance(sim, OTHER) == ICX
    assert balance(sim, SENDER) == 99 * ICX - STEP_DEFAULT * STEP_PRICE
    before = call(sim, "icx_getBalance", {"address": OTHER, "height": hex(block["height"] - 1)})
    assert before[1]["result"] == "0x0"  # reads at a height see that height's state
    by_hash = call(sim, "icx_getTransactionByHash", {"txHash": tx_hash})[1]["result"]
    assert by_hash["from"] == SENDER and by_hash["blockHeight"] == hex(block["height"])
    # the same transaction again is refused
    again = call(sim, "icx_sendTransaction", by_hash | {"txHash": None})
    assert again[1]["error"]["code"] == -32602  # txHash is not a transaction field


@pytest.mark.parametrize(
    ("tx", "message"),
    [
        (lambda: {**signed(), "value": "0x1"}, "E2005:Failed to verify transaction"),
        (lambda: signed(nid="0x2"), "E1005:ValidateNetwork(nid=0x1) fail"),
        (lambda: signed(value=hex(1000 * ICX)), "E2106:OutOfBalance"),
        (lambda: signed(stepLimit="0x10"), "E2105:NotEnoughStep"),
        (lambda: signed(timestamp=hex(time.time_ns() // 1000 - 10**9)), "E2002:Expired"),
        (lambda: signed(key=PrivateKey(bytes.fromhex("22" * 32))), "E2106:OutOfBalance"),
        (lambda: signed(to="cx" + "1" * 40, dataType="call", data={"method": "x"}), "E2107"),
    ],
)
def test_transactions_goloop_refuses(sim, tx, message):
    status, body = call(sim, "icx_sendTransaction", tx())
    assert status == 400 and body["error"]["code"] == -31000
    assert body["error"]["message"].startswith("SystemError: " + message), body


@pytest.mark.parametrize(
    "change",
    [
        {"value": "0x0A"},
        {"from": "hx" + "G" * 40},
        {"signature": "not base64!"},
        {"dataType": "transfer"},
        {"dataType": "message", "data": "not hex"},
        {"nid": None},
        {"extra": "0x1"},
    ],
)
def test_transaction_params_are_validated(sim, change):
    tx = {k: v for k, v in {**signed(), **change}.items() if v is not None}
    status, body = call(sim, "icx_sendTransaction", tx)
    assert status == 400 and body["error"]["code"] == -32602, body


def test_token_transfer_emits_its_event_and_scores_exist_only_where_deployed(sim):
    token = sim.ledger.token.address
    assert sim.ledger.token.owner == SENDER  # the first funded account owns the supply
    api = call(sim, "icx_getScoreApi", {"address": token})[1]["result"]
    assert {"transfer", "balanceOf", "Transfer"} <= {entry["name"] for entry in api}
    status = call(sim, "icx_getScoreStatus", {"address": token})[1]["result"]
    assert status["owner"] == SENDER and status["current"]["status"] == "active"
    data = {"method": "transfer", "params": {"_to": OTHER, "_value": hex(5 * ICX)}}
    tx = signed(to=token, value=None, stepLimit=hex(10**6), dataType="call", data=data)
    tx_hash = call(sim, "icx_sendTransaction", tx)[1]["result"]
    sim.produce_now(2)
    result = call(sim, "icx_getTransactionResult", {"txHash": tx_hash})[1]["result"]
    assert result["status"] == "0x1", result
    assert result["eventLogs"] == [
        {
            "scoreAddress": token,
            "indexed": ["Transfer(Address,Address,int,bytes)", SENDER, OTHER, hex(5 * ICX)],
            "data": [None],
        }
    ]
    bloom = Bloom(int(result["logsBloom"], 16))
    probe = Bloom()
    probe.add_indexed(0, b"Transfer(Address,Address,int,bytes)")
    probe.add_address(token)
    assert bloom.contains(probe)
    query = {"to": token, "dataType": "call", "data": {"method": "balanceOf"}}
    query["data"]["params"] = {"_owner": OTHER}
    assert call(sim, "icx_call", query)[1]["result"] == hex(5 * ICX)
    missing = call(sim, "icx_call", {**query, "data": {"method": "nope"}})[1]["error"]
    assert missing["code"] == -30003 and "Method(nope)NotFound" in missing["message"]


def test_send_and_wait_answers_once_the_result_is_final(sim):
    async def scenario():
        body = json.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": "icx_sendTransactionAndWait", "params": signed()}
        ).encode()
        pending = asyncio.ensure_future(sim.dispatcher.handle(body, Context()))
        await asyncio.sleep(0.05)
        assert not pending.done()
        sim.produce_now(1)
        await asyncio.sleep(0.05)
        assert not pending.done()  # in a block, but its result is not final yet
        sim.produce_now(1)
        return await asyncio.wait_for(pending, 2)

    status, body = asyncio.run(scenario())
    assert status == 200 and json.loads(body)["result"]["status"] == "0x1"


def test_wait_times_out_with_the_hash_in_data(sim):
    tx_hash = call(sim, "icx_sendTransaction", signed())[1]["result"]
    status, body = call(
        sim, "icx_waitTransactionResult", {"txHash": tx_hash}, Context("timeout=100")
    )
    assert status == 400
    assert body["error"] == {
        "code": -31006,
        "message": "Timeout: UserTimeoutExpire(dur=100ms)",
        "data": tx_hash,
    }


def test_wait_methods_are_off_with_a_zero_timeout():
    sim = Simulator(SimOptions(wait_timeout_ms=0), Scenario())
    body = call(sim, "icx_waitTransactionResult", {"txHash": "0x" + "0" * 64})[1]
    assert body["error"]["code"] == -32601
    assert body["error"]["message"] == "MethodNotFound: NotEnabled(waitTimeout=0s)"


def test_event_filters_need_a_signature_and_compare_typed_values():
    with pytest.raises(ValueError):
        EventFilter.compile({"event": None})
    with pytest.raises(ValueError):
        EventFilter.compile({"event": "Transfer(Address)", "indexed": ["hx" + "1" * 40, "0x1"]})
    flt = EventFilter.compile(
        {"event": "Transfer(Address,Address,int,bytes)", "indexed": [None, OTHER, "0x05"]}
    )
    log = {
        "scoreAddress": "cx" + "1" * 40,
        "indexed": ["Transfer(Address,Address,int,bytes)", SENDER, OTHER, "0x5"],
        "data": [None],
    }
    assert flt.matches(log)
    assert not flt.matches({**log, "indexed": [*log["indexed"][:3], "0x6"]})
    assert int_bytes(128) == b"\x00\x80" and int_bytes(-1) == b"\xff" and int_bytes(0) == b"\x00"
    assert event_value_bytes("Address", "cx" + "1" * 40)[0] == 1


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (["hx" + "1" * 40 + "=1.5"], {"hx" + "1" * 40: 15 * 10**17}),
        (["hx" + "1" * 40 + "=1", "hx" + "1" * 40 + "=2"], {"hx" + "1" * 40: 3 * ICX}),
    ],
)
def test_parse_funds(items, expected):
    assert parse_funds(items) == expected


@pytest.mark.parametrize(
    "item",
    [
        "hx1=5",
        "HX" + "1" * 40 + "=5",
        "hx" + "1" * 40,
        "hx" + "1" * 40 + "=-1",
        "hx" + "1" * 40 + "=nan",
        "hx" + "1" * 40 + "=1e-19",
    ],
)
def test_parse_funds_refuses_bad_values(item):
    from iconctl.errors import InputError

    with pytest.raises(InputError):
        parse_funds([item])
