import urllib.error

from iconctl import probes


def test_gauges_keep_unlabelled_numeric_samples_only() -> None:
    text = "\n".join([
        "# HELP icon_node_block_height Height of the node's last block.",
        "# TYPE icon_node_block_height gauge",
        "icon_node_block_height 1234",
        'icon_reference_block_height{reference="a"} 1240',
        "icon_node_lag_blocks NaN",
        "icon_node_last_block_age_seconds 2.5 1700000000000",
        "broken_line",
        "not_a_number abc",
    ])  # fmt: skip
    assert probes.gauges(text) == {
        "icon_node_block_height": 1234.0,
        "icon_node_last_block_age_seconds": 2.5,
    }


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
