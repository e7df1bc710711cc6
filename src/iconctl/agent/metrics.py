"""Prometheus text exposition for the agent's handful of series (no client library needed)."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable

POLL_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def labels(pairs: Iterable[tuple[str, str]]) -> str:
    text = ",".join(f'{k}="{escape(v)}"' for k, v in pairs)
    return "{" + text + "}" if text else ""


def number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


class Histogram:
    def __init__(self, buckets: tuple[float, ...] = POLL_BUCKETS) -> None:
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        index = bisect_left(self.buckets, value)
        if index < len(self.counts):
            self.counts[index] += 1
        self.sum += value
        self.count += 1

    def lines(self, name: str, base: list[tuple[str, str]]) -> list[str]:
        out = []
        cumulative = 0
        for bound, count in zip(self.buckets, self.counts, strict=True):
            cumulative += count
            out.append(f"{name}_bucket{labels([*base, ('le', number(bound))])} {cumulative}")
        out.append(f"{name}_bucket{labels([*base, ('le', '+Inf')])} {self.count}")
        out.append(f"{name}_sum{labels(base)} {number(self.sum)}")
        out.append(f"{name}_count{labels(base)} {self.count}")
        return out


class Exposition:
    """Collects families in order and renders them once."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    def family(
        self,
        name: str,
        kind: str,
        help_text: str,
        samples: Iterable[tuple[list[tuple[str, str]], float]],
    ) -> None:
        self._lines.append(f"# HELP {name} {help_text}")
        self._lines.append(f"# TYPE {name} {kind}")
        for pairs, value in samples:
            self._lines.append(f"{name}{labels(pairs)} {number(value)}")

    def histograms(
        self, name: str, help_text: str, series: Iterable[tuple[list[tuple[str, str]], Histogram]]
    ) -> None:
        self._lines.append(f"# HELP {name} {help_text}")
        self._lines.append(f"# TYPE {name} histogram")
        for pairs, histogram in series:
            self._lines.extend(histogram.lines(name, pairs))

    def render(self) -> bytes:
        return ("\n".join(self._lines) + "\n").encode()
