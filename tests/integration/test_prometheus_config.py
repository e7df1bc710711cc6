"""Every rendered Prometheus configuration (discovery blocks included) passes promtool."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from conftest import EXAMPLES, need_tool

from iconctl.render import monitoring

pytestmark = pytest.mark.timeout(120)


def _ns(value):
    if isinstance(value, dict):
        return SimpleNamespace(**{k: _ns(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_ns(v) for v in value]
    return value


def _render(tmp_path: Path, flavour: str | None = None) -> Path:
    spec = _ns(yaml.safe_load((EXAMPLES / "multi-region.yaml").read_text()))
    if flavour:
        spec.regions[0].flavour = flavour
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
    assert len(configs) == 4  # global + three regions
    for config in configs:
        result = subprocess.run(["promtool", "check", "config", str(config)],
                                capture_output=True, text=True, timeout=60)
        if "field kubernetes_sd_configs not found" in result.stdout + result.stderr:
            pytest.skip("this promtool is built without Kubernetes discovery (Debian's build)")
        assert result.returncode == 0, f"{config}: {result.stdout}{result.stderr}"
        assert "is valid prometheus config file syntax" in result.stdout + result.stderr


def test_promtool_rejects_a_broken_discovery_block(tmp_path):
    need_tool("promtool")
    out = _render(tmp_path)
    config = out / "regions" / "us-east-1" / "prometheus" / "prometheus.yml"
    config.write_text(config.read_text().replace("ec2_sd_configs:", "ec2_sd_config:", 1))
    result = subprocess.run(["promtool", "check", "config", str(config)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
