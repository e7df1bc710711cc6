"""Prometheus text exposition and parsing, through prometheus_client.

Every family's type and help text come from the metric catalogue (``metric_catalog.py``): an
exposition cannot carry a name the catalogue does not know, so the rules, dashboards and
exporters share one list. The values are read from the exporter's own state at scrape time
(a custom collector), so nothing is kept twice.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence

from prometheus_client.core import Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from iconctl.metric_catalog import METRICS

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
POLL_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

Labels = Sequence[tuple[str, str]]


class Histogram:
    """Bucket counts of one series, kept by the exporter and rendered at scrape time."""

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


class Exposition(Collector):
    """The families of one scrape, in the order they are added."""

    def __init__(self) -> None:
        self._families: list[Metric] = []

    def _family(self, name: str, kind: str) -> Metric:
        entry = METRICS[name]  # an uncatalogued name is a bug, not something to expose
        if entry.type != kind:
            raise ValueError(f"{name} is a {entry.type} in the metric catalogue, not a {kind}")
        family = Metric(name.removesuffix("_total"), entry.help, kind)
        self._families.append(family)
        return family

    def family(self, name: str, samples: Iterable[tuple[Labels, float]]) -> None:
        """A gauge or counter family; its type is the catalogue's."""
        family = self._family(name, METRICS[name].type)
        for pairs, value in samples:
            family.add_sample(name, dict(pairs), value)

    def histograms(self, name: str, series: Iterable[tuple[Labels, Histogram]]) -> None:
        family = self._family(name, "histogram")
        for pairs, histogram in series:
            labels = dict(pairs)
            cumulative = 0
            for bound, count in zip(histogram.buckets, histogram.counts, strict=True):
                cumulative += count
                le = floatToGoString(bound)
                family.add_sample(f"{name}_bucket", {**labels, "le": le}, cumulative)
            family.add_sample(f"{name}_bucket", {**labels, "le": "+Inf"}, histogram.count)
            family.add_sample(f"{name}_sum", labels, histogram.sum)
            family.add_sample(f"{name}_count", labels, histogram.count)

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)

    def render(self) -> bytes:
        text = generate_latest(self)
        # prometheus_client names every counter's HELP and TYPE lines <name>_total; goloop's
        # counters end in _cnt instead, and the simulator answers as goloop does
        for family in self._families:
            if family.type == "counter" and family.name.endswith("_cnt"):
                name = family.name.encode()
                for line in (b"# HELP ", b"# TYPE "):
                    text = text.replace(line + name + b"_total ", line + name + b" ")
        return text


def samples(text: str) -> Iterator[tuple[str, dict[str, str], float]]:
    """(name, labels, value) of every sample of a text exposition; ValueError when the text
    is not one."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            yield sample.name, sample.labels, sample.value
