"""The shipped Prometheus rules pass promtool's checks and their own unit tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT, need_tool

RULES_DIR = ROOT / "monitoring" / "prometheus" / "rules"
TESTS_DIR = ROOT / "monitoring" / "prometheus" / "tests"
RULE_FILES = sorted(RULES_DIR.glob("*.yml"))
TEST_FILES = sorted(TESTS_DIR.glob("*.yml"))

pytestmark = pytest.mark.timeout(120)


def _promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    need_tool("promtool")
    return subprocess.run(["promtool", *map(str, args)], capture_output=True, text=True, timeout=60)


def test_rule_files_exist():
    assert {p.name for p in RULE_FILES} >= {"recording.yml", "alerts.yml", "fleet.yml"}
    assert TEST_FILES


@pytest.mark.parametrize("rule_file", RULE_FILES, ids=lambda p: p.name)
def test_promtool_check_rules(rule_file):
    result = _promtool("check", "rules", rule_file)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_test_rules():
    result = _promtool("test", "rules", *TEST_FILES)
    assert result.returncode == 0, result.stdout + result.stderr


def _alerts() -> dict[str, dict]:
    found = {}
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    found[rule["alert"]] = rule
    return found


def test_every_alert_has_a_unit_test():
    tested = set()
    for path in TEST_FILES:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                if check.get("exp_alerts"):
                    tested.add(check["alertname"])
    assert set(_alerts()) - tested == set()


def test_every_alert_has_severity_summary_and_a_doc_line():
    doc = (ROOT / "docs" / "alerts.md").read_text()
    for name, rule in _alerts().items():
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        assert rule["annotations"]["summary"], name
        assert f"`{name}`" in doc, f"{name} is missing from docs/alerts.md"


def test_a_broken_rule_file_is_rejected(tmp_path):
    """The check above can fail: promtool refuses an expression that does not parse."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: rate(up[5m]\n"
    )
    result = _promtool("check", "rules", bad)
    assert result.returncode != 0
