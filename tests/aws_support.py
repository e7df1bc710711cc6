"""The real AWS provider against moto's AWS API on loopback: the provider mirror, a Terraform
CLI configuration that uses it, the images moto lists, and an AWS account to look into.

The provider comes from a filesystem mirror (ICONCTL_TF_PLUGIN_MIRROR, which `.ci/run` sets
to the mirror it finds on the machine). Without it these tests skip, and fail under
ICONCTL_REQUIRE_TOOLS=1.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import REQUIRE_TOOLS

# moto lists these images instead of its own (MOTO_AMIS_PATH): a Debian 12 image as Debian's
# account publishes it, so the stacks' `aws_ami` lookup finds what it finds on AWS.
DEBIAN_AMI = "ami-0d1e2b3c4a5f60718"
MOTO_AMIS = [
    {
        "ami_id": DEBIAN_AMI,
        "name": "debian-12-amd64-20261201-2000",
        "description": "Debian 12 (20261201-2000)",
        "owner_id": "136693071363",
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


def need_aws_provider() -> Path:
    """The filesystem mirror holding hashicorp/aws; skip (or fail when tools are required)."""
    mirror = os.environ.get("ICONCTL_TF_PLUGIN_MIRROR", "")
    found = mirror and any(
        Path(mirror).glob("registry.terraform.io/hashicorp/aws/*/*/terraform-provider-aws*")
    )
    if not found:
        message = (
            "no hashicorp/aws provider mirror: set ICONCTL_TF_PLUGIN_MIRROR to a Terraform "
            "filesystem mirror holding it" + (f" (nothing in {mirror})" if mirror else "")
        )
        if REQUIRE_TOOLS:
            pytest.fail(message + " (ICONCTL_REQUIRE_TOOLS=1)")
        pytest.skip(message)
    return Path(mirror).resolve()


def cli_config(mirror: Path, folder: Path) -> Path:
    """A Terraform CLI configuration that installs providers from the mirror only."""
    path = folder / "terraformrc"
    path.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n'
    )
    return path


def moto_settings(folder: Path) -> dict[str, str]:
    """moto's environment for a deployment: it lists MOTO_AMIS, and issues certificates at
    once instead of after 60 s (DNS validation records are never checked by moto)."""
    path = folder / "moto-amis.json"
    path.write_text(json.dumps(MOTO_AMIS))
    return {"MOTO_AMIS_PATH": str(path), "MOTO_ACM_VALIDATION_WAIT": "0"}
