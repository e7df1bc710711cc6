"""Packer inputs: one pkrvars file per region, for the template in packer/."""

from __future__ import annotations

from typing import Any

from iconctl.render.common import to_hcl, vm_regions
from iconctl.spec import Region, Spec

# The machine that builds the image, not the one that serves: the image is the same.
BUILD_INSTANCE = {"aws": "m6i.large", "gcp": "n2-standard-2"}


def files(spec: Spec) -> dict[str, str]:
    return {
        f"{region.name}/packer/{region.cloud}.pkrvars.hcl": to_hcl(variables(spec, region))
        for region in vm_regions(spec)
    }


def variables(spec: Spec, region: Region) -> dict[str, Any]:
    common: dict[str, Any] = {
        "image_name": f"{spec.name}-icon-node-{spec.network}",
        "node_image": spec.node.image,
        "iconctl_image": spec.node.iconctl_image,
        "instance_type": BUILD_INSTANCE[region.cloud],
    }
    if region.cloud == "aws":
        return {**common, "region": region.name}
    assert spec.gcp is not None
    return {**common, "project_id": spec.gcp.project, "zone": f"{region.name}-a"}
