"""Grafana dashboards, generated from code: a global overview and a region dashboard.

Code rather than hand-kept JSON because every panel follows the same few patterns (a
selector filtered by region, a rate over Grafana's interval, a unit), the tests can walk the
panels to check each query against the metric catalogue, and a change is a readable diff.
The generated JSON is committed under monitoring/grafana/dashboards/ for anyone who imports
dashboards by hand; a test keeps it identical to this module's output. Regenerate with::

    python -m iconctl.dashboards monitoring/grafana/dashboards

The region dashboard is one dashboard templated by two variables: ``datasource`` (the
region's own Prometheus, which has every raw series) and ``region``. ``iconctl render``
writes one copy per region of the spec with both preset, so each region has its own
dashboard that opens on the right data; the overview reads the global Prometheus, which
federates only the high-level series.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iconctl.files import write_atomic

SCHEMA_VERSION = 39
R = '{region="$region"}'  # the region filter most region panels use
RATE = "$__rate_interval"


@dataclass
class Panel:
    title: str
    exprs: list[tuple[str, str]]  # (PromQL, legend)
    unit: str = "short"
    kind: str = "timeseries"
    width: int = 12
    height: int = 8
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _q(expr: str, legend: str = "") -> tuple[str, str]:
    return (expr, legend)


def _region_panels() -> list[tuple[str, list[Panel]]]:
    sel = R
    return [
        ("Health", [
            Panel("Ready nodes", [_q(f"sum(icon_node_ready{sel})")], kind="stat", width=4,
                  height=4),
            Panel("Nodes answering", [_q(f"sum(icon_node_up{sel})")], kind="stat", width=4,
                  height=4),
            Panel("Nodes discovered", [_q(f"count(icon_node_up{sel})")], kind="stat", width=4,
                  height=4),
            Panel("Worst lag", [_q(f"max(icon_node_lag_blocks{sel})")], unit="none",
                  kind="stat", width=4, height=4),
            Panel("Requests/s", [_q(f"sum(rate(icon_edge_requests_total{sel}[{RATE}]))")],
                  unit="reqps", kind="stat", width=4, height=4),
            Panel("Draining", [_q(f"sum(icon_agent_draining{sel})")], kind="stat", width=4,
                  height=4),
            Panel("Block height", [
                _q(f"icon_node_block_height{sel}", "{{instance}}"),
                _q(f"max by (reference) (icon_reference_block_height{sel})",
                   "reference {{reference}}"),
            ], unit="none"),
            Panel("Lag behind the best reference", [
                _q(f"icon_node_lag_blocks{sel}", "{{instance}}")], unit="none"),
            Panel("Last block age", [
                _q(f"icon_node_last_block_age_seconds{sel}", "{{instance}}")], unit="s"),
            Panel("Ready (1) / not ready (0)", [
                _q(f"icon_node_ready{sel}", "{{instance}}")], unit="none"),
            Panel("Peers", [_q(f"icon_node_peers{sel}", "{{instance}}")], unit="none"),
            Panel("References answering", [
                _q(f"sum by (instance) (icon_reference_up{sel})", "{{instance}}")],
                unit="none"),
            Panel("Chain state (admin API)", [
                _q(f"icon_node_chain_state{sel} == 1", "{{instance}} {{state}}")],
                unit="none"),
            Panel("Agent poll latency p99", [
                _q("histogram_quantile(0.99, sum by (le, instance, target) "
                   f"(rate(icon_agent_poll_duration_seconds_bucket{sel}[{RATE}])))",
                   "{{instance}} {{target}}")], unit="s"),
        ]),
        ("Edge", [
            Panel("Requests by status", [
                _q(f"sum by (status) (rate(icon_edge_requests_total{sel}[{RATE}]))",
                   "{{status}}")], unit="reqps"),
            Panel("Requests by method", [
                _q(f"topk(10, sum by (method) (rate(icon_edge_requests_total{sel}[{RATE}])))",
                   "{{method}}")], unit="reqps"),
            Panel("5xx ratio by node", [
                _q('sum by (instance) (rate(icon_edge_requests_total{region="$region",'
                   f'status=~"5.."}}[{RATE}])) / sum by (instance) '
                   f"(rate(icon_edge_requests_total{sel}[{RATE}]))", "{{instance}}")],
                unit="percentunit"),
            Panel("Latency", [
                _q("histogram_quantile(0.5, sum by (le) "
                   f"(rate(icon_edge_request_duration_seconds_bucket{sel}[{RATE}])))", "p50"),
                _q("histogram_quantile(0.99, sum by (le) "
                   f"(rate(icon_edge_request_duration_seconds_bucket{sel}[{RATE}])))", "p99"),
            ], unit="s"),
            Panel("Latency p99 by method", [
                _q("histogram_quantile(0.99, sum by (le, method) "
                   f"(rate(icon_edge_request_duration_seconds_bucket{sel}[{RATE}])))",
                   "{{method}}")], unit="s"),
            Panel("Requests by node", [
                _q(f"sum by (instance) (rate(icon_edge_requests_total{sel}[{RATE}]))",
                   "{{instance}}")], unit="reqps"),
        ]),
        ("goloop", [
            Panel("Consensus height", [
                _q(f"goloop_consensus_height{sel}", "{{instance}}")], unit="none"),
            Panel("Consensus round", [
                _q(f"goloop_consensus_round{sel}", "{{instance}}")], unit="none"),
            Panel("JSON-RPC calls by kind", [
                _q(f"sum(rate(goloop_jsonrpc_call_cnt{sel}[{RATE}]))", "icx_call"),
                _q(f"sum(rate(goloop_jsonrpc_retrieve_cnt{sel}[{RATE}]))", "retrieve"),
                _q(f"sum(rate(goloop_jsonrpc_send_transaction_cnt{sel}[{RATE}]))",
                   "sendTransaction"),
                _q(f"sum(rate(goloop_jsonrpc_failure_cnt{sel}[{RATE}]))", "failures"),
            ], unit="reqps"),
            Panel("Transaction pool", [
                _q(f"sum by (instance) (rate(goloop_txpool_add_cnt{sel}[{RATE}]))",
                   "added {{instance}}"),
                _q(f"sum by (instance) (rate(goloop_txpool_drop_cnt{sel}[{RATE}]))",
                   "dropped {{instance}}"),
            ], unit="ops"),
            Panel("P2P traffic", [
                _q(f"sum by (instance) (rate(goloop_network_recv_sum{sel}[{RATE}]))",
                   "in {{instance}}"),
                _q(f"-sum by (instance) (rate(goloop_network_send_sum{sel}[{RATE}]))",
                   "out {{instance}}"),
            ], unit="Bps"),
            Panel("P2P packets", [
                _q(f"sum by (instance) (rate(goloop_network_recv_cnt{sel}[{RATE}]))",
                   "in {{instance}}"),
                _q(f"sum by (instance) (rate(goloop_network_send_cnt{sel}[{RATE}]))",
                   "out {{instance}}"),
            ], unit="pps"),
        ]),
        ("Host and sync", [
            Panel("CPU busy", [
                _q('1 - avg by (instance) (rate(node_cpu_seconds_total{region="$region",'
                   f'mode="idle"}}[{RATE}]))', "{{instance}}")], unit="percentunit"),
            Panel("Memory available", [
                _q(f"node_memory_MemAvailable_bytes{sel} / node_memory_MemTotal_bytes{sel}",
                   "{{instance}}")], unit="percentunit"),
            Panel("Free space (data filesystems)", [
                _q('node_filesystem_avail_bytes{region="$region",'
                   'fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs|devtmpfs"} / '
                   'node_filesystem_size_bytes{region="$region",'
                   'fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs|devtmpfs"}',
                   "{{instance}} {{mountpoint}}")], unit="percentunit"),
            Panel("Network", [
                _q(f'sum by (instance) (rate(node_network_receive_bytes_total{{region="$region",'
                   f'device!="lo"}}[{RATE}]))', "in {{instance}}"),
                _q(f'-sum by (instance) (rate(node_network_transmit_bytes_total{{region="$region",'
                   f'device!="lo"}}[{RATE}]))', "out {{instance}}"),
            ], unit="Bps"),
            Panel("Age of the newest snapshot", [
                _q('time() - max(icon_sync_last_success_timestamp_seconds{region="$region",'
                   'operation="snapshot"})', "snapshot")], unit="s"),
            Panel("Last sync duration", [
                _q(f"icon_sync_last_duration_seconds{sel}", "{{operation}} {{instance}}")],
                unit="s"),
            Panel("Last sync bytes transferred", [
                _q(f"icon_sync_last_bytes_transferred{sel}", "{{operation}} {{instance}}")],
                unit="bytes"),
            Panel("Last sync failure", [
                _q(f"icon_sync_last_failure_timestamp_seconds{sel} * 1000",
                   "{{operation}} {{instance}}")], unit="dateTimeAsIso", kind="stat"),
        ]),
    ]


def _overview_panels() -> list[tuple[str, list[Panel]]]:
    return [
        ("Fleet", [
            Panel("Ready nodes", [_q("global:icon_nodes_ready:sum")], kind="stat", width=6,
                  height=4),
            Panel("Requests/s", [_q("global:icon_edge_requests:rate5m")], unit="reqps",
                  kind="stat", width=6, height=4),
            Panel("5xx ratio", [_q("global:icon_edge_requests_5xx:ratio_rate5m")],
                  unit="percentunit", kind="stat", width=6, height=4),
            Panel("Firing alerts", [_q('count(ALERTS{alertstate="firing"}) or vector(0)')],
                  kind="stat", width=6, height=4),
            Panel("Region healthy (at least one ready node)", [
                _q("region:icon_region_healthy:bool", "{{region}}")], unit="bool",
                kind="stat", width=24, height=4),
        ]),
        ("Regions", [
            Panel("Ready share by region", [
                _q("region:icon_nodes_ready:ratio", "{{region}}")], unit="percentunit"),
            Panel("Nodes by region", [
                _q("region:icon_nodes:count", "discovered {{region}}"),
                _q("region:icon_nodes_ready:sum", "ready {{region}}"),
            ], unit="none"),
            Panel("Requests/s by region", [
                _q("region:icon_edge_requests:rate5m", "{{region}}")], unit="reqps"),
            Panel("5xx ratio by region", [
                _q("region:icon_edge_requests_5xx:ratio_rate5m", "{{region}}")],
                unit="percentunit"),
            Panel("Latency p99 by region", [
                _q("region:icon_edge_request_duration_seconds:p99_rate5m", "{{region}}")],
                unit="s"),
            Panel("Latency p50 by region", [
                _q("region:icon_edge_request_duration_seconds:p50_rate5m", "{{region}}")],
                unit="s"),
            Panel("Blocks behind the fleet's best node", [
                _q("region:icon_blocks_behind_fleet:max", "{{region}}")], unit="none"),
            Panel("Worst node lag by region", [
                _q("region:icon_node_lag_blocks:max", "{{region}}")], unit="none"),
            Panel("Top methods", [
                _q("topk(10, sum by (method) (region_method:icon_edge_requests:rate5m))",
                   "{{method}}")], unit="reqps"),
            Panel("Firing alerts by region", [
                _q('sum by (region, alertname) (ALERTS{alertstate="firing"})',
                   "{{region}} {{alertname}}")], unit="none"),
            Panel("Regional Prometheus reachable", [
                _q('up{job="federate"}', "{{region}}")], unit="bool"),
            Panel("Newest snapshot age by region", [
                _q('time() - max by (region) (icon_sync_last_success_timestamp_seconds'
                   '{operation="snapshot"})', "{{region}}")], unit="s"),
        ]),
    ]


def _layout(sections: list[tuple[str, list[Panel]]], datasource: dict[str, str]) -> list[dict]:
    panels: list[dict[str, Any]] = []
    next_id = 1
    y = 0
    for title, members in sections:
        panels.append({"id": next_id, "type": "row", "title": title, "collapsed": False,
                       "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
        next_id += 1
        y += 1
        x = 0
        row_height = 0
        for panel in members:
            if x + panel.width > 24:
                x, y, row_height = 0, y + row_height, 0
            panels.append(_panel_json(panel, next_id, x, y, datasource))
            next_id += 1
            x += panel.width
            row_height = max(row_height, panel.height)
        y += row_height
    return panels


def _panel_json(panel: Panel, panel_id: int, x: int, y: int,
                datasource: dict[str, str]) -> dict[str, Any]:
    targets = [
        {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend or "__auto",
         "datasource": datasource, "range": True}
        for i, (expr, legend) in enumerate(panel.exprs)
    ]
    body: dict[str, Any] = {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "datasource": datasource,
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}}
        if panel.kind == "timeseries" else {"reduceOptions": {"calcs": ["lastNotNull"]}},
        "targets": targets,
    }
    if panel.description:
        body["description"] = panel.description
    body.update(panel.extra)
    return body


def _dashboard(*, uid: str, title: str, tags: list[str], panels: list[dict],
               variables: list[dict]) -> dict[str, Any]:
    return {
        "uid": uid,
        "title": title,
        "tags": tags,
        "timezone": "utc",
        "editable": False,
        "graphTooltip": 1,
        "refresh": "30s",
        "schemaVersion": SCHEMA_VERSION,
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": variables},
        "annotations": {"list": []},
        "panels": panels,
    }


def region_dashboard(*, region: str = "", datasource: str = "") -> dict[str, Any]:
    """The region dashboard; ``region``/``datasource`` preset the variables when given."""
    ds_ref = {"type": "prometheus", "uid": "${datasource}"}
    variables = [
        {
            "name": "datasource", "label": "Prometheus", "type": "datasource",
            "query": "prometheus", "hide": 0, "refresh": 1,
            "current": {"text": datasource, "value": datasource} if datasource else {},
        },
        {
            "name": "region", "label": "Region", "type": "query", "datasource": ds_ref,
            "query": {"query": "label_values(icon_node_up, region)", "refId": "region"},
            "definition": "label_values(icon_node_up, region)",
            "refresh": 2, "hide": 0, "multi": False, "includeAll": False, "sort": 1,
            "current": {"text": region, "value": region} if region else {},
        },
    ]
    uid = f"iconctl-region-{region}" if region else "iconctl-region"
    title = f"ICON API — region {region}" if region else "ICON API — region"
    return _dashboard(uid=uid[:40], title=title, tags=["iconctl", "icon", "region"],
                      panels=_layout(_region_panels(), ds_ref), variables=variables)


def overview_dashboard() -> dict[str, Any]:
    """The global overview, on the global Prometheus (federated series and alerts)."""
    ds_ref = {"type": "prometheus", "uid": "${datasource}"}
    variables = [{
        "name": "datasource", "label": "Prometheus", "type": "datasource",
        "query": "prometheus", "hide": 0, "refresh": 1,
        "current": {"text": "prometheus-global", "value": "prometheus-global"},
    }]
    return _dashboard(uid="iconctl-overview", title="ICON API — global overview",
                      tags=["iconctl", "icon", "global"],
                      panels=_layout(_overview_panels(), ds_ref), variables=variables)


def committed() -> dict[str, dict[str, Any]]:
    """The dashboards as committed under monitoring/grafana/dashboards/ (file name -> JSON)."""
    return {"overview.json": overview_dashboard(), "region.json": region_dashboard()}


def to_json(dashboard: dict[str, Any]) -> str:
    return json.dumps(dashboard, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, PromQL) for every target of every panel, for the tests."""
    found = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            found.append((panel["title"], target["expr"]))
    return found


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, dashboard in committed().items():
        path = directory / name
        write_atomic(path, to_json(dashboard))
        written.append(path)
    return written


if __name__ == "__main__":
    for written in write(Path(sys.argv[1] if len(sys.argv) > 1 else ".")):
        print(written)
