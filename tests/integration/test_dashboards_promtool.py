"""Every dashboard panel query passes Prometheus' own parser: each becomes a recording rule
in a generated rule file that `promtool check rules` reads (a broken query fails it)."""

from __future__ import annotations

import subprocess

import yaml

from tests.helpers import need_tool
from tests.helpers.promql import grafana_to_promql, panel_queries


def test_every_panel_query_passes_promtool(tmp_path):
    """Prometheus' own parser: each query becomes a recording rule that promtool checks."""
    need_tool("promtool")
    rules = [
        {"record": f"dashboard:check:{i}", "expr": grafana_to_promql(expr)}
        for i, (_, _, expr) in enumerate(panel_queries())
    ]
    path = tmp_path / "panels.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}))
    result = subprocess.run(
        ["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout

    path.write_text(
        yaml.safe_dump(
            {
                "groups": [
                    {
                        "name": "bad",
                        "rules": [{"record": "dashboard:check:bad", "expr": "sum(rate(up[5m])"}],
                    }
                ]
            }
        )
    )
    bad = subprocess.run(
        ["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode != 0
