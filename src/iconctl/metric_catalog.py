"""Every metric name the shipped rules and dashboards may use, and who exports it.

This is the one list: the dashboard and rule tests check every selector against it, so a
panel cannot quietly depend on a series nothing produces, and iconctl's own expositions
(the agent, the sync textfile, the simulator's goloop series) take each name, type and help
text from it (``exposition.py``), so the two cannot drift apart. Names produced by our own
recording rules are not listed here; they are read from the rule files themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MetricType = Literal["gauge", "counter", "histogram"]


@dataclass(frozen=True)
class Metric:
    name: str
    type: MetricType
    source: str
    help: str


AGENT = "iconctl agent (port 9900, /metrics)"
AGENT_REGION = "iconctl agent behind a load balancer, with a region source (port 9900)"
GOLOOP = "goloop (RPC port, /metrics; labels hostname, channel)"
SYNC = "iconctl sync (node_exporter textfile collector)"
EDGE = "edge access log via the log shipper (port 9598)"
NODE_EXPORTER = "node_exporter"
PROMETHEUS = "Prometheus itself (synthetic series)"

_METRICS: tuple[Metric, ...] = (
    # iconctl agent (its /metrics takes every name, type and help text from here)
    Metric("icon_node_up", "gauge", AGENT, "1 if the node answered the last poll."),
    Metric("icon_node_ready", "gauge", AGENT, "1 if /readyz answers 200."),
    Metric("icon_node_live", "gauge", AGENT, "1 if /healthz answers 200."),
    Metric("icon_agent_draining", "gauge", AGENT, "1 while the drain switch is on."),
    Metric(
        "icon_agent_replacement_requested",
        "gauge",
        AGENT,
        "1 once the agent has marked its instance Unhealthy (liveness failed).",
    ),
    Metric(
        "icon_agent_replacement_errors_total",
        "counter",
        AGENT,
        "Failed attempts to mark the instance Unhealthy.",
    ),
    Metric("icon_node_block_height", "gauge", AGENT, "Height of the node's last block."),
    Metric(
        "icon_node_last_block_age_seconds",
        "gauge",
        AGENT,
        "Seconds since the node's last block was made.",
    ),
    Metric(
        "icon_node_lag_blocks",
        "gauge",
        AGENT,
        "Blocks the node is behind the best corroborated reference height.",
    ),
    Metric("icon_reference_block_height", "gauge", AGENT, "Last height of each reference."),
    Metric("icon_reference_up", "gauge", AGENT, "1 if the reference answered its last poll."),
    Metric(
        "icon_reference_ignored",
        "gauge",
        AGENT,
        "1 while the reference's height is left out of the lag: the others or the chain's "
        "rate contradict it.",
    ),
    Metric(
        "icon_reference_outliers_total",
        "counter",
        AGENT,
        "Answers of the reference that were ignored as outliers.",
    ),
    Metric("icon_node_peers", "gauge", AGENT, "Peers connected, from /admin/chain/{cid}."),
    Metric("icon_node_chain_state", "gauge", AGENT, "The chain state from /admin/chain."),
    Metric(
        "icon_agent_poll_duration_seconds",
        "histogram",
        AGENT,
        "Duration of the agent's polls by target (node, admin, or a reference).",
    ),
    Metric("icon_agent_polls_total", "counter", AGENT, "Polls by target and result."),
    Metric(
        "icon_agent_probe_requests_total",
        "counter",
        AGENT,
        "Requests served by the agent, by path.",
    ),
    Metric(
        "icon_agent_ready_transitions_total",
        "counter",
        AGENT,
        "Readiness changes after hysteresis.",
    ),
    Metric("icon_region_ready", "gauge", AGENT_REGION, "1 if /region/readyz answers 200."),
    Metric(
        "icon_region_min_ready_nodes",
        "gauge",
        AGENT_REGION,
        "Ready nodes the region needs to count as healthy.",
    ),
    Metric(
        "icon_region_source_up",
        "gauge",
        AGENT_REGION,
        "1 if the last read of the region's ready count succeeded.",
    ),
    Metric(
        "icon_region_fallback",
        "gauge",
        AGENT_REGION,
        "1 while /region/readyz answers from this node's own readiness (no fresh count).",
    ),
    Metric(
        "icon_region_ready_nodes",
        "gauge",
        AGENT_REGION,
        "Ready nodes of the region at the last good read.",
    ),
    Metric(
        "icon_region_nodes", "gauge", AGENT_REGION, "Nodes of the region at the last good read."
    ),
    Metric(
        "icon_region_count_age_seconds",
        "gauge",
        AGENT_REGION,
        "Seconds since the last good read of the region's ready count.",
    ),
    # goloop (names from goloop's doc/metric.md, prefixed goloop_)
    Metric("goloop_consensus_height", "gauge", GOLOOP, "height of the proposed block"),
    Metric("goloop_consensus_height_duration", "gauge", GOLOOP, "consensus time, ms"),
    Metric("goloop_consensus_round", "gauge", GOLOOP, "current consensus round"),
    Metric("goloop_txpool_add_cnt", "counter", GOLOOP, "transactions added to the pool"),
    Metric("goloop_txpool_drop_cnt", "counter", GOLOOP, "invalid transactions dropped"),
    Metric("goloop_network_recv_cnt", "counter", GOLOOP, "p2p packets received"),
    Metric("goloop_network_send_cnt", "counter", GOLOOP, "p2p packets sent"),
    Metric("goloop_network_recv_sum", "counter", GOLOOP, "p2p bytes received"),
    Metric("goloop_network_send_sum", "counter", GOLOOP, "p2p bytes sent"),
    Metric("goloop_jsonrpc_call_cnt", "counter", GOLOOP, "icx_call requests"),
    Metric("goloop_jsonrpc_retrieve_cnt", "counter", GOLOOP, "retrieve requests"),
    Metric("goloop_jsonrpc_failure_cnt", "counter", GOLOOP, "failed JSON-RPC requests"),
    Metric("goloop_jsonrpc_send_transaction_cnt", "counter", GOLOOP, "icx_sendTransaction"),
    # iconctl sync, through the textfile collector
    Metric(
        "icon_sync_last_success_timestamp_seconds",
        "gauge",
        SYNC,
        "Unix time of the last successful sync operation.",
    ),
    Metric(
        "icon_sync_last_failure_timestamp_seconds",
        "gauge",
        SYNC,
        "Unix time of the last failed sync operation.",
    ),
    Metric(
        "icon_sync_last_duration_seconds",
        "gauge",
        SYNC,
        "Duration of the last sync operation, in seconds.",
    ),
    Metric(
        "icon_sync_last_bytes_transferred",
        "gauge",
        SYNC,
        "Bytes uploaded or downloaded by the last sync operation.",
    ),
    # edge
    Metric("icon_edge_requests_total", "counter", EDGE, "requests by JSON-RPC method, status"),
    Metric("icon_edge_request_duration_seconds", "histogram", EDGE, "request latency"),
    # node_exporter
    Metric("node_filesystem_avail_bytes", "gauge", NODE_EXPORTER, "free bytes for users"),
    Metric("node_filesystem_size_bytes", "gauge", NODE_EXPORTER, "filesystem size"),
    Metric("node_filesystem_readonly", "gauge", NODE_EXPORTER, "1 when mounted read-only"),
    Metric("node_cpu_seconds_total", "counter", NODE_EXPORTER, "CPU time by mode"),
    Metric("node_memory_MemAvailable_bytes", "gauge", NODE_EXPORTER, "available memory"),
    Metric("node_memory_MemTotal_bytes", "gauge", NODE_EXPORTER, "total memory"),
    Metric("node_network_receive_bytes_total", "counter", NODE_EXPORTER, "bytes received"),
    Metric("node_network_transmit_bytes_total", "counter", NODE_EXPORTER, "bytes sent"),
    # Prometheus
    Metric("up", "gauge", PROMETHEUS, "1 when the last scrape of a target succeeded"),
    Metric("ALERTS", "gauge", PROMETHEUS, "active alerts"),
)

METRICS: dict[str, Metric] = {m.name: m for m in _METRICS}

_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def series_names() -> frozenset[str]:
    """Every series name a query may select: histograms contribute their three series."""
    names: set[str] = set()
    for metric in _METRICS:
        if metric.type == "histogram":
            names.update(metric.name + suffix for suffix in _HISTOGRAM_SUFFIXES)
        else:
            names.add(metric.name)
    return frozenset(names)
