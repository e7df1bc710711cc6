"""What a spec deploys, in a form for people (a rich table) and for machines (a dict)."""

from __future__ import annotations

from typing import Any

from iconctl.spec.model import Spec


def summary(spec: Spec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "network": spec.network,
        "domain": spec.domain,
        "geo": spec.geo.steering if spec.geo else None,
        "sync": spec.sync.enabled,
        "regions": [
            {
                "name": region.name,
                "cloud": region.cloud,
                "flavour": region.flavour,
                "instance_type": region.instance_type,
                "min_nodes": region.nodes_min,
                "max_nodes": region.nodes_max,
                "snapshot_bucket": spec.snapshot_bucket(region),
            }
            for region in spec.regions
        ],
        "monitoring": _monitoring(spec),
    }


def _monitoring(spec: Spec) -> dict[str, Any] | None:
    """Where the global view runs and which regions it reaches (docs/monitoring.md): the
    global region's own Prometheus on the host, the others only through
    ``monitoring.federation``."""
    global_region = spec.monitoring_global_region()
    if global_region is None:
        return None
    others = [r.name for r in spec.regions if r.name != global_region]
    return {
        "global_region": global_region,
        "federated": [global_region, *(n for n in others if n in spec.monitoring.federation)],
        "not_federated": [n for n in others if n not in spec.monitoring.federation],
    }


def monitoring_line(data: dict[str, Any]) -> str | None:
    """One line for people: where alerts come from, and which regions nothing alerts on."""
    view = data.get("monitoring")
    if not view:
        return None
    line = f"monitoring: global view on {view['global_region']}, federating " + ", ".join(
        view["federated"]
    )
    if view["not_federated"]:
        line += (
            f"; not federated, so not alerted on: {', '.join(view['not_federated'])} "
            "(name each in monitoring.federation)"
        )
    return line


def _nodes(region: dict[str, Any]) -> str:
    low, high = region["min_nodes"], region["max_nodes"]
    return str(low) if low == high else f"{low}-{high}"


def text(data: dict[str, Any]) -> str:
    """Plain aligned text: `validate` prints this, so it stays fast without rich."""
    header = f"{data['name']}: ICON {data['network']} at https://{data['domain']}/api/v3"
    rows = [("region", "cloud", "flavour", "instance", "nodes", "snapshots")]
    rows += [
        (r["name"], r["cloud"], r["flavour"], r["instance_type"], _nodes(r),
         r["snapshot_bucket"] or "-")
        for r in data["regions"]
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]  # fmt: skip
    footer = monitoring_line(data)
    return "\n".join([header, *("  " + line for line in lines), *([footer] if footer else [])])


def table(data: dict[str, Any]):  # noqa: ANN201 - rich is imported lazily
    from rich.table import Table

    title = f"{data['name']}: ICON {data['network']} at https://{data['domain']}/api/v3"
    grid = Table(title=title, title_justify="left")
    for column in ("region", "cloud", "flavour", "instance", "nodes", "snapshots"):
        grid.add_column(column, overflow="fold")
    for region in data["regions"]:
        grid.add_row(
            region["name"],
            region["cloud"],
            region["flavour"],
            region["instance_type"],
            _nodes(region),
            region["snapshot_bucket"] or "-",
        )
    grid.caption = monitoring_line(data)
    grid.caption_justify = "left"
    return grid
