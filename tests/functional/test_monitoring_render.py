"""`iconctl render` as a user runs it: the monitoring files it writes pass their own tools."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.helpers import EXAMPLES, need_tool, run_iconctl

pytestmark = pytest.mark.timeout(180)


def _tool(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    out = tmp_path_factory.mktemp("render") / "build"
    result = run_iconctl(
        "render",
        str(EXAMPLES / "multi-region.yaml"),
        "--out",
        str(out),
        "--json",
        env={
            "SLACK_WEBHOOK_URL": "https://hooks.example/LEAK-1",
            "TELEGRAM_BOT_TOKEN": "999:LEAK-2",
        },
    )
    assert result.returncode == 0, result.stderr
    return out


def test_render_writes_monitoring_for_every_region(build):
    assert (build / "global" / "prometheus" / "prometheus.yml").is_file()
    assert (build / "global" / "alertmanager" / "alertmanager.yml").is_file()
    assert (build / "global" / "grafana" / "dashboards" / "overview.json").is_file()
    for region in ("us-east-1", "eu-central-1", "asia-northeast1"):
        assert (build / region / "prometheus" / "prometheus.yml").is_file()
        assert (build / region / "monitoring" / "files" / "prometheus" / "prometheus.yml").is_file()
    # Grafana on the global host reaches the global region's own Prometheus; the example
    # names no federation URL for the others, so they get no data source and no dashboard.
    dashboards = build / "global" / "grafana" / "dashboards"
    board = json.loads((dashboards / "region-us-east-1.json").read_text())
    assert board["uid"] == "iconctl-region-us-east-1"
    assert sorted(p.name for p in dashboards.glob("region-*.json")) == ["region-us-east-1.json"]


def test_no_secret_value_in_any_rendered_file(build):
    for path in build.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert "LEAK-" not in text, path


def test_rendered_prometheus_configs_pass_promtool(build):
    need_tool("promtool")
    configs = sorted(build.rglob("prometheus/prometheus.yml"))
    # global + one per region, and each region's monitoring host tree (the global region's
    # host also carries the global Prometheus)
    assert len(configs) == 4 + 3 + 1, configs
    for config in configs:
        result = _tool("promtool", "check", "config", str(config))
        assert result.returncode == 0, f"{config}: {result.stdout}{result.stderr}"


def test_rendered_alertmanager_config_passes_amtool(build, tmp_path):
    need_tool("amtool")
    config = build / "global" / "alertmanager" / "alertmanager.yml"
    version = re.search(
        r"version (\d+)\.(\d+)",
        _tool("amtool", "--version").stdout + _tool("amtool", "--version").stderr,
    )
    if version and (int(version.group(1)), int(version.group(2))) < (0, 26):
        # bot_token_file arrived in Alertmanager 0.26; check the rest with an older amtool
        copy = build / "global" / "alertmanager" / "alertmanager.amtool-0.25.yml"
        copy.write_text(
            config.read_text().replace(
                "bot_token_file: /run/secrets/telegram_bot_token", "bot_token: placeholder"
            )
        )
        config = copy
    result = _tool("amtool", "check-config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    routes = _tool(
        "amtool",
        "config",
        "routes",
        "test",
        "--config.file",
        str(config),
        "severity=critical",
        "alertname=IconRegionNoReadyNode",
    )
    assert routes.stdout.strip() == "critical"
