"""Dashboards and rules only query series that exist, and every query parses.

promql-parser (a port of Prometheus' grammar) gives the AST to find every metric name;
Prometheus' own parser (promtool) checks every panel query in
tests/integration/test_dashboards_promtool.py.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from iconctl import dashboards, metric_catalog
from iconctl.render import monitoring as render_monitoring
from tests.helpers import ROOT
from tests.helpers.promql import grafana_to_promql, panel_queries
from tests.helpers.promql import selectors as _selectors

RULES_DIR = ROOT / "monitoring" / "prometheus" / "rules"
DASHBOARD_DIR = ROOT / "monitoring" / "grafana" / "dashboards"

DASHBOARDS = {
    "overview": dashboards.overview_dashboard(),
    "region": dashboards.region_dashboard(),
}
PANEL_QUERIES = panel_queries()


def _rules() -> list[dict]:
    rules = []
    for path in sorted(RULES_DIR.glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            rules.extend(group["rules"])
    return rules


def _recorded() -> set[str]:
    return {rule["record"] for rule in _rules() if "record" in rule}


def _known() -> frozenset[str]:
    return metric_catalog.series_names() | _recorded()


def test_the_committed_json_is_what_the_code_generates():
    for name, dashboard in dashboards.committed().items():
        committed = (DASHBOARD_DIR / name).read_text()
        assert committed == dashboards.to_json(dashboard), (
            f"{name} is stale: run python -m iconctl.dashboards monitoring/grafana/dashboards"
        )


@pytest.mark.parametrize(
    ("dashboard", "title", "expr"), PANEL_QUERIES, ids=[f"{d}:{t}" for d, t, _ in PANEL_QUERIES]
)
def test_every_panel_query_parses_and_uses_known_metrics(dashboard, title, expr):
    selectors = _selectors(grafana_to_promql(expr))
    assert selectors, f"{title}: no series selected"
    unknown = {name for name, _ in selectors if name not in _known()}
    assert not unknown, f"{dashboard} / {title}: unknown metrics {sorted(unknown)}"


def test_region_dashboard_filters_every_selector_by_region():
    for title, expr in dashboards.queries(DASHBOARDS["region"]):
        for name, matchers in _selectors(grafana_to_promql(expr)):
            assert matchers.get("region", ("", ""))[1] == "us-east-1", f"{title}: {name}"


def test_overview_uses_only_series_the_global_prometheus_has():
    """The overview reads the global Prometheus: federated series or its own recordings."""
    patterns = []
    for match in render_monitoring.FEDERATE_MATCH:
        name = re.search(r'__name__(=~|=)"([^"]+)"', match)
        assert name, match
        patterns.append(re.compile(name.group(2)))
    global_only = {"ALERTS", "up"}
    for path in render_monitoring.GLOBAL_RULES:
        for group in yaml.safe_load((RULES_DIR / path).read_text())["groups"]:
            global_only |= {r["record"] for r in group["rules"] if "record" in r}
    for title, expr in dashboards.queries(DASHBOARDS["overview"]):
        for name, _ in _selectors(grafana_to_promql(expr)):
            assert name in global_only or any(p.fullmatch(name) for p in patterns), (
                f"{title}: {name} is neither federated nor recorded on the global Prometheus"
            )


def test_every_rule_uses_known_metrics():
    for rule in _rules():
        for name, _ in _selectors(rule["expr"]):
            assert name in _known(), f"{rule.get('alert') or rule.get('record')}: {name}"


def test_alerts_use_only_series_the_global_prometheus_has():
    alerts = yaml.safe_load((RULES_DIR / "alerts.yml").read_text())
    patterns = [
        re.compile(re.search(r'__name__(=~|=)"([^"]+)"', m).group(2))
        for m in render_monitoring.FEDERATE_MATCH
    ]
    fleet = {
        r["record"]
        for g in yaml.safe_load((RULES_DIR / "fleet.yml").read_text())["groups"]
        for r in g["rules"]
        if "record" in r
    }
    for group in alerts["groups"]:
        for rule in group["rules"]:
            for name, _ in _selectors(rule["expr"]):
                assert name in fleet or any(p.fullmatch(name) for p in patterns), (
                    f"{rule['alert']}: {name} does not reach the global Prometheus"
                )


def test_an_unknown_metric_is_caught():
    """The check above can fail."""
    names = {name for name, _ in _selectors("sum(rate(icon_node_typo_total[5m]))")}
    assert names - _known() == {"icon_node_typo_total"}


def test_panels_are_laid_out_on_the_grid():
    for name, dash in DASHBOARDS.items():
        ids = [p["id"] for p in dash["panels"]]
        assert len(ids) == len(set(ids)), name
        for panel in dash["panels"]:
            pos = panel["gridPos"]
            assert pos["x"] + pos["w"] <= 24, (name, panel["title"])
        json.dumps(dash)  # serialisable


def test_every_panel_is_a_typed_sdk_object():
    """Built with grafana-foundation-sdk: each panel of each row is one of its panel builders,
    each query its Prometheus query builder."""
    from grafana_foundation_sdk.builders import stat, timeseries
    from grafana_foundation_sdk.models.prometheus import Dataquery

    for sections in (dashboards._region_panels(), dashboards._overview_panels()):
        for _row, panels in sections:
            for panel in panels:
                assert isinstance(panel, timeseries.Panel | stat.Panel), panel
                built = panel.build()
                assert built.targets, built.title
                assert all(isinstance(t, Dataquery) for t in built.targets), built.title
    with pytest.raises(ValueError, match="unknown panel kind 'pie'"):
        dashboards.panel("x", [], kind="pie")


def _variables(dashboard: dict) -> dict[str, dict]:
    return {v["name"]: v for v in dashboard["templating"]["list"]}


@pytest.mark.parametrize("name", ["overview", "region"])
def test_every_panel_and_query_reads_the_datasource_variable(name):
    dashboard = DASHBOARDS[name]
    ref = {"type": "prometheus", "uid": "${datasource}"}
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert panels
    for panel in panels:
        assert panel["datasource"] == ref, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == ref, panel["title"]
    variable = _variables(dashboard)["datasource"]
    assert (variable["type"], variable["query"]) == ("datasource", "prometheus")


def test_the_region_dashboard_keeps_its_variables_and_presets_them():
    generic = _variables(dashboards.region_dashboard())
    assert list(generic) == ["datasource", "region"]
    region = generic["region"]
    assert region["type"] == "query"
    assert region["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    assert region["query"]["query"] == "label_values(icon_node_up, region)"
    assert "current" not in region and "current" not in generic["datasource"]
    preset = dashboards.region_dashboard(region="eu-central-1", datasource="prometheus-eu")
    variables = _variables(preset)
    assert variables["region"]["current"] == {"text": "eu-central-1", "value": "eu-central-1"}
    assert variables["datasource"]["current"] == {"text": "prometheus-eu", "value": "prometheus-eu"}
    assert preset["uid"] == "iconctl-region-eu-central-1"
    overview = _variables(DASHBOARDS["overview"])
    assert overview["datasource"]["current"]["value"] == "prometheus-global"
