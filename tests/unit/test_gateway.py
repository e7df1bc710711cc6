"""The gateway's pure parts: wire frames, derived monitor messages, option checks."""

from __future__ import annotations

import json

import pytest

from iconctl.errors import InputError
from iconctl.gateway import GatewayConfig
from iconctl.gateway.frames import BlockRecord, filter_key, ws_text


@pytest.mark.parametrize(
    ("size", "header"),
    [
        (0, b"\x81\x00"),
        (125, b"\x81\x7d"),
        (126, b"\x81\x7e\x00\x7e"),
        (65535, b"\x81\x7e\xff\xff"),
        (65536, b"\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00"),
    ],
)
def test_ws_text_frames_every_length_class(size, header):
    frame = ws_text("x" * size)
    assert frame[: len(header)] == header and frame[len(header) :] == b"x" * size


def test_ws_text_counts_bytes_not_characters():
    assert ws_text("é") == b"\x81\x02\xc3\xa9"


A = {"event": "Transfer(Address,Address,int,bytes)", "indexed": [None, "hx" + "a" * 40]}
B = {"event": "Transfer(Address,Address,int,bytes)"}
LOG = {"scoreAddress": "cx" + "1" * 40, "indexed": ["Transfer(Address,Address,int,bytes)"]}


def record() -> BlockRecord:
    """Block 0x10 as an upstream session with filters [A, B] and logs reports it: filter A
    matched event 1 of tx 2; filter B matched events 0 and 1 of tx 2 and event 0 of tx 0."""
    rec = BlockRecord(height=16, hash="0xab")
    note = {
        "indexes": [["0x2"], ["0x0", "0x2"]],
        "events": [[["0x1"]], [["0x0"], ["0x0", "0x1"]]],
        "logs": [[[dict(LOG, n=21)]], [[dict(LOG, n=0)], [dict(LOG, n=20), dict(LOG, n=21)]]],
    }
    rec.merge([filter_key(A), filter_key(B)], note, 100)
    return rec


def test_block_messages_follow_the_clients_filters_and_order():
    rec = record()
    assert rec.plain() == '{"hash":"0xab","height":"0x10"}\n'
    assert rec.block_note((), False) == rec.plain()
    note = json.loads(rec.block_note((filter_key(B), filter_key(A)), False))
    assert note == {
        "hash": "0xab",
        "height": "0x10",
        "indexes": [["0x0", "0x2"], ["0x2"]],
        "events": [[["0x0"], ["0x0", "0x1"]], [["0x1"]]],
    }


def test_event_messages_join_the_filters_per_transaction():
    notes = [json.loads(n) for n in record().event_notes((filter_key(A), filter_key(B)), True)]
    assert [(n["index"], n["events"]) for n in notes] == [("0x0", ["0x0"]), ("0x2", ["0x0", "0x1"])]
    assert [log["n"] for log in notes[1]["logs"]] == [20, 21]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"node": "ftp://x"}, "--node"),
        ({"channel": "a/b"}, "--channel"),
        ({"upstream_sessions": 0}, "--upstream-sessions"),
        ({"upstream_sessions": 9}, "--upstream-sessions"),
        ({"max_per_client": 0}, "--max-per-client"),
        ({"max_filters": 65}, "--max-filters"),
        ({"client_backlog": 10}, "--client-backlog"),
        ({"trusted_proxies": ["not-a-range"]}, "--trusted-proxy"),
    ],
)
def test_bad_options_are_input_errors(change, message):
    config = GatewayConfig(**{"node": "http://127.0.0.1:9000", **change})
    with pytest.raises(InputError, match=message):
        config.validate()


def test_node_urls_with_or_without_the_api_path():
    for node in ("http://n:9000", "http://n:9000/", "http://n:9000/api/v3"):
        config = GatewayConfig(node=node)
        assert config.rpc_url == "http://n:9000/api/v3"
        assert config.monitor_url == "ws://n:9000/api/v3/icon_dex/block"
