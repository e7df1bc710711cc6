"""Turning Locust's raw result into the figures `iconctl loadtest` reports, and the verdict.

Pure functions over the JSON the locustfile writes, so every rule here is unit-tested without
running Locust: the text summary, and the HTML report with its latency charts.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from iconctl.errors import CheckFailed

# The window over which a rate counts as "sustained"; shorter runs use their whole length.
SUSTAIN_SECONDS = 5


@dataclass(frozen=True)
class Thresholds:
    """Limits a run must stay within; None means not checked."""

    p95_ms: float | None = None
    max_error_rate: float | None = None

    @property
    def given(self) -> bool:
        return self.p95_ms is not None or self.max_error_rate is not None

    def describe(self) -> str:
        """``p95 <= 300 ms, error rate <= 1.00%``: what was checked."""
        parts = []
        if self.p95_ms is not None:
            parts.append(f"p95 <= {self.p95_ms:g} ms")
        if self.max_error_rate is not None:
            parts.append(f"error rate <= {self.max_error_rate:.2%}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Report:
    endpoint: str
    users: int
    duration_s: int
    requests: int
    failures: int
    error_rate: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_rps: float
    sustained_rps: float | None  # None: no window could be measured (sustained_note says why)
    sustained_users: int | None
    sustained_window_s: int
    methods: dict[str, dict[str, Any]]
    errors: list[dict[str, Any]]
    thresholds: Thresholds
    breaches: list[str] = field(default_factory=list)
    # one row per second from the start: [second, successes, failures, users]
    timeline: list[list[int]] = field(default_factory=list)
    sustained_note: str = ""
    # latency percentiles per time bucket, overall and per method (see latency_series)
    latency: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.breaches

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["passed"] = self.passed
        return data

    def check(self) -> None:
        """Raise ThresholdsBroken (exit 7) when a threshold was broken."""
        if self.breaches:
            raise ThresholdsBroken(breaches=self.breaches)


class ThresholdsBroken(CheckFailed):
    """The load test ran, and broke a threshold: one line per broken threshold."""

    def __init__(self, *, breaches: list[str]) -> None:
        self.breaches = list(breaches)
        super().__init__("; ".join(self.lines()))

    def lines(self) -> list[str]:
        return [f"threshold broken: {breach}" for breach in self.breaches]


def sustained_rate(
    seconds: list[list[int]], *, window: int, max_error_rate: float | None
) -> tuple[float | None, int | None, int, str]:
    """Highest mean rate of successful responses over ``window`` consecutive whole seconds.

    ``seconds`` rows are [unix second, successes, failures, users]. The first and last seconds
    are partial (the run started or stopped inside them) and are left out; a window only counts
    while its error rate is within ``max_error_rate``. Returns (rate, most users in the window,
    window length, note), the window shortened to the run when the run is shorter; rate and
    users are None, and the note says why, when no window could be measured.
    """
    rows = sorted(seconds)[1:-1]
    if not rows:
        return None, None, 0, "the run was too short: fewer than 3 whole seconds with answers"
    # Fill seconds in which nothing completed: a stall must pull the rate down.
    by_second = {row[0]: row for row in rows}
    first, last = rows[0][0], rows[-1][0]
    filled = [by_second.get(s, [s, 0, 0, 0]) for s in range(first, last + 1)]
    window = max(1, min(window, len(filled)))
    best: float | None = None
    best_users: int | None = None
    for start in range(len(filled) - window + 1):
        chunk = filled[start : start + window]
        ok = sum(row[1] for row in chunk)
        failed = sum(row[2] for row in chunk)
        total = ok + failed
        if max_error_rate is not None and total and failed / total > max_error_rate:
            continue
        rate = ok / window
        if best is None or rate > best:
            best, best_users = rate, max(row[3] for row in chunk)
    if best is None:
        return (
            None,
            None,
            window,
            (f"every {window} s window failed more than {max_error_rate:.2%} of its requests"),
        )
    return best, best_users, window, ""


def percentile(histogram: list[list[int]], q: float) -> int | None:
    """The nearest-rank ``q`` percentile of ``[[latency_ms, count], ...]``."""
    total = sum(count for _, count in histogram)
    if not total:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for value, count in sorted(histogram):
        seen += count
        if seen >= rank:
            return value
    return sorted(histogram)[-1][0]


def latency_series(raw: dict[str, Any] | None, start: int) -> dict[str, Any]:
    """Latency percentiles per time bucket from the locustfile's histograms: ``{"bucket_s":
    N, "total": rows, "methods": {name: rows}}``, each row ``[second from the start, p50,
    p95, p99, requests]``. ``start`` is the run's first unix second."""
    if not raw or not raw.get("rows"):
        return {}
    merged: dict[str, dict[int, dict[int, int]]] = {}
    for bucket, name, histogram in raw["rows"]:
        for key in ("", name):  # "" collects every request
            counts = merged.setdefault(key, {}).setdefault(int(bucket), {})
            for value, count in histogram:
                counts[int(value)] = counts.get(int(value), 0) + int(count)

    def rows(buckets: dict[int, dict[int, int]]) -> list[list[int | None]]:
        out: list[list[int | None]] = []
        for bucket in sorted(buckets):
            histogram = [[v, c] for v, c in buckets[bucket].items()]
            out.append([
                bucket - start,
                *(percentile(histogram, q) for q in (0.5, 0.95, 0.99)),
                sum(buckets[bucket].values()),
            ])  # fmt: skip
        return out

    return {
        "bucket_s": int(raw.get("bucket_s", 1)),
        "total": rows(merged.pop("")),
        "methods": {name: rows(buckets) for name, buckets in sorted(merged.items())},
    }


