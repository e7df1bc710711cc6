"""Rehearsing a deployment on a local AWS API: moto's server on loopback.

The real Terraform and the real hashicorp/aws provider plan, apply and destroy the AWS stacks
against moto exactly as against AWS. moto is not AWS; what it lacks is worked around here, in
one place, and listed in docs/terraform.md ("Rehearsing on a local AWS API"):

- it lists no Debian images: its server gets one through MOTO_AMIS_PATH, with the owner and
  name pattern of Debian's own, so the stacks' `aws_ami` lookup finds what it finds on AWS;
- it issues certificates after 60 s: MOTO_ACM_VALIDATION_WAIT=0;
- it knows AWS's managed IAM policies (AmazonSSMManagedInstanceCore, which the monitoring
  host's role attaches) only when told to load them: MOTO_IAM_LOAD_MANAGED_POLICIES=true;
- it has no MonitorInstances and ignores bucket policy conditions: two stack variables whose
  defaults are what a real account gets are turned off (TF_VAR_*).

`iconctl demo` and the test suite use this module; an operator can do the same by hand
(docs/orchestration.md).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

DEBIAN_AMI = "ami-0d1e2b3c4a5f60718"
DEBIAN_AMIS = [
    {
        "ami_id": DEBIAN_AMI,
        "name": "debian-12-amd64-20261201-2000",
        "description": "Debian 12 (20261201-2000)",
        "owner_id": "136693071363",  # Debian's account, as the stacks' lookup expects
        "image_location": "amazon/debian-12-amd64-20261201-2000",
        "state": "available",
        "public": True,
        "architecture": "x86_64",
        "virtualization_type": "hvm",
        "hypervisor": "xen",
        "root_device_type": "ebs",
        "root_device_name": "/dev/xvda",
        "image_type": "machine",
        "platform": None,
        "sriov": "simple",
        "creation_date": "2026-12-01T20:00:00.000Z",
    }
]

# Stack variables whose AWS defaults moto cannot serve (docs/terraform.md).
TERRAFORM_VARIABLES = {
    "TF_VAR_detailed_monitoring": "false",  # no MonitorInstances: apply would retry 15 min
    "TF_VAR_deny_insecure_transport": "false",  # conditions ignored: the Deny denies all
}


def moto_server_env(folder: Path) -> dict[str, str]:
    """The environment of moto's server for a rehearsal (writes its image list in folder)."""
    path = folder / "moto-amis.json"
    path.write_text(json.dumps(DEBIAN_AMIS))
    return {
        "MOTO_AMIS_PATH": str(path),
        "MOTO_ACM_VALIDATION_WAIT": "0",
        "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
    }


def provider_mirror(env: dict[str, str] | None = None) -> Path | None:
    """The filesystem mirror ICONCTL_TF_PLUGIN_MIRROR names, when it holds hashicorp/aws."""
    value = (env if env is not None else os.environ).get("ICONCTL_TF_PLUGIN_MIRROR", "")
    if not value:
        return None
    root = Path(value).expanduser()
    found = any(root.glob("registry.terraform.io/hashicorp/aws/*/*/terraform-provider-aws*"))
    found = found or any(root.glob("registry.terraform.io/hashicorp/aws/*.zip"))
    return root.resolve() if found else None


def terraform_cli_config(mirror: Path, folder: Path) -> Path:
    """A Terraform CLI configuration that installs providers from the mirror only."""
    path = folder / "terraformrc"
    path.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n'
    )
    return path
