"""The load-test verdict: sustained rate, percentiles and threshold breaches from raw results."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest

from iconctl.errors import CheckFailed, ExitCode, InputError
from iconctl.loadtest import LoadTest, Thresholds, analyse
from iconctl.loadtest.report import html_report, percentile, summary_lines, sustained_rate

SVG = "{http://www.w3.org/2000/svg}"


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
    rate, users, window, note = sustained_rate(rows, window=5, max_error_rate=None)
    assert (rate, users, window, note) == (100.0, 4, 5, "")


def test_sustained_rate_counts_silent_seconds_as_zero():
    # a stall (no completions in seconds 3-5) must pull the windowed rate down
    rows = [[s, 100, 0, 2] for s in (0, 1, 2, 6, 7, 8, 9)]
    rate, _, _, _ = sustained_rate(rows, window=5, max_error_rate=None)
    assert rate == pytest.approx(60.0)


def test_sustained_rate_skips_windows_over_the_error_budget():
    rows = [[0, 1, 0, 1]] + [[s, 200, 50, 8] for s in range(1, 6)]
    rows += [[s, 100, 0, 4] for s in range(6, 12)] + [[12, 1, 0, 4]]
    rate, users, _, _ = sustained_rate(rows, window=5, max_error_rate=0.01)
    assert (rate, users) == (100.0, 4)
    rate, users, _, _ = sustained_rate(rows, window=5, max_error_rate=None)
    assert (rate, users) == (200.0, 8)


def test_short_runs_shrink_the_window():
    rows = [[s, 50, 0, 1] for s in range(4)]
    assert sustained_rate(rows, window=5, max_error_rate=None) == (50.0, 1, 2, "")
    rate, users, _, note = sustained_rate(rows[:2], window=5, max_error_rate=None)
    assert (rate, users) == (None, None) and "too short" in note


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
    if not expected:
        report.check()  # passed: no error
        return
    with pytest.raises(CheckFailed) as caught:  # exit 7, through the error hierarchy
        report.check()
    assert caught.value.exit_code == ExitCode.CHECK_FAILED
    assert caught.value.lines() == [f"threshold broken: {b}" for b in expected]


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


def _summary(raw, thresholds=Thresholds()):
    report = analyse(raw, endpoint="http://x/api/v3", users=5, duration_s=10, thresholds=thresholds)
    return report, "\n".join(summary_lines(report))


def test_a_run_without_thresholds_is_not_said_to_pass_them():
    _, text = _summary(_raw())
    assert "thresholds: passed" not in text
    assert text.splitlines()[-1].startswith("thresholds: none given")
    _, judged = _summary(_raw(), Thresholds(p95_ms=50, max_error_rate=0.01))
    assert judged.splitlines()[-1] == "thresholds: passed (p95 <= 50 ms, error rate <= 1.00%)"
    _, broken = _summary(_raw(p95=80), Thresholds(p95_ms=50))
    assert broken.splitlines()[-1] == "thresholds: BROKEN (p95 latency 80 ms > 50 ms)"


@pytest.mark.parametrize(
    ("seconds", "thresholds", "why"),
    [
        ([[100, 10, 0, 1], [101, 10, 0, 1]], Thresholds(), "the run was too short: fewer"),
        ([[100 + i, 10, 10, 3] for i in range(10)], Thresholds(max_error_rate=0.01),
         "every 5 s window failed more than 1.00%"),
    ],
    ids=["short", "over-budget"],
)  # fmt: skip
def test_an_unmeasured_sustained_rate_says_why_instead_of_zero(seconds, thresholds, why):
    report, text = _summary(_raw(seconds=seconds), thresholds)
    assert report.sustained_rps is None and report.sustained_users is None
    assert report.to_json()["sustained_rps"] is None
    assert "sustained 0.0/s" not in text and " 0 users" not in text
    assert f"highest sustained: not measured ({why}" in text


def test_the_text_table_has_a_row_per_method():
    raw = _raw()
    raw["methods"] = {
        "icx_call": {"requests": 120, "failures": 2, "p50_ms": 9, "p95_ms": 30, "p99_ms": 41},
        "icx_getLastBlock": {"requests": 300, "failures": 0, "p50_ms": 5, "p95_ms": 12,
                             "p99_ms": None},
    }  # fmt: skip
    _, text = _summary(raw)
    assert re.search(r"method\s+requests\s+failed\s+p50 ms\s+p95 ms\s+p99 ms", text), text
    assert re.search(r"icx_call\s+120\s+2\s+9\s+30\s+41", text), text
    assert re.search(r"icx_getLastBlock\s+300\s+0\s+5\s+12\s+0", text), text


def test_percentiles_from_a_histogram():
    histogram = [[10, 50], [20, 45], [100, 4], [900, 1]]
    assert [percentile(histogram, q) for q in (0.5, 0.95, 0.99, 1.0)] == [10, 20, 100, 900]
    assert percentile([], 0.5) is None


def _latency_raw():
    # two methods over three seconds; the last second much slower
    rows = []
    for second, slow in ((100, 0), (101, 0), (102, 1)):
        rows.append([second, "icx_call", [[10 + 100 * slow, 90], [40 + 400 * slow, 10]]])
        rows.append([second, "icx_getLastBlock", [[5, 99], [7 + 200 * slow, 1]]])
    raw = _raw(seconds=[[100 + i, 100, 0, 2] for i in range(3)])
    raw["latency"] = {"bucket_s": 1, "rows": rows}
    raw["methods"] = {
        "icx_call": {"requests": 300, "failures": 0, "p50_ms": 10, "p95_ms": 40, "p99_ms": 440},
        "icx_getLastBlock": {"requests": 300, "failures": 0, "p50_ms": 5, "p95_ms": 5,
                             "p99_ms": 7},
    }  # fmt: skip
    return raw


def test_latency_percentiles_over_time_overall_and_per_method():
    report, _ = _summary(_latency_raw())
    series = report.latency
    assert series["bucket_s"] == 1
    assert series["methods"]["icx_call"] == [[0, 10, 40, 40, 100], [1, 10, 40, 40, 100],
                                             [2, 110, 440, 440, 100]]  # fmt: skip
    assert series["methods"]["icx_getLastBlock"][2] == [2, 5, 5, 5, 100]
    assert series["total"][0] == [0, 7, 10, 40, 200]  # 99 x 5, 1 x 7, 90 x 10, 10 x 40 ms
    assert report.to_json()["latency"] == series


def test_the_html_report_plots_latency_over_time_and_per_method():
    report, _ = _summary(_latency_raw(), Thresholds(p95_ms=50))
    report.methods.update({"<b>x</b>": {"requests": 1, "failures": 1, "p50_ms": 1,
                                        "p95_ms": 1, "p99_ms": 1}})  # fmt: skip
    page = html_report(report)
    assert page.startswith("<!doctype html>") and "<script" not in page
    svgs = re.findall(r"(?s)<svg\b.*?</svg>", page)
    assert len(svgs) >= 3, page
    charts = [ElementTree.fromstring(svg) for svg in svgs]  # each one well-formed XML
    over_time = charts[0]
    lines = {line.get("data-series"): line for line in over_time.iter(f"{SVG}polyline")}
    assert {"p50", "p95", "p99"} <= set(lines)
    points = {name: _points(line) for name, line in lines.items()}
    assert len(points["p95"]) == 3
    for (x50, y50), (x99, y99) in zip(points["p50"], points["p99"], strict=True):
        assert x50 == x99 and y99 <= y50  # a higher latency is drawn higher up
    assert points["p95"][2][1] < points["p95"][0][1]  # the slow last second stands out
    per_method = ElementTree.tostring(charts[1], encoding="unicode")
    assert "icx_call" in per_method and "icx_getLastBlock" in per_method
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page  # names are text
    assert "thresholds: passed (p95 &lt;= 50 ms)" in page  # the verdict, and the table
    assert re.search(r"<tr><td>icx_call</td><td>300</td><td>0</td><td>10</td><td>40</td>"
                     r"<td>440</td></tr>", page), page  # fmt: skip


def _points(polyline) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in polyline.get("points").split()]
