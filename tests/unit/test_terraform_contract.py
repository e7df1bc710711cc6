"""The contract between `iconctl render` and the Terraform stacks.

What the renderer writes for a stack is exactly that stack's variables: no variable the
stack does not declare (Terraform would refuse it), and every variable the stack requires.
Checked for both canonical example specs, with the stacks parsed by python-hcl2.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.helpers import EXAMPLES, ROOT, need_module

STACKS = ROOT / "terraform" / "stacks"
EXAMPLE_SPECS = ["multi-region", "single-node"]


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def stack_variables(stack: Path) -> dict[str, dict]:
    """Variable name -> {"type": str, "required": bool} for every variable of a stack."""
    hcl2 = need_module("hcl2")
    variables: dict[str, dict] = {}
    for tf in sorted(stack.glob("*.tf")):
        with tf.open() as handle:
            parsed = hcl2.load(handle)
        for block in parsed.get("variable", []):
            for raw_name, body in block.items():
                name = _unquote(raw_name)
                assert name not in variables, f"{stack.name}: variable {name} declared twice"
                variables[name] = {
                    "type": str(body.get("type", "any")).removeprefix("${").removesuffix("}"),
                    "required": "default" not in body,
                }
    return variables


def kind_matches(type_expr: str, value: object) -> bool:
    """Whether a JSON value fits the outer kind of a Terraform type expression."""
    if value is None:
        return True  # nullable unless the stack says otherwise; Terraform checks the rest
    kind = re.match(r"[a-z]+", type_expr).group(0)
    checks = {
        "string": lambda v: isinstance(v, str),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "bool": lambda v: isinstance(v, bool),
        "list": lambda v: isinstance(v, list),
        "set": lambda v: isinstance(v, list),
        "tuple": lambda v: isinstance(v, list),
        "map": lambda v: isinstance(v, dict),
        "object": lambda v: isinstance(v, dict),
        "any": lambda v: True,
    }
    return checks[kind](value)


def contract_errors(stack: str, rendered: dict, declared: dict[str, dict]) -> list[str]:
    errors = []
    for name in sorted(set(rendered) - set(declared)):
        errors.append(f"{stack}: rendered variable {name!r} is not declared by the stack")
    for name in sorted(n for n, v in declared.items() if v["required"] and n not in rendered):
        errors.append(f"{stack}: required variable {name!r} is not rendered")
    for name in sorted(set(rendered) & set(declared)):
        if not kind_matches(declared[name]["type"], rendered[name]):
            errors.append(
                f"{stack}: {name!r} rendered as {type(rendered[name]).__name__}, "
                f"declared {declared[name]['type']}"
            )
    return errors


def rendered_units(example: str) -> list[tuple[str, str, dict]]:
    """(unit, stack, variables) for every Terraform unit the example renders."""
    from iconctl.render import render_files
    from iconctl.spec import load_spec

    files = render_files(load_spec(EXAMPLES / f"{example}.yaml"))
    deployment = json.loads(files["deployment.json"])
    units = []
    for unit in deployment["units"]:
        folder = unit["dir"] if unit["unit"] == "state-backend" else f"{unit['dir']}/terraform"
        path = f"{folder}/terraform.tfvars.json"
        assert path in files, f"{example}: unit {unit['unit']} has no {path}"
        units.append((unit["unit"], unit["stack"], json.loads(files[path])))
        if "zone" in unit:  # the region's zone step: its own stack and variables
            path = f"{unit['zone']['dir']}/terraform.tfvars.json"
            assert path in files, f"{example}: zone of {unit['unit']} has no {path}"
            units.append((f"{unit['unit']}-zone", unit["zone"]["stack"], json.loads(files[path])))
    return units


@pytest.mark.parametrize("example", EXAMPLE_SPECS)
def test_rendered_variables_are_exactly_the_stacks_variables(example: str) -> None:
    units = rendered_units(example)
    assert units, f"{example} renders no Terraform unit"
    errors = []
    for unit, stack, rendered in units:
        assert (STACKS / stack).is_dir(), f"{example}: unit {unit} uses missing stack {stack}"
        errors += contract_errors(
            f"{example}/{unit} ({stack})", rendered, stack_variables(STACKS / stack)
        )
    assert not errors, "\n".join(errors)


def test_every_example_stack_is_exercised() -> None:
    used = {stack for example in EXAMPLE_SPECS for _, stack, _ in rendered_units(example)}
    # gcp-single has no canonical example; it shares the region variables with gcp-asg and
    # is covered by test_region_stacks_share_the_spec_variables.
    assert {"aws-single", "aws-asg", "gcp-asg", "global-cloudflare", "state-backend-aws",
            "aws-region-zone"} <= used  # fmt: skip


def test_region_stacks_share_the_spec_variables() -> None:
    """Every region stack takes the same spec-derived variables, so any region can switch
    flavour or cloud without a renderer change beyond the flavour's own extras."""
    from iconctl.render.terraform import region_vars
    from iconctl.spec import load_spec

    spec = load_spec(EXAMPLES / "multi-region.yaml")
    flavour_extras = {
        "min_size",
        "max_size",
        "min_ready_nodes",
        "node_env",
        "source_env",
        "boot_grace_seconds",
    }
    base = set(region_vars(spec, spec.regions[0])) - flavour_extras
    for stack in ["aws-single", "aws-asg", "gcp-single", "gcp-asg"]:
        declared = stack_variables(STACKS / stack)
        missing = base - set(declared)
        assert not missing, f"{stack} does not declare {sorted(missing)}"


@pytest.mark.parametrize(
    ("rendered", "declared", "expected"),
    [
        ({"name": "x"}, {"name": {"type": "string", "required": True}}, []),
        (
            {"name": "x", "extra": 1},
            {"name": {"type": "string", "required": True}},
            ["s: rendered variable 'extra' is not declared by the stack"],
        ),
        (
            {},
            {"name": {"type": "string", "required": True}},
            ["s: required variable 'name' is not rendered"],
        ),
        ({}, {"tags": {"type": "map(string)", "required": False}}, []),
        (
            {"min_size": "2"},
            {"min_size": {"type": "number", "required": True}},
            ["s: 'min_size' rendered as str, declared number"],
        ),
        ({"tls_email": None}, {"tls_email": {"type": "string", "required": False}}, []),
    ],
    ids=[
        "exact",
        "unknown-variable",
        "missing-required",
        "optional-absent",
        "wrong-kind",
        "null-for-nullable",
    ],
)
def test_contract_checker_reports(rendered: dict, declared: dict, expected: list[str]) -> None:
    assert contract_errors("s", rendered, declared) == expected