def analyse(
    raw: dict[str, Any], *, endpoint: str, users: int, duration_s: int, thresholds: Thresholds
) -> Report:
    total = raw["total"]
    requests, failures = int(total["requests"]), int(total["failures"])
    error_rate = failures / requests if requests else 1.0
    seconds = raw.get("seconds", [])
    sustained, sustained_users, window, note = sustained_rate(
        seconds, window=SUSTAIN_SECONDS, max_error_rate=thresholds.max_error_rate
    )
    span = (seconds[-1][0] - seconds[0][0] + 1) if seconds else duration_s
    breaches: list[str] = []
    if requests == 0:
        breaches.append("no request completed")
    if thresholds.p95_ms is not None and requests and total["p95_ms"] > thresholds.p95_ms:
        breaches.append(f"p95 latency {total['p95_ms']:.0f} ms > {thresholds.p95_ms:g} ms")
    if thresholds.max_error_rate is not None and error_rate > thresholds.max_error_rate:
        breaches.append(f"error rate {error_rate:.2%} > {thresholds.max_error_rate:.2%}")
    return Report(
        endpoint=endpoint,
        users=users,
        duration_s=duration_s,
        requests=requests,
        failures=failures,
        error_rate=round(error_rate, 6),
        p50_ms=float(total["p50_ms"] or 0),
        p95_ms=float(total["p95_ms"] or 0),
        p99_ms=float(total["p99_ms"] or 0),
        mean_rps=round(requests / max(span, 1), 2),
        sustained_rps=None if sustained is None else round(sustained, 2),
        sustained_users=sustained_users,
        sustained_window_s=window,
        methods=raw.get("methods", {}),
        errors=raw.get("errors", []),
        thresholds=thresholds,
        breaches=breaches,
        timeline=[[row[0] - seconds[0][0], *row[1:]] for row in seconds] if seconds else [],
        sustained_note=note,
        latency=latency_series(raw.get("latency"), seconds[0][0]) if seconds else {},
    )


def sustained_text(report: Report) -> str:
    if report.sustained_rps is None:
        return f"highest sustained: not measured ({report.sustained_note})"
    return (
        f"highest sustained {report.sustained_rps:.1f}/s over {report.sustained_window_s}s "
        f"with {report.sustained_users} users"
    )


def verdict_text(report: Report) -> str:
    if report.breaches:
        return "thresholds: BROKEN (" + "; ".join(report.breaches) + ")"
    if not report.thresholds.given:
        return "thresholds: none given (--p95-ms, --max-error-rate judge a run)"
    return f"thresholds: passed ({report.thresholds.describe()})"


