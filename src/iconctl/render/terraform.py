"""Terraform inputs: a tfvars file and backend settings for each stack the fleet needs.

Stacks live in terraform/stacks/<cloud>-<flavour> (one per region), aws-region-zone (the
Route 53 zone delegated from Cloudflare to an AWS region behind the global load balancer),
global-cloudflare (geo routing) and state-backend-aws/-gcp (the state bucket itself). What is
rendered for a stack is exactly that stack's variables; secrets reach Terraform through the
environment only.
"""

from __future__ import annotations

from typing import Any

from iconctl.endpoints import AGENT_PORT, READY_PATH, REGION_READY_PATH
from iconctl.render.common import region_hostname, region_labels, stack_name, to_json, vm_regions
from iconctl.spec import Region, Spec
from iconctl.spec.regions import continent

ZONE_STACK = "aws-region-zone"
MONITORING_DIR = "monitoring"  # <region>/monitoring/: terraform/, ansible/, files/


def files(spec: Spec) -> dict[str, str]:
    out: dict[str, str] = {}
    for region in vm_regions(spec):
        out[f"{region.name}/terraform/terraform.tfvars.json"] = to_json(region_vars(spec, region))
        out[f"{region.name}/terraform/backend.hcl"] = backend_config(spec, region.name)
        if delegates_zone(spec, region):
            out[f"{region.name}/zone/terraform.tfvars.json"] = to_json(zone_vars(spec, region))
            out[f"{region.name}/zone/backend.hcl"] = backend_config(spec, f"{region.name}-zone")
    for region in monitored_regions(spec):
        for name, content in monitoring_inputs(spec, region).items():
            out[f"{region.name}/{MONITORING_DIR}/terraform/{name}"] = content
    if spec.geo is not None:
        out["global/terraform/terraform.tfvars.json"] = to_json(geo_vars(spec))
        out["global/terraform/backend.hcl"] = backend_config(spec, "global")
    if spec.state.backend != "local":
        out["global/state-backend/terraform.tfvars.json"] = to_json(state_backend_vars(spec))
    return out


def tags(spec: Spec, region: Region) -> dict[str, str]:
    labels = {f"iconctl-{key}": value for key, value in region_labels(spec, region).items()}
    return {**labels, "iconctl-flavour": region.flavour, "managed-by": "iconctl"}


def delegates_zone(spec: Spec, region: Region) -> bool:
    """Whether an AWS region gets its own Route 53 zone, delegated from the Cloudflare zone.

    Behind the global load balancer the region serves <region>.<domain>, whose parent lives
    in Cloudflare: the region's certificate validates through a Route 53 zone for that name,
    which must exist and be delegated before the region's stack runs. A lone region, or one
    that names its own zone (regions[].route53_zone), keeps using a zone looked up by name.
    """
    return (
        spec.geo is not None
        and region.cloud == "aws"
        and region.flavour in ("single", "asg")
        and region.route53_zone is None
    )


def monitored_regions(spec: Spec) -> list[Region]:
    """The regions that get a private monitoring host (stack <cloud>-monitoring): every aws
    and gcp region while monitoring.prometheus is on (k8s regions run the operator-based
    stack in their cluster instead)."""
    if not spec.monitoring.prometheus:
        return []
    return monitorable_regions(spec)


def monitorable_regions(spec: Spec) -> list[Region]:
    """The regions that have a monitoring host while monitoring.prometheus is on."""
    return [r for r in vm_regions(spec) if r.cloud in ("aws", "gcp")]


def monitoring_unit(region: Region) -> str:
    """The monitoring unit's name (and its state's key): ``<region>-monitoring``."""
    return f"{region.name}-monitoring"


def monitoring_entry(
    spec: Spec, region: Region, *, inputs_dir: str | None = None
) -> dict[str, Any]:
    """The monitoring unit's deployment entry (also built for a host being removed after
    monitoring.prometheus was turned off: its inputs then live in ``inputs_dir``)."""
    return {
        "unit": monitoring_unit(region),
        "kind": "monitoring",
        "stack": f"{region.cloud}-monitoring",
        "dir": inputs_dir or f"{region.name}/{MONITORING_DIR}",
        "region": region.name,
        "cloud": region.cloud,
        "global": region.name == spec.monitoring_global_region(),
    }


def monitoring_inputs(spec: Spec, region: Region) -> dict[str, str]:
    """The monitoring stack's rendered inputs: file name -> content."""
    return {
        "terraform.tfvars.json": to_json(monitoring_vars(spec, region)),
        "backend.hcl": backend_config(spec, monitoring_unit(region)),
    }


def monitoring_vars(spec: Spec, region: Region) -> dict[str, Any]:
    variables: dict[str, Any] = {
        "name": spec.name,
        "region": region.name,
        "domain": region_hostname(spec, region),
        "instance_type": spec.monitoring.machine(region.cloud),
        "volume_gib": spec.monitoring.volume_gib,
        "tags": tags(spec, region),
    }
    if region.cloud == "gcp":
        variables["gcp_project"] = spec.gcp.project if spec.gcp else None
    return variables


def zone_vars(spec: Spec, region: Region) -> dict[str, Any]:
    assert spec.geo is not None
    return {
        "name": spec.name,
        "region": region.name,
        "domain": region_hostname(spec, region),
        "zone": spec.geo.zone,
        "tags": tags(spec, region),
    }


