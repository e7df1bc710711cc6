"""Grafana dashboards, generated from code: a global overview and a region dashboard.

Built with Grafana's own SDK (grafana-foundation-sdk): every panel, query and variable is a
typed object of Grafana's dashboard schema, so a misspelt option or a wrong type fails here
rather than in a Grafana nobody can run on the build machine. Code rather than hand-kept JSON
also because every panel follows the same few patterns (a selector filtered by region, a
rate over Grafana's interval, a unit), the tests can walk the panels to check each query
against the metric catalogue, and a change is a readable diff.
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
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.builders import prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as schema

from iconctl.files import write_atomic

R = '{region="$region"}'  # the region filter most region panels use
RATE = "$__rate_interval"
# Every panel and query reads the Prometheus the dashboard's `datasource` variable selects.
DATASOURCE = schema.DataSourceRef(type_val="prometheus", uid="${datasource}")

PanelBuilder = timeseries.Panel | stat.Panel


def _q(expr: str, legend: str = "") -> prometheus.Dataquery:
    return (
        prometheus.Dataquery()
        .expr(expr)
        .legend_format(legend or "__auto")
        .range()
        .datasource(DATASOURCE)
    )


def panel(
    title: str,
    queries: list[prometheus.Dataquery],
    *,
    unit: str = "short",
    kind: str = "timeseries",
    width: int = 12,
    height: int = 8,
) -> PanelBuilder:
    """A time series or stat panel of Grafana's schema with its queries (refId A, B, ...)."""
    built: PanelBuilder
    if kind == "timeseries":
        built = timeseries.Panel().legend(
            common_builders.VizLegendOptions()
            .display_mode(common.LegendDisplayMode.LIST)
            .placement(common.LegendPlacement.BOTTOM)
            .show_legend(True)
        )
    elif kind == "stat":
        built = stat.Panel().reduce_options(
            common_builders.ReduceDataOptions().calcs(["lastNotNull"])
        )
    else:
        raise ValueError(f"unknown panel kind {kind!r}")
    built = built.title(title).unit(unit).span(width).height(height).datasource(DATASOURCE)
    for index, query in enumerate(queries):
        built = built.with_target(query.ref_id(chr(ord("A") + index)))
    return built


