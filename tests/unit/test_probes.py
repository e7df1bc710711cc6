import json
import math
import re
import threading
import time
import urllib.error

import pytest

from iconctl import probes
from iconctl.console import printable


def test_gauges_keep_unlabelled_samples_only() -> None:
    text = "\n".join([
        "# HELP icon_node_block_height Height of the node's last block.",
        "# TYPE icon_node_block_height gauge",
        "icon_node_block_height 1234",
        'icon_reference_block_height{reference="a"} 1240',
        "icon_node_lag_blocks NaN",
        "icon_node_last_block_age_seconds 2.5 1700000000000",
    ])  # fmt: skip
    found = probes.gauges(text)
    assert math.isnan(found.pop("icon_node_lag_blocks"))  # parsed; agent_gauges judges it
    assert found == {"icon_node_block_height": 1234.0, "icon_node_last_block_age_seconds": 2.5}


@pytest.mark.parametrize("junk", ["broken_line", "not_a_number abc", "x{y=1} 2", "<html>"])
def test_text_that_is_not_an_exposition_is_an_invalid_answer(junk: str) -> None:
    with pytest.raises(probes.InvalidAnswer, match="^not a Prometheus exposition"):
        probes.agent_gauges(f"icon_node_block_height 5\n{junk}\n")


def test_agent_gauges_are_checked_against_what_is_possible() -> None:
    text = "icon_node_block_height 1234\nicon_node_lag_blocks -2\nother +Inf\n"
    assert probes.agent_gauges(text) == {"icon_node_block_height": 1234, "icon_node_lag_blocks": -2}


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        ("icon_node_lag_blocks +Inf", "icon_node_lag_blocks +Inf"),
        ("icon_node_lag_blocks NaN", "icon_node_lag_blocks NaN"),
        ("icon_node_lag_blocks 1e300", "icon_node_lag_blocks 1e+300"),
        ("icon_node_block_height -1", "icon_node_block_height -1.0"),
        ("icon_node_block_height 1e16", "icon_node_block_height 1e+16"),
        ("icon_node_last_block_age_seconds -Inf", "icon_node_last_block_age_seconds -Inf"),
    ],
)
def test_impossible_agent_gauges_are_invalid_answers(sample: str, message: str) -> None:
    with pytest.raises(
        probes.InvalidAnswer, match=f"^{re.escape(message)} is not a possible value"
    ):
        probes.agent_gauges(f"icon_node_block_height 5\n{sample}\n")


def test_a_last_block_answer_is_read_and_checked() -> None:
    body = json.dumps(
        {"jsonrpc": "2.0", "id": 1, "result": {"height": 512, "time_stamp": 1559204699330360}}
    )
    block = probes.parse_last_block(body.encode(), 3.0)
    assert (block.height, block.time_stamp, block.latency_ms) == (512, 1559204699.33036, 3.0)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>", "not JSON"),
        (b"[" * 100_000, "nested too deeply"),
        (b'{"result": [1]}', "no block"),
        (b'{"error": {"code": -32601, "message": "\\u001b[2J"}}', r"error .*-32601"),
        (b'{"result": {"height": Infinity, "time_stamp": 1}}', "height inf is not an integer"),
        (b'{"result": {"height": NaN, "time_stamp": 1}}', "height nan is not an integer"),
        (b'{"result": {"height": true, "time_stamp": 1}}', "height True is not an integer"),
        (b'{"result": {"height": "0x10", "time_stamp": 1}}', "is not an integer"),
        (b'{"result": {"height": -1, "time_stamp": 1}}', "height -1 is impossible"),
        (b'{"result": {"height": 1, "time_stamp": 1e300}}', "time_stamp 1e\\+300 is not an"),
        (b'{"result": {"height": 1}}', "time_stamp None is not an integer"),
    ],
)
def test_impossible_last_blocks_are_invalid_answers(body: bytes, message: str) -> None:
    with pytest.raises(probes.InvalidAnswer, match=message):
        probes.parse_last_block(body, 1.0)


def test_agent_reasons_are_bounded_and_escaped() -> None:
    reason = probes.agent_reason("UNHEALTHY [/] \x1b]8;;http://x\x1b\\link\x07\n" + "y" * 500)
    assert reason.startswith("[/] \\x1b]8;;http://x\\x1b\\link\\x07")
    assert len(reason) == probes.MAX_REASON and reason.endswith("…")


def test_printable_escapes_controls_and_format_characters_only() -> None:
    assert printable("héllo [b]x[/b] ✓") == "héllo [b]x[/b] ✓"
    assert printable("a\x1b[2Jb\r\n\t\x7f\u202e") == "a\\x1b[2Jb\\x0d\\x0a\\x09\\x7f\\u202e"


def test_parallel_waits_no_longer_than_its_deadline() -> None:
    release = threading.Event()

    def work(item: int) -> int:
        if item == 2:
            release.wait(10)  # a peer that never finishes
        if item == 3:
            raise RuntimeError("unforeseen")
        return item * 10

    started = time.monotonic()
    results = probes.parallel(work, [1, 2, 3], deadline_s=0.3)
    release.set()
    assert time.monotonic() - started < 2
    assert results[0] == 10
    assert isinstance(results[1], TimeoutError)
    assert isinstance(results[2], RuntimeError)


def test_last_block_age_is_never_negative() -> None:
    block = probes.LastBlock(height=1, time_stamp=1000.0, latency_ms=1.0)
    assert block.age(now=1002.5) == 2.5
    assert block.age(now=999.0) == 0.0


def test_short_reasons() -> None:
    refused = urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))
    assert probes.short_reason(refused) == "Connection refused"
    assert probes.short_reason(TimeoutError("timed out")) == "timed out"
    http = urllib.error.HTTPError("http://x", 503, "Service Unavailable", {}, None)  # type: ignore[arg-type]
    assert probes.short_reason(http) == "HTTP 503"
    assert probes.short_reason(KeyError("result")) == "KeyError: 'result'"