def region_vars(spec: Spec, region: Region) -> dict[str, Any]:
    variables: dict[str, Any] = {
        "name": spec.name,
        "region": region.name,
        "network": spec.network,
        "domain": region_hostname(spec, region),
        "node_image": spec.node.image,
        "rpc_port": spec.node.rpc_port,
        "p2p_port": spec.node.p2p_port,
        "agent_port": AGENT_PORT,
        "instance_type": region.instance_type,
        "data_volume_gib": region.data_volume_gib,
        "snapshot_bucket": spec.snapshot_bucket(region) or "",
        "sync_interval_minutes": spec.sync.interval_minutes,
        "sync_keep": spec.sync.keep,
        "tags": tags(spec, region),
        "protect": spec.protect,
        # The region's monitoring host scrapes the exporters on the nodes' private address.
        "monitoring_host": region in monitored_regions(spec),
    }
    if region.flavour == "asg":
        from iconctl.render import compose

        variables["min_size"] = region.nodes_min
        variables["max_size"] = region.nodes_max
        variables["min_ready_nodes"] = spec.geo.min_ready_nodes if spec.geo else 1
        # Liveness may fail this long after launch (restore, start) before the node is
        # replaced; also the instance warm-up (docs/agent.md, "Liveness and replacement").
        variables["boot_grace_seconds"] = spec.boot_grace_minutes(region) * 60
        # Autoscaled nodes boot the baked image and configure themselves from these.
        variables["node_env"] = compose.env_values(spec, region, compose.node_files(spec, region))
        if spec.sync.enabled:
            variables["source_env"] = compose.env_values(
                spec, region, compose.source_files(spec, region)
            )
    else:
        variables["tls_email"] = spec.tls.email if spec.tls else None
    if region.cloud == "gcp":
        variables["gcp_project"] = spec.gcp.project if spec.gcp else None
    if region.route53_zone is not None:
        variables["route53_zone"] = region.route53_zone
    if region.image_id is not None:  # pinned by the operator: no image step
        variables["image_id"] = region.image_id
    return variables


def geo_vars(spec: Spec) -> dict[str, Any]:
    assert spec.geo is not None
    return {
        "name": spec.name,
        "domain": spec.domain,
        "zone": spec.geo.zone,
        "steering": spec.geo.steering,
        "min_ready_nodes": spec.geo.min_ready_nodes,
        "monitor_path": READY_PATH,
        "region_monitor_path": REGION_READY_PATH,
        "monitor_port": AGENT_PORT,
        "expected_body": "OK",
        "regions": [
            {
                "name": region.name,
                "cloud": region.cloud,
                "continent": continent(region.name),
                "endpoint": region_hostname(spec, region),
                # The endpoint is the region's load balancer: its agents answer
                # /region/readyz for the whole region (their stacks wire the count).
                "behind_lb": region.flavour == "asg",
            }
            for region in spec.regions
        ],
    }


def state_backend_vars(spec: Spec) -> dict[str, Any]:
    """Variables of the state bucket's stack: state-backend-aws (s3) or -gcp (gcs)."""
    state = spec.state
    if state.backend == "s3":
        return {"name": spec.name, "bucket": state.bucket, "region": state.region}
    return {
        "name": spec.name,
        "bucket": state.bucket,
        "gcp_project": spec.gcp.project if spec.gcp else None,
    }


def state_backend_stack(spec: Spec) -> str:
    """One stack per cloud, so a deployment needs only its own cloud's provider."""
    return "state-backend-aws" if spec.state.backend == "s3" else "state-backend-gcp"


def backend_config(spec: Spec, unit: str) -> str:
    """Partial backend configuration for `terraform init -backend-config=...`."""
    state = spec.state
    key = f"{state.prefix}/{spec.name}/{unit}"
    if state.backend == "s3":
        lines = [
            f'bucket       = "{state.bucket}"',
            f'key          = "{key}.tfstate"',
            f'region       = "{state.region}"',
            "encrypt      = true",
            "use_lockfile = true",
        ]
    elif state.backend == "gcs":
        lines = [f'bucket = "{state.bucket}"', f'prefix = "{key}"']
    else:
        lines = [f'path = "state/{spec.name}/{unit}.tfstate"']
    return "\n".join(lines) + "\n"


def deployment_json(spec: Spec) -> str:
    """The rendered plan of work: which stack each unit uses, in dependency order."""
    return to_json(deployment(spec))


def deployment(spec: Spec) -> dict[str, Any]:
    """Every unit with its kind (the class that runs it, see pipeline/units.py), stack and
    rendered folder, in dependency order."""
    units: list[dict[str, Any]] = []
    if spec.state.backend != "local":
        units.append(
            {
                "unit": "state-backend",
                "kind": "state-backend",
                "stack": state_backend_stack(spec),
                "dir": "global/state-backend",
            }
        )
    for region in spec.regions:
        unit: dict[str, Any] = {
            "unit": region.name,
            "kind": "k8s-region" if region.flavour == "k8s" else "vm-region",
            "stack": stack_name(region),
            "dir": region.name,
            "cloud": region.cloud,
            "flavour": region.flavour,
        }
        if delegates_zone(spec, region):
            # The region's zone step: its own stack and state, applied before the region's.
            unit["zone"] = {"stack": ZONE_STACK, "dir": f"{region.name}/zone"}
        units.append(unit)
    for region in monitored_regions(spec):
        # After the regions (each needs its region's network), before the global layer;
        # destroy, in reverse, removes it before its region (it adds rules to the nodes'
        # firewall there).
        units.append(monitoring_entry(spec, region))
    if spec.geo is not None:
        units.append(
            {"unit": "global", "kind": "global", "stack": "global-cloudflare", "dir": "global"}
        )
    return {"name": spec.name, "network": spec.network, "domain": spec.domain, "units": units}
