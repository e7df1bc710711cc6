"""The load-test verdict: sustained rate, percentiles and threshold breaches from raw results."""

from __future__ import annotations

import pytest

from iconctl.errors import InputError
from iconctl.loadtest import LoadTest, Thresholds, analyse
from iconctl.loadtest.report import sustained_rate


def _raw(requests=1000, failures=0, p95=40.0, seconds=None):
    return {
        "total": {
            "requests": requests,
            "failures": failures,
            "p50_ms": 10.0,
            "p95_ms": p95,
            "p99_ms": p95 * 2,
        },
        "methods": {},
        "errors": [],
        "seconds": seconds if seconds is not None else [[100 + i, 100, 0, 5] for i in range(10)],
    }


def test_sustained_rate_drops_partial_first_and_last_seconds():
    rows = [[0, 5, 0, 1]] + [[s, 100, 0, 4] for s in range(1, 9)] + [[9, 1000, 0, 4]]
    rate, users, window = sustained_rate(rows, window=5, max_error_rate=None)
    assert (rate, users, window) == (100.0, 4, 5)


def test_sustained_rate_counts_silent_seconds_as_zero():
    # a stall (no completions in seconds 3-5) must pull the windowed rate down
    rows = [[s, 100, 0, 2] for s in (0, 1, 2, 6, 7, 8, 9)]
    rate, _, _ = sustained_rate(rows, window=5, max_error_rate=None)
    assert rate == pytest.approx(60.0)


def test_sustained_rate_skips_windows_over_the_error_budget():
    rows = [[0, 1, 0, 1]] + [[s, 200, 50, 8] for s in range(1, 6)]
    rows += [[s, 100, 0, 4] for s in range(6, 12)] + [[12, 1, 0, 4]]
    rate, users, _ = sustained_rate(rows, window=5, max_error_rate=0.01)
    assert (rate, users) == (100.0, 4)
    rate, users, _ = sustained_rate(rows, window=5, max_error_rate=None)
    assert (rate, users) == (200.0, 8)


def test_short_runs_shrink_the_window():
    rows = [[s, 50, 0, 1] for s in range(4)]
    assert sustained_rate(rows, window=5, max_error_rate=None) == (50.0, 1, 2)
    assert sustained_rate(rows[:2], window=5, max_error_rate=None) == (0.0, 0, 0)


@pytest.mark.parametrize(
    ("raw", "thresholds", "expected"),
    [
        (_raw(), Thresholds(p95_ms=50, max_error_rate=0.01), []),
        (_raw(p95=80), Thresholds(p95_ms=50), ["p95 latency 80 ms > 50 ms"]),
        (_raw(failures=20), Thresholds(max_error_rate=0.01), ["error rate 2.00% > 1.00%"]),
        (_raw(failures=10), Thresholds(max_error_rate=0.01), []),
        (_raw(p95=10_000, failures=999), Thresholds(), []),
        (_raw(requests=0, seconds=[]), Thresholds(), ["no request completed"]),
    ],
    ids=["within", "slow", "errors", "at-limit", "unchecked", "nothing"],
)
def test_breaches(raw, thresholds, expected):
    report = analyse(raw, endpoint="http://x/api/v3", users=5, duration_s=10, thresholds=thresholds)
    assert report.breaches == expected
    assert report.passed is (not expected)
    assert report.to_json()["passed"] is (not expected)


@pytest.mark.parametrize(
    ("test", "message"),
    [
        (LoadTest("ftp://host/api/v3"), "not an http(s) URL"),
        (LoadTest("http:///api/v3"), "not an http(s) URL"),
        (LoadTest("http://h/api/v3", users=0), "--users 0"),
        (LoadTest("http://h/api/v3", users=10_001), "--users 10001"),
        (LoadTest("http://h/api/v3", duration_s=0), "--duration 0"),
        (LoadTest("http://h/api/v3", duration_s=10, ramp_s=11), "--ramp 11"),
        (LoadTest("http://h/api/v3", thresholds=Thresholds(p95_ms=0)), "--p95-ms 0"),
        (LoadTest("http://h/api/v3", thresholds=Thresholds(max_error_rate=1.5)), "1.5"),
    ],
)
def test_bad_options_are_input_errors(test, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        test.check()


def test_ramp_defaults_to_a_third_of_the_run():
    assert LoadTest("http://h/api/v3", users=30, duration_s=30).spawn_rate == 3.0
    assert LoadTest("http://h/api/v3", users=5, duration_s=30, ramp_s=0).spawn_rate == 5.0
