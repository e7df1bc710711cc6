"""Ansible inputs: an ansible-runner private_data_dir per region (inventory and extravars),
and one per monitoring host (``<region>/monitoring/ansible``, group ``icon_monitoring``).

Hosts are not known until Terraform has run, so the rendered inventory holds the groups and
their variables; once Terraform reports the hosts, the orchestration asks ``inventory_file``
for the same inventory with them (this module owns the inventory's format).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from iconctl.endpoints import AGENT_PORT
from iconctl.render import compose
from iconctl.render.common import region_hostname, store_url, to_yaml, vm_regions
from iconctl.render.terraform import MONITORING_DIR, monitored_regions
from iconctl.spec import Region, Spec

INVENTORY = "inventory/hosts.yml"  # inside the region's private_data_dir
GROUPS = ("icon_nodes", "icon_source")
MONITORING_GROUPS = ("icon_monitoring",)


def files(spec: Spec) -> dict[str, str]:
    out: dict[str, str] = {}
    for region in vm_regions(spec):
        base = f"{region.name}/ansible"
        out[f"{base}/{INVENTORY}"] = inventory_file(spec, region)
        out[f"{base}/env/extravars"] = to_yaml(extravars(spec, region))
    for region in monitored_regions(spec):
        base = f"{region.name}/{MONITORING_DIR}/ansible"
        out[f"{base}/{INVENTORY}"] = inventory_file(spec, region, groups=MONITORING_GROUPS)
        out[f"{base}/env/extravars"] = to_yaml(monitoring_extravars(spec, region))
    return out


def inventory_file(
    spec: Spec,
    region: Region,
    *,
    hosts: Mapping[str, Iterable[str] | None] | None = None,
    extra_vars: Mapping[str, Any] | None = None,
    groups: Iterable[str] = GROUPS,
) -> str:
    """The region's inventory as YAML; ``hosts`` (group -> addresses) and ``extra_vars`` come
    from Terraform's ``ansible_hosts`` and ``ansible_vars`` outputs. ``groups``: the nodes'
    (the default) or the monitoring host's (``MONITORING_GROUPS``)."""
    return to_yaml(inventory(spec, region, hosts=hosts, extra_vars=extra_vars, groups=groups))


def inventory(
    spec: Spec,
    region: Region,
    *,
    hosts: Mapping[str, Iterable[str] | None] | None = None,
    extra_vars: Mapping[str, Any] | None = None,
    groups: Iterable[str] = GROUPS,
) -> dict[str, Any]:
    children: dict[str, dict[str, Any]] = {group: {"hosts": {}} for group in groups}
    for group, addresses in (hosts or {}).items():
        children[group] = {"hosts": {str(address): {} for address in addresses or []}}
    variables: dict[str, Any] = {
        "iconctl_deployment": spec.name,
        "iconctl_region": region.name,
        "iconctl_cloud": region.cloud,
        "iconctl_flavour": region.flavour,
    }
    variables.update(extra_vars or {})
    return {"all": {"children": children, "vars": variables}}


def extravars(spec: Spec, region: Region) -> dict[str, Any]:
    store = store_url(spec, region)
    return {
        "icon_node_image": spec.node.image,
        "icon_node_iconctl_image": spec.node.iconctl_image,
        "icon_node_network": spec.network,
        "icon_node_rpc_port": spec.node.rpc_port,
        "icon_node_p2p_port": spec.node.p2p_port,
        "icon_node_ws_max_sessions": spec.node.ws_max_sessions,
        "icon_node_compose_files": compose.node_files(spec, region),
        "icon_node_restore_store_url": store or "",
        "icon_agent_listen": f"0.0.0.0:{AGENT_PORT}",
        "icon_agent_max_lag_blocks": spec.health.max_lag_blocks,
        "icon_agent_max_block_age": spec.health.max_block_age_seconds,
        "icon_agent_references": list(spec.references),
        "icon_source_store_url": store or "",
        "icon_source_interval_minutes": spec.sync.interval_minutes,
        "icon_source_keep": spec.sync.keep,
        "icon_edge_domain": region_hostname(spec, region),
        "icon_edge_tls_email": spec.tls.email if spec.tls and region.flavour == "single" else "",
    }


def monitoring_extravars(spec: Spec, region: Region) -> dict[str, Any]:
    """The icon_monitoring role's spec-derived variables (its contract: docs/monitoring.md).
    ``icon_monitoring_files_dir`` is set at config time (the copied ``files/`` tree) and the
    listen address comes from the stack's ``ansible_vars``; secrets never appear here."""
    return {"icon_monitoring_global": region.name == spec.monitoring_global_region()}
