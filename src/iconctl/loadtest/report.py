"""Turning Locust's raw result into the figures `iconctl loadtest` reports, and the verdict.

Pure functions over the JSON the locustfile writes, so every rule here is unit-tested without
running Locust.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# The window over which a rate counts as "sustained"; shorter runs use their whole length.
SUSTAIN_SECONDS = 5


@dataclass(frozen=True)
class Thresholds:
    """Limits a run must stay within; None means not checked."""

    p95_ms: float | None = None
    max_error_rate: float | None = None


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
    sustained_rps: float
    sustained_users: int
    sustained_window_s: int
    methods: dict[str, dict[str, Any]]
    errors: list[dict[str, Any]]
    thresholds: Thresholds
    breaches: list[str] = field(default_factory=list)
    # one row per second from the start: [second, successes, failures, users]
    timeline: list[list[int]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.breaches

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["passed"] = self.passed
        return data


def sustained_rate(
    seconds: list[list[int]], *, window: int, max_error_rate: float | None
) -> tuple[float, int, int]:
    """Highest mean rate of successful responses over ``window`` consecutive whole seconds.

    ``seconds`` rows are [unix second, successes, failures, users]. The first and last seconds
    are partial (the run started or stopped inside them) and are left out; a window only counts
    while its error rate is within ``max_error_rate``. Returns (rate, most users in the window,
    window length), the window shortened to the run when the run is shorter.
    """
    rows = sorted(seconds)[1:-1]
    if not rows:
        return 0.0, 0, 0
    # Fill seconds in which nothing completed: a stall must pull the rate down.
    by_second = {row[0]: row for row in rows}
    first, last = rows[0][0], rows[-1][0]
    filled = [by_second.get(s, [s, 0, 0, 0]) for s in range(first, last + 1)]
    window = max(1, min(window, len(filled)))
    best, best_users = 0.0, 0
    for start in range(len(filled) - window + 1):
        chunk = filled[start : start + window]
        ok = sum(row[1] for row in chunk)
        failed = sum(row[2] for row in chunk)
        total = ok + failed
        if max_error_rate is not None and total and failed / total > max_error_rate:
            continue
        rate = ok / window
        if rate > best:
            best, best_users = rate, max(row[3] for row in chunk)
    return best, best_users, window


def analyse(
    raw: dict[str, Any], *, endpoint: str, users: int, duration_s: int, thresholds: Thresholds
) -> Report:
    total = raw["total"]
    requests, failures = int(total["requests"]), int(total["failures"])
    error_rate = failures / requests if requests else 1.0
    seconds = raw.get("seconds", [])
    sustained, sustained_users, window = sustained_rate(
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
        sustained_rps=round(sustained, 2),
        sustained_users=sustained_users,
        sustained_window_s=window,
        methods=raw.get("methods", {}),
        errors=raw.get("errors", []),
        thresholds=thresholds,
        breaches=breaches,
        timeline=[[row[0] - seconds[0][0], *row[1:]] for row in seconds] if seconds else [],
    )


def summary_lines(report: Report) -> list[str]:
    """The human-readable report: totals, latency percentiles, rates, per-method lines."""
    lines = [
        f"load test of {report.endpoint}: {report.users} users for {report.duration_s}s",
        f"  requests {report.requests}, failures {report.failures} "
        f"(error rate {report.error_rate:.2%})",
        f"  latency p50 {report.p50_ms:.0f} ms, p95 {report.p95_ms:.0f} ms, "
        f"p99 {report.p99_ms:.0f} ms",
        f"  rate: mean {report.mean_rps:.1f}/s, highest sustained {report.sustained_rps:.1f}/s "
        f"over {report.sustained_window_s}s with {report.sustained_users} users",
    ]
    width = max((len(name) for name in report.methods), default=0)
    for name, entry in report.methods.items():
        lines.append(
            f"    {name.ljust(width)}  {entry['requests']:>8} req  {entry['failures']:>6} failed"
            f"  p95 {entry['p95_ms'] or 0:>6.0f} ms"
        )
    for error in report.errors[:5]:
        lines.append(f"  error x{error['count']}: {error['name']}: {error['error']}")
    lines.append("thresholds: " + ("passed" if report.passed else "BROKEN"))
    return lines
