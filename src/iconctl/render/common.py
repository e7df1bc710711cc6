"""Small formatting helpers shared by the renderers: deterministic JSON, YAML and HCL text."""

from __future__ import annotations

import json
from typing import Any

import yaml

from iconctl.spec import Region, Spec

HEADER = "Rendered by iconctl from the spec; edit the spec, not this file."


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def to_yaml(data: Any) -> str:
    body = yaml.safe_dump(data, sort_keys=True, default_flow_style=False, width=100)
    return f"# {HEADER}\n{body}"


def hcl_value(value: Any) -> str:
    """A Python scalar, list or dict as an HCL2 literal ('${' and '%{' escaped)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value).replace("${", "$${").replace("%{", "%%{")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(hcl_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{json.dumps(k)} = {hcl_value(v)}" for k, v in sorted(value.items()))
        return "{ " + inner + " }" if inner else "{}"
    raise TypeError(f"no HCL form for {type(value).__name__}")


def to_hcl(variables: dict[str, Any]) -> str:
    """``name = value`` lines, aligned, in sorted order."""
    width = max((len(k) for k in variables), default=0)
    lines = [f"# {HEADER}"]
    lines += [f"{k.ljust(width)} = {hcl_value(v)}" for k, v in sorted(variables.items())]
    return "\n".join(lines) + "\n"


def region_labels(spec: Spec, region: Region) -> dict[str, str]:
    """What a region's resources are labelled with, by bare name; each system adds its own
    key prefix (``iconctl-`` for cloud tags, ``iconctl.io/`` for Kubernetes labels)."""
    return {"deployment": spec.name, "network": spec.network, "region": region.name}


def store_url(spec: Spec, region: Region) -> str | None:
    """Where the region's snapshots live, as a sync store URL."""
    bucket = spec.snapshot_bucket(region)
    if bucket is None:
        return None
    scheme = "s3" if region.cloud == "aws" else "gs"
    return f"{scheme}://{bucket}/{spec.network}"


def region_hostname(spec: Spec, region: Region) -> str:
    """The region's own hostname: the geo load balancer's origin for that region."""
    if len(spec.regions) == 1 and spec.geo is None:
        return spec.domain
    return f"{region.name}.{spec.domain}"


def stack_name(region: Region) -> str:
    """The Terraform stack of a VM region; k8s regions deploy with kubectl instead."""
    return "kubernetes" if region.flavour == "k8s" else f"{region.cloud}-{region.flavour}"


def vm_regions(spec: Spec) -> list[Region]:
    """Regions iconctl builds machines for (Terraform, Packer, Ansible, compose): not k8s ones,
    which run on a cluster that exists already (see render/kubernetes.py)."""
    return [region for region in spec.regions if region.flavour != "k8s"]
