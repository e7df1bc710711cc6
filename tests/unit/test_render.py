"""Rendering: golden files for both examples, determinism, no secret values, safe replacement.

Refresh the goldens after an intended change with `make goldens` (ICONCTL_UPDATE_GOLDENS=1),
then review the diff of tests/golden/ like any other change.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from iconctl.errors import InputError
from iconctl.render import MARKER, render, render_files
from iconctl.spec import load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "specs"
GOLDEN = ROOT / "tests" / "golden"
EXAMPLES = ["multi-region", "single-node"]


@pytest.mark.parametrize("example", EXAMPLES)
def test_render_matches_golden(example: str) -> None:
    files = render_files(load_spec(FIXTURES / f"{example}.yaml"))
    golden = GOLDEN / example
    if os.environ.get("ICONCTL_UPDATE_GOLDENS") == "1":
        shutil.rmtree(golden, ignore_errors=True)
        for rel, content in files.items():
            (golden / rel).parent.mkdir(parents=True, exist_ok=True)
            (golden / rel).write_text(content)
    on_disk = {
        str(p.relative_to(golden)): p.read_text() for p in sorted(golden.rglob("*")) if p.is_file()
    }
    assert sorted(on_disk) == sorted(files), "rendered file set changed; run `make goldens`"
    for rel, content in files.items():
        assert content == on_disk[rel], f"{rel} differs from its golden; run `make goldens`"


@pytest.mark.parametrize("example", EXAMPLES)
def test_render_is_deterministic(example: str, tmp_path: Path) -> None:
    spec = load_spec(FIXTURES / f"{example}.yaml")
    first = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in render(spec, tmp_path / "a")}
    second = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in render(spec, tmp_path / "b")}
    assert first == second and first


def test_multi_region_layout() -> None:
    files = render_files(load_spec(FIXTURES / "multi-region.yaml"))
    for region, cloud in [
        ("us-east-1", "aws"),
        ("eu-central-1", "aws"),
        ("asia-northeast1", "gcp"),
    ]:
        assert f"{region}/terraform/terraform.tfvars.json" in files
        assert f"{region}/terraform/backend.hcl" in files
        assert f"{region}/packer/{cloud}.pkrvars.hcl" in files
        assert f"{region}/ansible/inventory/hosts.yml" in files
        assert f"{region}/ansible/env/extravars" in files
        assert f"{region}/compose/.env" in files
    geo = json.loads(files["global/terraform/terraform.tfvars.json"])
    assert {r["name"]: r["continent"] for r in geo["regions"]} == {
        "us-east-1": "NA",
        "eu-central-1": "EU",
        "asia-northeast1": "AS",
    }
    assert geo["expected_body"] == "OK" and geo["monitor_path"] == "/readyz"
    units = [u["unit"] for u in json.loads(files["deployment.json"])["units"]]
    assert units == [
        "state-backend", "us-east-1", "eu-central-1", "asia-northeast1",
        "us-east-1-monitoring", "eu-central-1-monitoring", "asia-northeast1-monitoring",
        "global",
    ]  # fmt: skip
    backend = files["us-east-1/terraform/backend.hcl"]
    assert 'bucket       = "icon-api-tfstate"' in backend and "encrypt      = true" in backend


def test_boot_grace_reaches_the_autoscaled_stacks() -> None:
    files = render_files(load_spec(FIXTURES / "multi-region.yaml"))
    for region in ("us-east-1", "eu-central-1", "asia-northeast1"):
        tfvars = json.loads(files[f"{region}/terraform/terraform.tfvars.json"])
        assert tfvars["boot_grace_seconds"] == 189 * 60  # derived: spec.boot_grace_minutes
    single = render_files(load_spec(FIXTURES / "single-node.yaml"))
    tfvars = json.loads(
        next(v for k, v in single.items() if k.endswith("terraform/terraform.tfvars.json"))
    )
    assert "boot_grace_seconds" not in tfvars  # one node, nothing replaces it


def test_single_node_has_no_geo_or_state_backend() -> None:
    files = render_files(load_spec(FIXTURES / "single-node.yaml"))
    assert "global/terraform/terraform.tfvars.json" not in files
    assert "global/state-backend/terraform.tfvars.json" not in files
    tfvars = json.loads(files["us-east-2/terraform/terraform.tfvars.json"])
    assert tfvars["tls_email"] == "ops@example.org" and tfvars["domain"] == "node.example.org"
    assert "min_size" not in tfvars


def test_render_replaces_stale_files(tmp_path: Path) -> None:
    out = tmp_path / "build"
    render(load_spec(FIXTURES / "multi-region.yaml"), out)
    assert (out / "eu-central-1").is_dir()
    render(load_spec(FIXTURES / "single-node.yaml"), out)
    assert not (out / "eu-central-1").exists()
    assert (out / "us-east-2" / "terraform" / "terraform.tfvars.json").is_file()
    assert (out / MARKER).is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".build.")], "staging left over"


def test_render_refuses_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(InputError, match="did not render"):
        render(load_spec(FIXTURES / "single-node.yaml"), tmp_path)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_hcl_strings_are_escaped() -> None:
    from iconctl.render.common import hcl_value

    assert hcl_value('a"b${c}%{d}') == '"a\\"b$${c}%%{d}"'
    assert hcl_value(["x", 1, True]) == '["x", 1, true]'


def test_alertmanager_without_receivers_still_renders() -> None:
    text = (FIXTURES / "single-node.yaml").read_text()
    files = render_files(parse_spec(text))
    assert "receivers:\n- name: none\n" in files["global/alertmanager/alertmanager.yml"]
