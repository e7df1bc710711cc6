"""The Elasticsearch indices of the fleet's logs: the one definition every writer and reader uses.

Writers: the log shipper of compose and VM nodes (``logging/vector.yaml``, Vector) and the
Kubernetes log shipper (fluent-bit values, ``iconctl.render.kubernetes``). Readers: the
ElastAlert rules (``logging/elastalert/rules/``, rendered by ``iconctl.render.monitoring``)
and Kibana (``logging/kibana/icon-edge.ndjson`` and the rendered data views). The shipped
files that cannot import this module (Vector's and ElastAlert's YAML, Kibana's export) are
checked against it by tests/unit/test_log_indices.py, and the renderers refuse a rule whose
index is not one of these.

Both shippers write one index per day, ``<prefix>-YYYY.MM.DD``; every reader matches all days
with ``<prefix>-*``.
"""

from __future__ import annotations

from dataclasses import dataclass

from iconctl.errors import InputError

DATE_FORMAT = "%Y.%m.%d"  # strftime: Vector's index template and fluent-bit's Logstash_DateFormat


@dataclass(frozen=True)
class LogIndex:
    key: str  # "edge" or "node"
    prefix: str
    title: str  # what a person sees in Kibana

    @property
    def pattern(self) -> str:
        """Every day's index: what ElastAlert and Kibana read."""
        return f"{self.prefix}-*"

    @property
    def all_regions(self) -> str:
        """The pattern on the master cluster: its own indices and every remote region's."""
        return f"{self.pattern},*:{self.pattern}"

    @property
    def daily(self) -> str:
        """The index a shipper writes, as a strftime template."""
        return f"{self.prefix}-{DATE_FORMAT}"


EDGE = LogIndex("edge", "icon-edge", "edge requests")
NODE = LogIndex("node", "icon-node", "node logs")
INDICES = (EDGE, NODE)

# goloop's one-letter log levels, as both shippers spell them in the `level` field.
GOLOOP_LEVELS = {
    "T": "trace",
    "D": "debug",
    "I": "info",
    "W": "warn",
    "E": "error",
    "F": "fatal",
    "P": "panic",
}


def by_pattern(pattern: str) -> LogIndex:
    """The index a reader's pattern selects; InputError for any other pattern."""
    for index in INDICES:
        if index.pattern == pattern:
            return index
    known = ", ".join(i.pattern for i in INDICES)
    raise InputError(f"index {pattern!r} is none of the fleet's log indices ({known})")
