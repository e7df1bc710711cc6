"""Terraform itself checks what `iconctl render` writes against each stack's variables.

For every Terraform unit of both example specs, the stack's variable declarations alone are
planned (no providers needed) with the rendered tfvars: Terraform converts every value to
its declared type (nested objects included), runs every validation block, and fails on a
missing required variable. Undeclared variables only warn in Terraform, so the warning is
turned into a failure here (the unit test checks the names too).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import EXAMPLES, ROOT, need_tool

STACKS = ROOT / "terraform" / "stacks"

pytestmark = pytest.mark.timeout(300)

# What the pipeline adds at run time to a monitoring stack (RUNTIME_VARS): the region's
# network, in the shape each region stack's ``monitoring_network`` output has.
REGION_NETWORK = {
    "aws-monitoring": {
        "vpc_id": "vpc-0123456789abcdef0",
        "vpc_cidr_block": "10.42.0.0/16",
        "subnet_ids": ["subnet-0123456789abcdef0"],
        "node_security_group_ids": ["sg-0123456789abcdef0"],
    },
    "gcp-monitoring": {
        "network": "projects/p/global/networks/icon-api",
        "subnetwork": "projects/p/regions/asia-northeast1/subnetworks/icon-api",
        "node_tags": ["icon-api-node"],
    },
}


def _units(example: str) -> list[tuple[str, str, str]]:
    from iconctl.render import render_files
    from iconctl.spec import load_spec

    files = render_files(load_spec(EXAMPLES / f"{example}.yaml"))
    units = []
    for unit in json.loads(files["deployment.json"])["units"]:
        folder = unit["dir"] if unit["unit"] == "state-backend" else f"{unit['dir']}/terraform"
        units.append((unit["unit"], unit["stack"], files[f"{folder}/terraform.tfvars.json"]))
        if "zone" in unit:
            zone = unit["zone"]
            units.append(
                (
                    f"{unit['unit']}-zone",
                    zone["stack"],
                    files[f"{zone['dir']}/terraform.tfvars.json"],
                )
            )
    return units


CASES = [
    (example, *unit) for example in ["multi-region", "single-node"] for unit in _units(example)
]


def _declarations(stack: str, tmp_path: Path) -> Path:
    """The stack's variable declarations alone: variables.tf and the shared declarations
    linked into region stacks (region-variables.tf, asg-variables.tf)."""
    declarations = tmp_path / "declarations"
    declarations.mkdir()
    for tf in sorted((STACKS / stack).glob("*variables.tf")):
        (declarations / tf.name).write_text(tf.read_text())
    return declarations


def _plan(directory: Path, var_file: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    binary = need_tool("terraform")["terraform"]
    (tmp_path / "terraformrc").write_text("")
    env = {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(tmp_path / "terraformrc"),
        "TF_DATA_DIR": str(tmp_path / "tf-data"),
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
    }
    init = subprocess.run(
        [binary, "init", "-backend=false", "-input=false", "-no-color"],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert init.returncode == 0, init.stderr
    return subprocess.run(
        [
            binary,
            "plan",
            "-input=false",
            "-no-color",
            f"-var-file={var_file}",
            "-state",
            str(tmp_path / "plan.tfstate"),
        ],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("example", "unit", "stack", "rendered"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_terraform_accepts_the_rendered_variables(
    example: str, unit: str, stack: str, rendered: str, tmp_path: Path
) -> None:
    declarations = _declarations(stack, tmp_path)
    var_file = tmp_path / "terraform.tfvars.json"
    variables = json.loads(rendered)
    if stack in REGION_NETWORK:
        assert "region_network" not in variables  # the pipeline's to give, not the render's
        variables["region_network"] = REGION_NETWORK[stack]
    var_file.write_text(json.dumps(variables))
    result = _plan(declarations, var_file, tmp_path)
    assert result.returncode == 0, f"{example}/{unit} ({stack}):\n{result.stderr}"
    assert "undeclared variable" not in result.stdout + result.stderr, result.stdout


def test_a_wrong_type_is_refused(tmp_path: Path) -> None:
    """The check can fail: a rendered object missing a field is refused by Terraform."""
    _, _, stack, rendered = next(c for c in CASES if c[2] == "global-cloudflare")
    broken = json.loads(rendered)
    del broken["regions"][0]["endpoint"]
    declarations = _declarations(stack, tmp_path)
    var_file = tmp_path / "broken.tfvars.json"
    var_file.write_text(json.dumps(broken))
    result = _plan(declarations, var_file, tmp_path)
    assert result.returncode != 0
    assert "endpoint" in result.stderr