def _region_panels() -> list[tuple[str, list[PanelBuilder]]]:
    sel = R
    return [
        (
            "Health",
            [
                panel(
                    "Ready nodes",
                    [_q(f"sum(icon_node_ready{sel})")],
                    kind="stat",
                    width=4,
                    height=4,
                ),
                panel(
                    "Nodes answering",
                    [_q(f"sum(icon_node_up{sel})")],
                    kind="stat",
                    width=4,
                    height=4,
                ),
                panel(
                    "Nodes discovered",
                    [_q(f"count(icon_node_up{sel})")],
                    kind="stat",
                    width=4,
                    height=4,
                ),
                panel(
                    "Worst lag",
                    [_q(f"max(icon_node_lag_blocks{sel})")],
                    unit="none",
                    kind="stat",
                    width=4,
                    height=4,
                ),
                panel(
                    "Requests/s",
                    [_q(f"sum(rate(icon_edge_requests_total{sel}[{RATE}]))")],
                    unit="reqps",
                    kind="stat",
                    width=4,
                    height=4,
                ),
                panel(
                    "Draining",
                    [_q(f"sum(icon_agent_draining{sel})")],
                    kind="stat",
                    width=4,
                    height=4,
                ),
                panel(
                    "Block height",
                    [
                        _q(f"icon_node_block_height{sel}", "{{instance}}"),
                        _q(
                            f"max by (reference) (icon_reference_block_height{sel})",
                            "reference {{reference}}",
                        ),
                    ],
                    unit="none",
                ),
                panel(
                    "Lag behind the best reference",
                    [_q(f"icon_node_lag_blocks{sel}", "{{instance}}")],
                    unit="none",
                ),
                panel(
                    "Last block age",
                    [_q(f"icon_node_last_block_age_seconds{sel}", "{{instance}}")],
                    unit="s",
                ),
                panel(
                    "Ready (1) / not ready (0)",
                    [_q(f"icon_node_ready{sel}", "{{instance}}")],
                    unit="none",
                ),
                panel("Peers", [_q(f"icon_node_peers{sel}", "{{instance}}")], unit="none"),
                panel(
                    "References answering",
                    [_q(f"sum by (instance) (icon_reference_up{sel})", "{{instance}}")],
                    unit="none",
                ),
                panel(
                    "Chain state (admin API)",
                    [_q(f"icon_node_chain_state{sel} == 1", "{{instance}} {{state}}")],
                    unit="none",
                ),
                panel(
                    "Agent poll latency p99",
                    [
                        _q(
                            "histogram_quantile(0.99, sum by (le, instance, target) "
                            f"(rate(icon_agent_poll_duration_seconds_bucket{sel}[{RATE}])))",
                            "{{instance}} {{target}}",
                        )
                    ],
                    unit="s",
                ),
            ],
        ),
        (
            "Edge",
            [
                panel(
                    "Requests by status",
                    [
                        _q(
                            f"sum by (status) (rate(icon_edge_requests_total{sel}[{RATE}]))",
                            "{{status}}",
                        )
                    ],
                    unit="reqps",
                ),
                panel(
                    "Requests by method",
                    [
                        _q(
                            "topk(10, sum by (method) "
                            f"(rate(icon_edge_requests_total{sel}[{RATE}])))",
                            "{{method}}",
                        )
                    ],
                    unit="reqps",
                ),
                panel(
                    "5xx ratio by node",
                    [
                        _q(
                            'sum by (instance) (rate(icon_edge_requests_total{region="$region",'
                            f'status=~"5.."}}[{RATE}])) / sum by (instance) '
                            f"(rate(icon_edge_requests_total{sel}[{RATE}]))",
                            "{{instance}}",
                        )
                    ],
                    unit="percentunit",
                ),
                panel(
                    "Latency",
                    [
                        _q(
                            "histogram_quantile(0.5, sum by (le) "
                            f"(rate(icon_edge_request_duration_seconds_bucket{sel}[{RATE}])))",
                            "p50",
                        ),
                        _q(
                            "histogram_quantile(0.99, sum by (le) "
                            f"(rate(icon_edge_request_duration_seconds_bucket{sel}[{RATE}])))",
                            "p99",
                        ),
                    ],
                    unit="s",
                ),
                panel(
                    "Latency p99 by method",
                    [
                        _q(
                            "histogram_quantile(0.99, sum by (le, method) "
                            f"(rate(icon_edge_request_duration_seconds_bucket{sel}[{RATE}])))",
                            "{{method}}",
                        )
                    ],
                    unit="s",
                ),
                panel(
                    "Requests by node",
                    [
                        _q(
                            f"sum by (instance) (rate(icon_edge_requests_total{sel}[{RATE}]))",
                            "{{instance}}",
                        )
                    ],
                    unit="reqps",
                ),
            ],
        ),
        (
            "goloop",
            [
                panel(
                    "Consensus height",
                    [_q(f"goloop_consensus_height{sel}", "{{instance}}")],
                    unit="none",
                ),
                panel(
                    "Consensus round",
                    [_q(f"goloop_consensus_round{sel}", "{{instance}}")],
                    unit="none",
                ),
                panel(
                    "JSON-RPC calls by kind",
                    [
                        _q(f"sum(rate(goloop_jsonrpc_call_cnt{sel}[{RATE}]))", "icx_call"),
                        _q(f"sum(rate(goloop_jsonrpc_retrieve_cnt{sel}[{RATE}]))", "retrieve"),
                        _q(
                            f"sum(rate(goloop_jsonrpc_send_transaction_cnt{sel}[{RATE}]))",
                            "sendTransaction",
                        ),
                        _q(f"sum(rate(goloop_jsonrpc_failure_cnt{sel}[{RATE}]))", "failures"),
                    ],
                    unit="reqps",
                ),
                panel(
                    "Transaction pool",
                    [
                        _q(
                            f"sum by (instance) (rate(goloop_txpool_add_cnt{sel}[{RATE}]))",
                            "added {{instance}}",
                        ),
                        _q(
                            f"sum by (instance) (rate(goloop_txpool_drop_cnt{sel}[{RATE}]))",
                            "dropped {{instance}}",
                        ),
                    ],
                    unit="ops",
                ),
                panel(
                    "P2P traffic",
                    [
                        _q(
                            f"sum by (instance) (rate(goloop_network_recv_sum{sel}[{RATE}]))",
                            "in {{instance}}",
                        ),
                        _q(
                            f"-sum by (instance) (rate(goloop_network_send_sum{sel}[{RATE}]))",
                            "out {{instance}}",
                        ),
                    ],
                    unit="Bps",
                ),
                panel(
                    "P2P packets",
                    [
                        _q(
                            f"sum by (instance) (rate(goloop_network_recv_cnt{sel}[{RATE}]))",
                            "in {{instance}}",
                        ),
                        _q(
                            f"sum by (instance) (rate(goloop_network_send_cnt{sel}[{RATE}]))",
                            "out {{instance}}",
                        ),
                    ],
                    unit="pps",
                ),
            ],
        ),
        (
            "Host and sync",
            [
                panel(
                    "CPU busy",
                    [
                        _q(
                            '1 - avg by (instance) (rate(node_cpu_seconds_total{region="$region",'
                            f'mode="idle"}}[{RATE}]))',
                            "{{instance}}",
                        )
                    ],
                    unit="percentunit",
                ),
                panel(
                    "Memory available",
                    [
                        _q(
                            f"node_memory_MemAvailable_bytes{sel} / "
                            f"node_memory_MemTotal_bytes{sel}",
                            "{{instance}}",
                        )
                    ],
                    unit="percentunit",
                ),
                panel(
                    "Free space (data filesystems)",
                    [
                        _q(
                            'node_filesystem_avail_bytes{region="$region",'
                            'fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs|devtmpfs"} / '
                            'node_filesystem_size_bytes{region="$region",'
                            'fstype!~"tmpfs|ramfs|overlay|squashfs|nsfs|devtmpfs"}',
                            "{{instance}} {{mountpoint}}",
                        )
                    ],
                    unit="percentunit",
                ),
                panel(
                    "Network",
                    [
                        _q(
                            "sum by (instance) (rate(node_network_receive_bytes_total"
                            f'{{region="$region",'
                            f'device!="lo"}}[{RATE}]))',
                            "in {{instance}}",
                        ),
                        _q(
                            "-sum by (instance) (rate(node_network_transmit_bytes_total"
                            f'{{region="$region",'
                            f'device!="lo"}}[{RATE}]))',
                            "out {{instance}}",
                        ),
                    ],
                    unit="Bps",
                ),
                panel(
                    "Age of the newest snapshot",
                    [
                        _q(
                            "time() - max(icon_sync_last_success_timestamp_seconds"
                            '{region="$region",'
                            'operation="snapshot"})',
                            "snapshot",
                        )
                    ],
                    unit="s",
                ),
                panel(
                    "Last sync duration",
                    [_q(f"icon_sync_last_duration_seconds{sel}", "{{operation}} {{instance}}")],
                    unit="s",
                ),
                panel(
                    "Last sync bytes transferred",
                    [_q(f"icon_sync_last_bytes_transferred{sel}", "{{operation}} {{instance}}")],
                    unit="bytes",
                ),
                panel(
                    "Last sync failure",
                    [
                        _q(
                            f"icon_sync_last_failure_timestamp_seconds{sel} * 1000",
                            "{{operation}} {{instance}}",
                        )
                    ],
                    unit="dateTimeAsIso",
                    kind="stat",
                ),
            ],
        ),
    ]


