"""The real AWS provider for the tests that run Terraform against moto's AWS API (the
rehearsal settings themselves are iconctl.rehearsal's).

The provider comes from a filesystem mirror (ICONCTL_TF_PLUGIN_MIRROR, which `.ci/run` sets
to the mirror it finds on the machine). Without it these tests skip, and fail under
ICONCTL_REQUIRE_TOOLS=1.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from iconctl.rehearsal import provider_mirror
from tests.helpers import REQUIRE_TOOLS


def need_aws_provider() -> Path:
    """The filesystem mirror holding hashicorp/aws; skip (or fail when tools are required)."""
    mirror = provider_mirror()
    if mirror is None:
        named = os.environ.get("ICONCTL_TF_PLUGIN_MIRROR", "")
        message = (
            "no hashicorp/aws provider mirror: set ICONCTL_TF_PLUGIN_MIRROR to a Terraform "
            "filesystem mirror holding it" + (f" (nothing in {named})" if named else "")
        )
        if REQUIRE_TOOLS:
            pytest.fail(message + " (ICONCTL_REQUIRE_TOOLS=1)")
        pytest.skip(message)
    return mirror
