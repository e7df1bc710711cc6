"""`moved` blocks, read from the HCL: state made before a shared module existed moves into it
without anything being replaced.

For every module that moves resources into a called module: each `from` is an address the
module no longer declares, each `to` a resource (or instance) that exists in the module it
names, indexed only when the target is counted. For the GCP node
firewall, the `from` addresses are exactly the rules each module used to declare, and each
rule keeps its name (a new name would make Google replace the rule).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from tests.helpers import ROOT, need_module

MODULES = ROOT / "terraform" / "modules"

# The rules gcp-mig and gcp-single-node declared before gcp-node-firewall: their address, the
# suffix of their name ("${local.tag}-<suffix>"), and whether they were counted.
GCP_FIREWALL_BEFORE = {
    "gcp-mig": {
        "google_compute_firewall.p2p": ("p2p", False),
        "google_compute_firewall.from_lb": ("lb", False),
        "google_compute_firewall.monitoring": ("metrics", True),
        "google_compute_firewall.ssh": ("ssh", True),
    },
    "gcp-single-node": {
        "google_compute_firewall.p2p": ("p2p", False),
        "google_compute_firewall.web": ("web", True),
        "google_compute_firewall.agent": ("agent", True),
        "google_compute_firewall.metrics": ("metrics", True),
        "google_compute_firewall.ssh": ("ssh", True),
    },
}


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _expr(text: object) -> str:
    return str(text).removeprefix("${").removesuffix("}")


@cache
def _load(module: Path) -> dict[str, list]:
    hcl2 = need_module("hcl2")
    merged: dict[str, list] = {}
    for tf in sorted(module.glob("*.tf")):
        with tf.open() as handle:
            for kind, blocks in hcl2.load(handle).items():
                merged.setdefault(kind, []).extend(blocks)
    return merged


def _resources(module: Path) -> dict[str, dict]:
    """`type.name` -> body of every managed resource of a module."""
    found: dict[str, dict] = {}
    for block in _load(module).get("resource", []):
        for kind, named in block.items():
            for name, body in named.items():
                found[f"{_unquote(kind)}.{_unquote(name)}"] = body
    return found


def _calls(module: Path) -> dict[str, dict]:
    return {
        _unquote(name): body
        for block in _load(module).get("module", [])
        for name, body in block.items()
    }


def _moves(module: Path) -> list[tuple[str, str]]:
    return [(_expr(b["from"]), _expr(b["to"])) for b in _load(module).get("moved", [])]


def _target(module: Path, to: str) -> tuple[Path, str, str | None]:
    """`module.X.type.name[key]` -> (the called module's directory, `type.name`, key)."""
    match = re.fullmatch(r"module\.(\w+)\.(\w+\.\w+)(?:\[(.+)\])?", to)
    assert match, f"{module.name}: moved to {to!r}, not a resource of a called module"
    call = _calls(module)[match[1]]
    return (module / _unquote(call["source"])).resolve(), match[2], match[3]


def _into_modules(module: Path) -> list[tuple[str, str]]:
    """The moves into a called module (a shared module taking over resources)."""
    return [(f, t) for f, t in _moves(module) if t.startswith("module.")]


MOVING = sorted(p.name for p in MODULES.iterdir() if (p / "main.tf").is_file() and _into_modules(p))


def test_the_modules_that_moved_resources_are_found() -> None:
    assert {"gcp-mig", "gcp-single-node", "aws-single-node", "aws-asg"} <= set(MOVING)


@pytest.mark.parametrize("name", MOVING)
def test_moved_from_is_gone_and_to_exists(name: str) -> None:
    module = MODULES / name
    declared = _resources(module)
    for source, to in _into_modules(module):
        assert source not in declared, f"{name}: {source} is still declared: nothing moves"
        directory, address, key = _target(module, to)
        targets = _resources(directory)
        assert address in targets, f"{name}: {to} does not exist in {directory.name}"
        counted = "count" in targets[address] or "for_each" in targets[address]
        if key is not None:
            assert counted, f"{name}: {to} indexes a resource without count"


@pytest.mark.parametrize("name", sorted(GCP_FIREWALL_BEFORE))
def test_gcp_firewall_rules_move_into_the_shared_module_under_their_names(name: str) -> None:
    module = MODULES / name
    before = GCP_FIREWALL_BEFORE[name]
    moves = dict(_moves(module))
    assert set(moves) == set(before), f"{name}: moved blocks are not exactly the former rules"
    assert not [a for a in _resources(module) if a.startswith("google_compute_firewall.")]
    call = _calls(module)["firewall"]
    assert _unquote(call["source"]) == "../gcp-node-firewall"
    assert _expr(call["target_tag"]) == "local.tag", "the rules' names start with the same tag"
    for source, (suffix, counted) in before.items():
        directory, address, key = _target(module, moves[source])
        assert directory.name == "gcp-node-firewall"
        target = _resources(directory)[address]
        # counted before and after: the whole resource moves; counted only now: instance [0]
        assert (key == "0") == ("count" in target and not counted), (name, source)
        assert ("count" in target) or not counted, (name, source)
        assert _unquote(target["name"]) == "${var.target_tag}-" + suffix, (name, source)