def _overview_panels() -> list[tuple[str, list[PanelBuilder]]]:
    return [
        (
            "Fleet",
            [
                panel(
                    "Ready nodes",
                    [_q("global:icon_nodes_ready:sum")],
                    kind="stat",
                    width=6,
                    height=4,
                ),
                panel(
                    "Requests/s",
                    [_q("global:icon_edge_requests:rate5m")],
                    unit="reqps",
                    kind="stat",
                    width=6,
                    height=4,
                ),
                panel(
                    "5xx ratio",
                    [_q("global:icon_edge_requests_5xx:ratio_rate5m")],
                    unit="percentunit",
                    kind="stat",
                    width=6,
                    height=4,
                ),
                panel(
                    "Firing alerts",
                    [_q('count(ALERTS{alertstate="firing"}) or vector(0)')],
                    kind="stat",
                    width=6,
                    height=4,
                ),
                panel(
                    "Region healthy (at least one ready node)",
                    [_q("region:icon_region_healthy:bool", "{{region}}")],
                    unit="bool",
                    kind="stat",
                    width=24,
                    height=4,
                ),
            ],
        ),
        (
            "Regions",
            [
                panel(
                    "Ready share by region",
                    [_q("region:icon_nodes_ready:ratio", "{{region}}")],
                    unit="percentunit",
                ),
                panel(
                    "Nodes by region",
                    [
                        _q("region:icon_nodes:count", "discovered {{region}}"),
                        _q("region:icon_nodes_ready:sum", "ready {{region}}"),
                    ],
                    unit="none",
                ),
                panel(
                    "Requests/s by region",
                    [_q("region:icon_edge_requests:rate5m", "{{region}}")],
                    unit="reqps",
                ),
                panel(
                    "5xx ratio by region",
                    [_q("region:icon_edge_requests_5xx:ratio_rate5m", "{{region}}")],
                    unit="percentunit",
                ),
                panel(
                    "Latency p99 by region",
                    [_q("region:icon_edge_request_duration_seconds:p99_rate5m", "{{region}}")],
                    unit="s",
                ),
                panel(
                    "Latency p50 by region",
                    [_q("region:icon_edge_request_duration_seconds:p50_rate5m", "{{region}}")],
                    unit="s",
                ),
                panel(
                    "Blocks behind the fleet's best node",
                    [_q("region:icon_blocks_behind_fleet:max", "{{region}}")],
                    unit="none",
                ),
                panel(
                    "Worst node lag by region",
                    [_q("region:icon_node_lag_blocks:max", "{{region}}")],
                    unit="none",
                ),
                panel(
                    "Top methods",
                    [
                        _q(
                            "topk(10, sum by (method) (region_method:icon_edge_requests:rate5m))",
                            "{{method}}",
                        )
                    ],
                    unit="reqps",
                ),
                panel(
                    "Firing alerts by region",
                    [
                        _q(
                            'sum by (region, alertname) (ALERTS{alertstate="firing"})',
                            "{{region}} {{alertname}}",
                        )
                    ],
                    unit="none",
                ),
                panel(
                    "Regional Prometheus reachable",
                    [_q('up{job="federate"}', "{{region}}")],
                    unit="bool",
                ),
                panel(
                    "Newest snapshot age by region",
                    [
                        _q(
                            "time() - max by (region) (icon_sync_last_success_timestamp_seconds"
                            '{operation="snapshot"})',
                            "{{region}}",
                        )
                    ],
                    unit="s",
                ),
            ],
        ),
    ]


