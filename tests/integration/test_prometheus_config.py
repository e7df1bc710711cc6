"""Every rendered Prometheus configuration (discovery blocks included) passes promtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from iconctl.render import monitoring
from iconctl.spec import load_spec
from tests.helpers import EXAMPLES, need_tool

pytestmark = pytest.mark.timeout(120)


def _render(tmp_path: Path, flavour: str | None = None) -> Path:
    spec = load_spec(EXAMPLES / "multi-region.yaml")
    if flavour:  # k8s is not a spec flavour yet: bypass validation to render its discovery
        regions = (spec.regions[0].model_copy(update={"flavour": flavour}), *spec.regions[1:])
        spec = spec.model_copy(update={"regions": regions})
    for rel, content in monitoring.files(spec).items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return tmp_path


@pytest.mark.parametrize("flavour", [None, "k8s"])
def test_promtool_check_config_on_every_rendered_prometheus(tmp_path, flavour):
    need_tool("promtool")
    out = _render(tmp_path, flavour)
    configs = sorted(out.rglob("prometheus/prometheus.yml"))
    # global + three regions, and the monitoring hosts of the VM regions (the global one twice)
    hosts = {"us-east-1", "eu-central-1", "asia-northeast1"} - ({"us-east-1"} if flavour else set())
    assert len(configs) == 4 + len(hosts) + 1
    for config in configs:
        result = subprocess.run(
            ["promtool", "check", "config", str(config)], capture_output=True, text=True, timeout=60
        )
        if "field kubernetes_sd_configs not found" in result.stdout + result.stderr:
            pytest.skip("this promtool is built without Kubernetes discovery (Debian's build)")
        assert result.returncode == 0, f"{config}: {result.stdout}{result.stderr}"
        assert "is valid prometheus config file syntax" in result.stdout + result.stderr


def test_promtool_rejects_a_broken_discovery_block(tmp_path):
    need_tool("promtool")
    out = _render(tmp_path)
    config = out / "us-east-1" / "prometheus" / "prometheus.yml"
    config.write_text(config.read_text().replace("ec2_sd_configs:", "ec2_sd_config:", 1))
    result = subprocess.run(
        ["promtool", "check", "config", str(config)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
