"""The rendered ElastAlert rules pass ElastAlert 2's own `elastalert-test-rule`.

ElastAlert lives in its own virtual environment (`make tools`: requirements-tools.txt), so
the test drives its command line. No Elasticsearch runs here: the schema check needs none,
and the alert test feeds `--data` documents, standing for what Elasticsearch returns for the
rule's filter (with --data ElastAlert applies the rule's counting and grouping, not its
query filter).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from iconctl.render import monitoring
from iconctl.spec import load_spec
from tests.helpers import EXAMPLES, need_tool

pytestmark = pytest.mark.timeout(300)
RULES = ("edge-5xx-burst.yaml", "method-error-spike.yaml", "node-error-spike.yaml")


@pytest.fixture(scope="module")
def elastalert(tmp_path_factory) -> Path:
    """The rendered global/elastalert directory; its Elasticsearch is a closed loopback port
    (the test never reaches the spec's host)."""
    need_tool("elastalert-test-rule")
    out = tmp_path_factory.mktemp("render")
    for rel, content in monitoring.files(load_spec(EXAMPLES / "multi-region.yaml")).items():
        if rel.startswith("global/elastalert/"):
            path = out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
    directory = out / "global" / "elastalert"
    config = yaml.safe_load((directory / "config.yaml").read_text())
    assert config["es_host"] == "logs.example.org"
    config.update(es_host="127.0.0.1", es_port=9, use_ssl=False)
    (directory / "config.yaml").write_text(yaml.safe_dump(config))
    assert sorted(p.name for p in (directory / "rules").glob("*.yaml")) == list(RULES)
    return directory


def _test_rule(directory: Path, rule: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ES_PASSWORD": "placeholder"}  # read from the environment, as deployed
    return subprocess.run(
        ["elastalert-test-rule", "--config", str(directory / "config.yaml"), *args, str(rule)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=directory,
    )


@pytest.mark.parametrize("name", RULES)
def test_every_rendered_rule_passes_the_schema(elastalert, name):
    result = _test_rule(elastalert, elastalert / "rules" / name, "--schema-only")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "ValidationError" not in result.stderr


def test_a_rule_without_its_threshold_fails_the_schema(elastalert, tmp_path):
    rule = yaml.safe_load((elastalert / "rules" / "edge-5xx-burst.yaml").read_text())
    del rule["num_events"]
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(rule))
    result = _test_rule(elastalert, broken, "--schema-only")
    assert result.returncode != 0
    assert "ValidationError" in result.stderr


def _burst(region: str, count: int, start: dt.datetime) -> list[dict]:
    return [
        {
            "@timestamp": (start + dt.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": region,
            "status": 503,
            "method": "icx_call",
        }
        for i in range(count)
    ]


def test_the_5xx_burst_rule_alerts_per_region_from_fifty(elastalert, tmp_path):
    start = dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC)
    docs = sorted(
        _burst("us-east-1", 55, start) + _burst("eu-central-1", 40, start),
        key=lambda d: d["@timestamp"],
    )
    data = tmp_path / "edge.json"
    data.write_text(json.dumps(docs))
    result = _test_rule(
        elastalert,
        elastalert / "rules" / "edge-5xx-burst.yaml",
        "--data",
        str(data),
        "--formatted-output",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Alert for icon-edge-5xx-burst, us-east-1" in output
    assert "Alert for icon-edge-5xx-burst, eu-central-1" not in output  # 40 < 50
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["writeback"]["elastalert_status"]["matches"] == 1