def _dashboard(
    *,
    uid: str,
    title: str,
    tags: list[str],
    sections: list[tuple[str, list[PanelBuilder]]],
    variables: list[Any],
) -> dict[str, Any]:
    """Rows of panels laid out left to right on Grafana's 24-column grid, ids in order."""
    board = (
        dashboard_builders.Dashboard(title)
        .uid(uid[:40])
        .tags(tags)
        .timezone("utc")
        .readonly()
        .tooltip(schema.DashboardCursorSync.CROSSHAIR)
        .refresh("30s")
        .time("now-6h", "now")
        .variables(variables)
    )
    next_id = 1
    for row_title, panels in sections:
        board = board.with_row(dashboard_builders.Row(row_title).id(next_id))
        next_id += 1
        for panel in panels:
            board = board.with_panel(panel.id(next_id))
            next_id += 1
    built: dict[str, Any] = json.loads(json.dumps(board.build(), cls=JSONEncoder))
    return built


def _datasource_variable(preset: str) -> dashboard_builders.DatasourceVariable:
    variable = (
        dashboard_builders.DatasourceVariable("datasource")
        .label("Prometheus")
        .type("prometheus")
        .hide(schema.VariableHide.DONT_HIDE)
    )
    if preset:
        variable = variable.current(schema.VariableOption(text=preset, value=preset))
    return variable


def region_dashboard(*, region: str = "", datasource: str = "") -> dict[str, Any]:
    """The region dashboard; ``region``/``datasource`` preset the variables when given."""
    query = "label_values(icon_node_up, region)"
    region_variable = (
        dashboard_builders.QueryVariable("region")
        .label("Region")
        .datasource(DATASOURCE)
        .query({"query": query, "refId": "region"})
        .refresh(schema.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(schema.VariableSort.ALPHABETICAL_ASC)
        .hide(schema.VariableHide.DONT_HIDE)
        .multi(False)
        .include_all(False)
    )
    if region:
        region_variable = region_variable.current(schema.VariableOption(text=region, value=region))
    uid = f"iconctl-region-{region}" if region else "iconctl-region"
    title = f"ICON API — region {region}" if region else "ICON API — region"
    return _dashboard(
        uid=uid,
        title=title,
        tags=["iconctl", "icon", "region"],
        sections=_region_panels(),
        variables=[_datasource_variable(datasource), region_variable],
    )


def overview_dashboard() -> dict[str, Any]:
    """The global overview, on the global Prometheus (federated series and alerts)."""
    return _dashboard(
        uid="iconctl-overview",
        title="ICON API — global overview",
        tags=["iconctl", "icon", "global"],
        sections=_overview_panels(),
        variables=[_datasource_variable("prometheus-global")],
    )


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
