"""Compose inputs: which override files each node combines, and the non-secret variables.

Written as a `.env` file beside the compose files, so plain `docker compose up` on the node
picks up COMPOSE_FILE and the ICON_* values without any wrapper.
"""

from __future__ import annotations

from iconctl.endpoints import AGENT_PORT
from iconctl.render.common import HEADER, region_hostname, store_url, vm_regions
from iconctl.spec import SERVICE_NAMES, Region, Spec


def node_files(spec: Spec, region: Region) -> list[str]:
    """Compose files of a serving node, base first, in the order compose applies them."""
    names = ["compose.yaml", f"compose.{region.flavour}.yaml"]
    if spec.sync.enabled:
        names.append("compose.restore.yaml")
    names += ["compose.agent.yaml", "compose.node-exporter.yaml", "compose.edge.yaml"]
    if spec.logging is not None:
        names.append("compose.log-shipper.yaml")
    return names


def source_files(spec: Spec, region: Region) -> list[str]:
    """Compose files of the region's source-of-truth node: it snapshots instead of serving."""
    names = [
        "compose.yaml",
        "compose.source.yaml",
        "compose.agent.yaml",
        "compose.node-exporter.yaml",
    ]
    if spec.logging is not None:
        names.append("compose.log-shipper.yaml")
    return names


def files(spec: Spec) -> dict[str, str]:
    out: dict[str, str] = {}
    for region in vm_regions(spec):
        out[f"{region.name}/compose/.env"] = env_file(spec, region, node_files(spec, region))
        if spec.sync.enabled:
            out[f"{region.name}/compose/source.env"] = env_file(
                spec, region, source_files(spec, region)
            )
    return out


def env_file(spec: Spec, region: Region, compose_files: list[str]) -> str:
    values = env_values(spec, region, compose_files)
    lines = [f"# {HEADER}"] + [f"{key}={value}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def env_values(spec: Spec, region: Region, compose_files: list[str]) -> dict[str, str]:
    """The .env of a node as a mapping (Terraform also hands it to booting nodes)."""
    return {
        "COMPOSE_PATH_SEPARATOR": ":",
        "COMPOSE_FILE": ":".join(compose_files),
        "COMPOSE_PROJECT_NAME": spec.name,
        "ICON_NODE_IMAGE": spec.node.image,
        "ICON_ICONCTL_IMAGE": spec.node.iconctl_image,
        "ICON_SERVICE": SERVICE_NAMES[spec.network],
        "ICON_RPC_PORT": str(spec.node.rpc_port),
        "ICON_P2P_PORT": str(spec.node.p2p_port),
        "ICON_WS_MAX_SESSION": str(spec.node.ws_max_sessions),
        "ICON_RPC_BATCH_LIMIT": str(spec.node.rpc_batch_limit),
        "ICON_SEEDS": ",".join(spec.node.seeds),
        "ICON_DOMAIN": region_hostname(spec, region),
        "ICON_TLS_EMAIL": spec.tls.email if spec.tls and region.flavour == "single" else "",
        "ICON_AGENT_PORT": str(AGENT_PORT),
        "ICON_MAX_LAG_BLOCKS": str(spec.health.max_lag_blocks),
        "ICON_MAX_BLOCK_AGE": str(spec.health.max_block_age_seconds),
        "ICON_REFERENCES": ",".join(spec.references),
        "ICON_STORE_URL": store_url(spec, region) or "",
        "ICON_SYNC_INTERVAL_MINUTES": str(spec.sync.interval_minutes),
        "ICON_SYNC_KEEP": str(spec.sync.keep),
        "ICON_REGION": region.name,
        "ICON_ELASTICSEARCH_URL": spec.logging.elasticsearch_url if spec.logging else "",
    }
