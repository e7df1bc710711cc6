"""The rendered Alertmanager configuration passes amtool and routes alerts as documented."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from iconctl.render import monitoring
from iconctl.spec import load_spec
from tests.helpers import EXAMPLES, need_tool

pytestmark = pytest.mark.timeout(120)


def _amtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["amtool", *map(str, args)], capture_output=True, text=True, timeout=60)


def _amtool_version() -> tuple[int, int]:
    out = _amtool("--version")
    found = re.search(r"version (\d+)\.(\d+)", out.stdout + out.stderr)
    assert found, out
    return int(found.group(1)), int(found.group(2))


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory) -> Path:
    """The rendered global/alertmanager directory, as amtool of this machine can read it.

    The rendered file uses telegram's bot_token_file (Alertmanager >= 0.26). An older amtool
    (Debian 12 ships 0.25) rejects that one key, so for such an amtool this fixture swaps it
    for an inline placeholder token; everything else is checked exactly as rendered.
    """
    need_tool("amtool")
    spec = load_spec(EXAMPLES / "multi-region.yaml")
    out = tmp_path_factory.mktemp("render")
    for rel, content in monitoring.files(spec).items():
        if rel.startswith("global/alertmanager/"):
            path = out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
    config = out / "global" / "alertmanager" / "alertmanager.yml"
    assert "bot_token_file: /run/secrets/telegram_bot_token" in config.read_text()
    if _amtool_version() < (0, 26):
        config.write_text(
            config.read_text().replace(
                "bot_token_file: /run/secrets/telegram_bot_token", "bot_token: placeholder"
            )
        )
    return config.parent


def test_amtool_check_config(config_dir):
    result = _amtool("check-config", config_dir / "alertmanager.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
    assert "FAILED" not in result.stdout


def test_check_config_parses_the_templates(config_dir, tmp_path):
    """amtool check-config loads templates/*.tmpl, so a template error fails it."""
    broken = tmp_path / "am"
    (broken / "templates").mkdir(parents=True)
    (broken / "alertmanager.yml").write_text((config_dir / "alertmanager.yml").read_text())
    for template in (config_dir / "templates").glob("*.tmpl"):
        (broken / "templates" / template.name).write_text(template.read_text())
    (broken / "templates" / "slack.tmpl").write_text('{{ define "iconctl.slack.title" }}{{ .X')
    result = _amtool("check-config", broken / "alertmanager.yml")
    assert result.returncode != 0
    assert "slack.tmpl" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (["alertname=IconRegionNoReadyNode", "severity=critical", "region=us-east-1"], "critical"),
        (["alertname=IconNodeLagging", "severity=warning", "region=eu-central-1"], "slack"),
        (["alertname=Unknown"], "slack"),
    ],
)
def test_routes(config_dir, labels, receivers):
    result = _amtool(
        "config",
        "routes",
        "test",
        "--config.file",
        config_dir / "alertmanager.yml",
        f"--verify.receivers={receivers}",
        *labels,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receivers


def test_a_wrong_route_expectation_fails(config_dir):
    """The route test can fail: a warning never reaches Telegram."""
    result = _amtool(
        "config",
        "routes",
        "test",
        "--config.file",
        config_dir / "alertmanager.yml",
        "--verify.receivers=critical",
        "alertname=IconNodeLagging",
        "severity=warning",
    )
    assert result.returncode != 0


def test_a_broken_config_is_rejected(tmp_path):
    need_tool("amtool")
    bad = tmp_path / "alertmanager.yml"
    bad.write_text("route:\n  receiver: nobody\nreceivers:\n  - name: slack\n")
    assert _amtool("check-config", bad).returncode != 0


ALERT_DATA = {
    "receiver": "critical",
    "status": "firing",
    "externalURL": "http://127.0.0.1:9093",
    "groupLabels": {"alertname": "IconRegionNoReadyNode", "region": "us-east-1"},
    "commonLabels": {
        "alertname": "IconRegionNoReadyNode",
        "region": "us-east-1",
        "severity": "critical",
    },
    "commonAnnotations": {},
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "IconRegionNoReadyNode",
                "region": "us-east-1",
                "severity": "critical",
                "instance": "i-0<script>",
            },
            "annotations": {
                "summary": "Region us-east-1 has no ready node & <b>more</b>",
                "description": "Every node fails readiness.",
            },
            "startsAt": "2026-11-24T06:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "",
            "fingerprint": "1",
        }
    ],
}


def _render(config_dir: Path, tmp_path: Path, name: str) -> str:
    data = tmp_path / "data.json"
    data.write_text(json.dumps(ALERT_DATA))
    result = _amtool(
        "template",
        "render",
        f"--template.glob={config_dir}/templates/*.tmpl",
        f'--template.text={{{{ template "{name}" . }}}}',
        f"--template.data={data}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_telegram_message_escapes_html(config_dir, tmp_path):
    text = _render(config_dir, tmp_path, "iconctl.telegram.message")
    assert "<b>FIRING</b> IconRegionNoReadyNode in us-east-1" in text
    assert "has no ready node &amp; &lt;b&gt;more&lt;/b&gt;" in text
    assert "<code>i-0&lt;script&gt;</code>" in text


def test_slack_messages(config_dir, tmp_path):
    assert _render(config_dir, tmp_path, "iconctl.slack.title").strip() == (
        "[FIRING:1] IconRegionNoReadyNode in us-east-1"
    )
    text = _render(config_dir, tmp_path, "iconctl.slack.text")
    assert "*CRITICAL* Region us-east-1 has no ready node" in text
    assert "`IconRegionNoReadyNode`" in text
    assert _render(config_dir, tmp_path, "iconctl.slack.color").strip() == "danger"


RESOLVED_DATA = {
    **ALERT_DATA,
    "status": "resolved",
    "alerts": [
        {
            **ALERT_DATA["alerts"][0],
            "status": "resolved",
            "labels": {
                "alertname": "IconNodeLagging",
                "region": "us-east-1",
                "severity": "warning",
                "instance": "node-1",
            },
            "annotations": {"summary": "Node node-1 in us-east-1 is 55 blocks behind"},
            "endsAt": "2026-11-24T06:07:00Z",
        }
    ],
}


def _render_resolved(config_dir: Path, tmp_path: Path, name: str) -> str:
    data = tmp_path / "resolved.json"
    data.write_text(json.dumps(RESOLVED_DATA))
    result = _amtool(
        "template",
        "render",
        f"--template.glob={config_dir}/templates/*.tmpl",
        f'--template.text={{{{ template "{name}" . }}}}',
        f"--template.data={data}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_a_resolved_message_does_not_read_as_a_current_problem(config_dir, tmp_path):
    """The summary holds the value when the alert last fired ("55 blocks behind"): a resolved
    message quotes it as the past, with when the problem began and ended."""
    slack = _render_resolved(config_dir, tmp_path, "iconctl.slack.text")
    assert "*RESOLVED* was: Node node-1 in us-east-1 is 55 blocks behind" in slack
    assert "from 2026-11-24 06:00 to 06:07 UTC" in slack
    assert "since" not in slack
    telegram = _render_resolved(config_dir, tmp_path, "iconctl.telegram.message")
    assert "• <b>resolved</b> was: Node node-1 in us-east-1 is 55 blocks behind" in telegram
    assert "from 2026-11-24 06:00 to 06:07 UTC" in telegram
    assert "since" not in telegram
