"""Which units and steps a deployment has, and in which order they run.

AWS regions behind the Cloudflare global load balancer get a zone step (the Route 53 zone for
<region>.<domain>, delegated from Cloudflare) before anything else of theirs; a lone region,
a GCP region, or one that names its own zone (regions[].route53_zone) does not.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iconctl.errors import InputError, SpecError
from iconctl.pipeline import KINDS, Pipeline
from iconctl.pipeline.units import (
    GlobalLayer,
    K8sRegion,
    MonitoringHost,
    StateBackend,
    VmRegion,
    unit_from_deployment,
)
from iconctl.render import render_files
from iconctl.spec import load_spec, parse_spec
from tests.helpers import EXAMPLES, ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "specs"


def _pipeline(spec_text: str, tmp_path: Path) -> Pipeline:
    path = tmp_path / "iconctl.yaml"
    path.write_text(spec_text)
    return Pipeline(parse_spec(spec_text, filename=str(path)), path, say=lambda _: None)


def _steps(pipeline: Pipeline) -> dict[str, list[str]]:
    return {unit.name: [step.name for step in unit.steps()] for unit in pipeline.units}


def test_aws_regions_behind_the_global_lb_get_a_zone_step_first(tmp_path: Path) -> None:
    pipeline = _pipeline((EXAMPLES / "multi-region.yaml").read_text(), tmp_path)
    assert _steps(pipeline) == {
        "state-backend": ["infra"],
        "us-east-1": ["zone", "image", "infra", "config"],
        "eu-central-1": ["zone", "image", "infra", "config"],
        "asia-northeast1": ["image", "infra", "config"],
        "us-east-1-monitoring": ["infra", "config"],
        "eu-central-1-monitoring": ["infra", "config"],
        "asia-northeast1-monitoring": ["infra", "config"],
        "global": ["infra"],
    }
    zone = next(u for u in pipeline.units if u.name == "us-east-1")
    assert isinstance(zone, VmRegion) and zone.zone is not None
    assert (zone.zone.name, zone.zone.rendered) == ("aws-region-zone", "us-east-1/zone")
    build = pipeline.ws.build
    tfvars = json.loads((build / "us-east-1" / "zone" / "terraform.tfvars.json").read_text())
    assert (tfvars["domain"], tfvars["zone"]) == ("us-east-1.api.example.org", "example.org")
    backend = (build / "us-east-1" / "zone" / "backend.hcl").read_text()
    assert 'key          = "iconctl/icon-api/us-east-1-zone.tfstate"' in backend


def test_a_lone_region_has_no_zone_step(tmp_path: Path) -> None:
    pipeline = _pipeline((EXAMPLES / "single-node.yaml").read_text(), tmp_path)
    assert _steps(pipeline) == {
        "us-east-2": ["infra", "config"],
        "us-east-2-monitoring": ["infra", "config"],
    }
    assert not (pipeline.ws.build / "us-east-2" / "zone").exists()


def test_a_region_with_its_own_route53_zone_has_no_zone_step(tmp_path: Path) -> None:
    text = (
        (EXAMPLES / "multi-region.yaml")
        .read_text()
        .replace(
            "    instance_type: i4i.xlarge # local NVMe\n",
            "    instance_type: i4i.xlarge # local NVMe\n    route53_zone: api.example.org\n",
        )
    )
    pipeline = _pipeline(text, tmp_path)
    steps = _steps(pipeline)
    assert steps["us-east-1"] == ["image", "infra", "config"]
    assert steps["eu-central-1"] == ["zone", "image", "infra", "config"]
    tfvars = pipeline.ws.build / "us-east-1" / "terraform" / "terraform.tfvars.json"
    assert json.loads(tfvars.read_text())["route53_zone"] == "api.example.org"
    assert not (pipeline.ws.build / "us-east-1" / "zone").exists()


@pytest.mark.parametrize(
    ("replace", "expected"),
    [
        (
            ("    cloud: gcp\n", "    cloud: gcp\n    route53_zone: api.example.org\n"),
            "regions[2].route53_zone: only applies to aws regions of flavour single or asg",
        ),
        (
            (
                "    instance_type: i4i.xlarge # local NVMe\n",
                "    instance_type: i4i.xlarge # local NVMe\n    route53_zone: not a zone\n",
            ),
            "regions[0].route53_zone",
        ),
    ],
    ids=["gcp-region", "not-a-hostname"],
)
def test_route53_zone_is_refused_where_it_cannot_apply(
    replace: tuple[str, str], expected: str
) -> None:
    text = (EXAMPLES / "multi-region.yaml").read_text().replace(*replace)
    with pytest.raises(SpecError) as caught:
        parse_spec(text)
    assert expected in str(caught.value)


def test_the_global_stack_gets_the_regions_records(tmp_path: Path) -> None:
    """The global unit's Terraform variables carry every region's region_record output,
    keyed by the region's hostname; regions that publish their own name add nothing."""
    pipeline = _pipeline((EXAMPLES / "multi-region.yaml").read_text(), tmp_path)
    record = {"type": "A", "value": "203.0.113.7"}
    outputs = {
        "us-east-1/infra": {"hostname": "us-east-1.api.example.org", "region_record": None},
        "asia-northeast1/infra": {"hostname": "asia-northeast1.api.example.org",
                                  "region_record": record},
    }  # fmt: skip
    for key, reported in outputs.items():
        pipeline.ws.record(key, {"fingerprint": "-", "at": "-",
                                 "outputs": {"terraform_outputs": reported}})  # fmt: skip
    glob = next(u for u in pipeline.units if u.name == "global")
    assert glob.runtime_inputs() == {"region_records": {"asia-northeast1.api.example.org": record}}
    region = next(u for u in pipeline.units if u.name == "asia-northeast1")
    assert region.runtime_inputs() == {}


def test_deployment_json_names_the_zone_stack() -> None:
    files = render_files(load_spec(EXAMPLES / "multi-region.yaml"))
    units = {u["unit"]: u for u in json.loads(files["deployment.json"])["units"]}
    assert units["us-east-1"]["zone"] == {"stack": "aws-region-zone", "dir": "us-east-1/zone"}
    assert "zone" not in units["asia-northeast1"] and "zone" not in units["global"]


def test_every_rendered_kind_has_its_class(tmp_path: Path) -> None:
    """deployment.json names each unit's kind; the pipeline builds that kind's class."""
    pipeline = _pipeline((EXAMPLES / "multi-region.yaml").read_text(), tmp_path)
    assert {u.name: type(u) for u in pipeline.units} == {
        "state-backend": StateBackend, "us-east-1": VmRegion, "eu-central-1": VmRegion,
        "asia-northeast1": VmRegion, "us-east-1-monitoring": MonitoringHost,
        "eu-central-1-monitoring": MonitoringHost, "asia-northeast1-monitoring": MonitoringHost,
        "global": GlobalLayer,
    }  # fmt: skip
    (tmp_path / "k8s").mkdir()
    k8s = _pipeline((FIXTURES / "kubernetes.yaml").read_text(), tmp_path / "k8s")
    assert {type(u) for u in k8s.units} == {K8sRegion, GlobalLayer}
    assert set(KINDS) == {"state-backend", "vm-region", "k8s-region", "monitoring", "global"}


def test_an_unknown_kind_is_refused(tmp_path: Path) -> None:
    pipeline = _pipeline((EXAMPLES / "single-node.yaml").read_text(), tmp_path)
    entry = {"unit": "x", "kind": "mystery", "stack": "-", "dir": "x"}
    with pytest.raises(InputError, match="unknown kind 'mystery'"):
        unit_from_deployment(entry, pipeline.ctx)
