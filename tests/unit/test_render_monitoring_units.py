"""The monitoring hosts in the rendered deployment: one unit per aws/gcp region while
monitoring.prometheus is on (kind, stack, folder, the global region's flag), their tfvars,
inventory and extravars, and nothing at all with prometheus false."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from iconctl.render import render_files
from iconctl.spec import load_spec, parse_spec
from tests.helpers import EXAMPLES


def _multi(**monitoring: object) -> dict[str, str]:
    data = yaml.safe_load((EXAMPLES / "multi-region.yaml").read_text())
    data["monitoring"].update(monitoring)
    return render_files(parse_spec(yaml.safe_dump(data), filename="iconctl.yaml"))


def _units(files: dict[str, str]) -> dict[str, dict]:
    return {u["unit"]: u for u in json.loads(files["deployment.json"])["units"]}


def test_one_monitoring_unit_per_vm_region_after_the_regions() -> None:
    files = render_files(load_spec(EXAMPLES / "multi-region.yaml"))
    units = _units(files)
    order = list(units)
    assert units["asia-northeast1-monitoring"] == {
        "unit": "asia-northeast1-monitoring", "kind": "monitoring", "stack": "gcp-monitoring",
        "dir": "asia-northeast1/monitoring", "region": "asia-northeast1", "cloud": "gcp",
        "global": False,
    }  # fmt: skip
    assert units["us-east-1-monitoring"]["stack"] == "aws-monitoring"
    # The default global region is the first aws/gcp region.
    assert [u for u in units.values() if u.get("global")] == [units["us-east-1-monitoring"]]
    for region in ("us-east-1", "eu-central-1", "asia-northeast1"):
        # After every region (it needs its region's network), before the global layer.
        assert order.index(region) < order.index(f"{region}-monitoring") < order.index("global")
        base = f"{region}/monitoring"
        for path in ("terraform/terraform.tfvars.json", "terraform/backend.hcl",
                     "ansible/inventory/hosts.yml", "ansible/env/extravars"):  # fmt: skip
            assert f"{base}/{path}" in files, path
    backend = files["eu-central-1/monitoring/terraform/backend.hcl"]
    assert 'key          = "iconctl/icon-api/eu-central-1-monitoring.tfstate"' in backend


def test_tfvars_take_the_spec_monitoring_settings() -> None:
    files = _multi(volume_gib=80, machine_types={"aws": "t3.large", "gcp": "e2-standard-2"})
    aws = json.loads(files["us-east-1/monitoring/terraform/terraform.tfvars.json"])
    gcp = json.loads(files["asia-northeast1/monitoring/terraform/terraform.tfvars.json"])
    assert (aws["instance_type"], aws["volume_gib"]) == ("t3.large", 80)
    assert (gcp["instance_type"], gcp["gcp_project"]) == ("e2-standard-2", "my-icon-project")
    assert "gcp_project" not in aws
    assert aws["tags"]["iconctl-region"] == "us-east-1"


def test_global_region_flag_follows_the_spec() -> None:
    files = _multi(global_region="eu-central-1")
    assert [u for u, e in _units(files).items() if e.get("global")] == ["eu-central-1-monitoring"]
    flags = {
        region: yaml.safe_load(files[f"{region}/monitoring/ansible/env/extravars"])
        for region in ("us-east-1", "eu-central-1", "asia-northeast1")
    }
    assert flags == {
        "us-east-1": {"icon_monitoring_global": False},
        "eu-central-1": {"icon_monitoring_global": True},
        "asia-northeast1": {"icon_monitoring_global": False},
    }


def test_monitoring_inventory_has_the_monitoring_group_only() -> None:
    files = render_files(load_spec(EXAMPLES / "multi-region.yaml"))
    inventory = yaml.safe_load(files["asia-northeast1/monitoring/ansible/inventory/hosts.yml"])
    assert inventory["all"]["children"] == {"icon_monitoring": {"hosts": {}}}
    assert inventory["all"]["vars"]["iconctl_region"] == "asia-northeast1"
    assert inventory["all"]["vars"]["iconctl_cloud"] == "gcp"


@pytest.mark.parametrize("example", ["multi-region", "single-node"])
def test_nothing_is_rendered_with_prometheus_false(example: str) -> None:
    data = yaml.safe_load((EXAMPLES / f"{example}.yaml").read_text())
    data.setdefault("monitoring", {})["prometheus"] = False
    files = render_files(parse_spec(yaml.safe_dump(data), filename="iconctl.yaml"))
    assert not [p for p in files if "/monitoring/" in p]
    assert not [u for u in _units(files).values() if u["kind"] == "monitoring"]


def test_k8s_regions_get_no_monitoring_host() -> None:
    from tests.helpers import ROOT

    spec = load_spec(ROOT / "tests" / "fixtures" / "specs" / "kubernetes.yaml")
    files = render_files(spec)
    k8s = [r.name for r in spec.regions if r.flavour == "k8s"]
    assert k8s
    for name in k8s:
        assert f"{name}-monitoring" not in _units(files)
        assert not [p for p in files if p.startswith(f"{name}/monitoring/")]


@pytest.mark.parametrize("prometheus", [True, False])
def test_region_stacks_learn_that_a_monitoring_host_scrapes_them(prometheus: bool) -> None:
    """With a monitoring host the nodes' exporters move to the private address (the region
    stacks' monitoring_host, which every node module receives as metrics_on_private_address)."""
    files = _multi(prometheus=prometheus)
    for region in ("us-east-1", "eu-central-1", "asia-northeast1"):
        tfvars = json.loads(files[f"{region}/terraform/terraform.tfvars.json"])
        assert tfvars["monitoring_host"] is prometheus


@pytest.mark.parametrize("stack", ["aws-single", "aws-asg", "gcp-single", "gcp-asg"])
def test_every_node_module_of_a_region_stack_gets_the_flag(stack: str) -> None:
    from tests.helpers import ROOT

    main = (ROOT / "terraform" / "stacks" / stack / "main.tf").read_text()
    node_modules = len(re.findall(r"(?m)^\s*monitoring_cidrs\s*=\s*var\.monitoring_cidrs$", main))
    assert node_modules >= 1
    assert main.count("metrics_on_private_address = var.monitoring_host") == node_modules