def method_table(report: Report) -> list[list[str]]:
    """The per-method table, header first, as text cells (the summary and the HTML share it)."""
    table = [["method", "requests", "failed", "p50 ms", "p95 ms", "p99 ms"]]
    for name, entry in report.methods.items():
        table.append([
            name, str(entry["requests"]), str(entry["failures"]),
            *(f"{entry.get(key) or 0:.0f}" for key in ("p50_ms", "p95_ms", "p99_ms")),
        ])  # fmt: skip
    return table


def summary_lines(report: Report) -> list[str]:
    """The human-readable report: totals, latency percentiles, rates, per-method table."""
    lines = [
        f"load test of {report.endpoint}: {report.users} users for {report.duration_s}s",
        f"  requests {report.requests}, failures {report.failures} "
        f"(error rate {report.error_rate:.2%})",
        f"  latency p50 {report.p50_ms:.0f} ms, p95 {report.p95_ms:.0f} ms, "
        f"p99 {report.p99_ms:.0f} ms",
        f"  rate: mean {report.mean_rps:.1f}/s, {sustained_text(report)}",
    ]
    table = method_table(report)
    if len(table) > 1:
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        for row in table:
            cells = [row[0].ljust(widths[0])]
            cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
            lines.append("    " + "  ".join(cells))
    for error in report.errors[:5]:
        lines.append(f"  error x{error['count']}: {error['name']}: {error['error']}")
    lines.append(verdict_text(report))
    return lines


def html_report(report: Report) -> str:
    """The report as one self-contained HTML page: the figures, the verdict, inline SVG charts
    of the latency percentiles over time and per method, the per-method table and the text
    summary. Method names and error texts come from the run: the template escapes them."""
    import jinja2

    from iconctl.loadtest import charts

    series = report.latency
    color = dict(zip(("p50", "p95", "p99"), charts.PALETTE, strict=False))
    drawn: dict[str, str] = {}
    if series.get("total"):
        drawn["over_time"] = charts.line_chart(
            [
                charts.Series(name, [(row[0], row[i]) for row in series["total"]], color[name])
                for i, name in ((1, "p50"), (2, "p95"), (3, "p99"))
            ],
            title="Latency percentiles over time, every request",
            x_label="seconds from the start",
            y_label="latency (ms)",
        )
        drawn["method_p95"] = charts.line_chart(
            [
                charts.Series(name, [(row[0], row[2]) for row in rows], charts.PALETTE[i % 8])
                for i, (name, rows) in enumerate(series["methods"].items())
            ],
            title="p95 latency over time per method",
            x_label="seconds from the start",
            y_label="p95 latency (ms)",
        )
    if report.methods:
        drawn["per_method"] = charts.percentile_rows(
            [
                (name, entry.get("p50_ms"), entry.get("p95_ms"), entry.get("p99_ms"))
                for name, entry in report.methods.items()
            ],
            title="Latency percentiles per method over the whole run",
        )
    if report.timeline:
        drawn["throughput"] = charts.line_chart(
            [
                charts.Series("answered/s", [(r[0], r[1]) for r in report.timeline], "#1a7f37"),
                charts.Series("failed/s", [(r[0], r[2]) for r in report.timeline], "#c62828"),
            ],
            right=[
                charts.Series("users", [(r[0], r[3]) for r in report.timeline], "#59636e", True)
            ],
            title="Answers per second and users over time",
            x_label="seconds from the start",
            y_label="per second",
            right_label="users",
        )
    if report.breaches:
        verdict_class = "broken"
    else:
        verdict_class = "passed" if report.thresholds.given else "unjudged"
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("iconctl.loadtest", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("report.html.j2").render(
        r=report,
        verdict=verdict_text(report),
        verdict_class=verdict_class,
        sustained=sustained_text(report),
        charts=drawn,
        bucket_s=series.get("bucket_s", 1),
        table=method_table(report),
        text="\n".join(summary_lines(report)),
    )
