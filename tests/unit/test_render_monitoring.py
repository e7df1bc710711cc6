"""iconctl.render.monitoring.files: pure, deterministic, complete, and free of secrets."""

from __future__ import annotations

import json

import pytest
import yaml

from iconctl.assets import asset_dir
from iconctl.errors import ExitCode, InputError
from iconctl.render import monitoring
from iconctl.spec import Spec, parse_spec
from tests.helpers import EXAMPLES


def spec_from(name: str = "multi-region.yaml", **changes) -> Spec:
    """An example spec, with ``a__b=value`` changes (None removes the key), validated."""
    data = yaml.safe_load((EXAMPLES / name).read_text())
    for dotted, value in changes.items():
        target = data
        *parents, leaf = dotted.split("__")
        for key in parents:
            target = target.setdefault(key, {})
        if value is None:
            target.pop(leaf, None)
        else:
            target[leaf] = value
    return parse_spec(yaml.safe_dump(data), filename=name)


@pytest.fixture(scope="module")
def rendered():
    return monitoring.files(spec_from())


def test_the_expected_files(rendered):
    expected = {
        "global/prometheus/prometheus.yml",
        "global/prometheus/rules/alerts.yml",
        "global/prometheus/rules/fleet.yml",
        "global/alertmanager/alertmanager.yml",
        "global/alertmanager/secret-files.json",
        "global/alertmanager/templates/common.tmpl",
        "global/alertmanager/templates/slack.tmpl",
        "global/alertmanager/templates/telegram.tmpl",
        "global/grafana/dashboards/overview.json",
        "global/grafana/provisioning/datasources/prometheus.yml",
        "global/grafana/provisioning/dashboards/iconctl.yml",
        "global/kibana/data-views.json",
        "global/elastalert/config.yaml",
        "global/elastalert/secret-env.json",
        "global/elastalert/rules/edge-5xx-burst.yaml",
        "global/elastalert/rules/method-error-spike.yaml",
        "global/elastalert/rules/node-error-spike.yaml",
    }
    # Only the global region (us-east-1) has an address the global Prometheus reaches: the
    # example names no monitoring.federation.
    expected |= {
        "global/prometheus/federation/us-east-1.json",
        "global/grafana/dashboards/region-us-east-1.json",
    }
    for region in ("us-east-1", "eu-central-1", "asia-northeast1"):
        expected |= {
            f"{region}/prometheus/prometheus.yml",
            f"{region}/prometheus/rules/recording.yml",
            f"{region}/monitoring/files/host.json",
            f"{region}/monitoring/files/prometheus/prometheus.yml",
            f"{region}/monitoring/files/prometheus/rules/recording.yml",
        }
    host = "us-east-1/monitoring/files/"
    expected |= {
        host + path
        for path in (
            "global/prometheus/prometheus.yml",
            "global/prometheus/rules/alerts.yml",
            "global/prometheus/rules/fleet.yml",
            "global/prometheus/federation/us-east-1.json",
            "alertmanager/alertmanager.yml",
            "alertmanager/secret-files.json",
            "alertmanager/templates/common.tmpl",
            "alertmanager/templates/slack.tmpl",
            "alertmanager/templates/telegram.tmpl",
            "grafana/dashboards/overview.json",
            "grafana/dashboards/region-us-east-1.json",
            "grafana/provisioning/datasources/prometheus.yml",
            "grafana/provisioning/dashboards/iconctl.yml",
            "elastalert/config.yaml",
            "elastalert/secret-env.json",
            "elastalert/rules/edge-5xx-burst.yaml",
            "elastalert/rules/method-error-spike.yaml",
            "elastalert/rules/node-error-spike.yaml",
        )
    }
    assert set(rendered) == expected


def test_deterministic_and_pure(rendered):
    spec = spec_from()
    before = spec.model_dump()
    assert monitoring.files(spec) == rendered
    assert spec.model_dump() == before


def test_no_secret_values_only_references(rendered, monkeypatch):
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.example/SECRET-SLACK")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:SECRET-TELEGRAM")
    again = monitoring.files(spec_from())
    assert again == rendered  # the environment is never read
    for content in again.values():
        assert "SECRET-" not in content
    secrets = json.loads(rendered["global/alertmanager/secret-files.json"])
    assert secrets == [
        {
            "path": "/run/secrets/slack_webhook_url",
            "ref": "env:SLACK_WEBHOOK_URL",
            "field": "monitoring.alerts.slack_webhook",
            "from_env": "ICON_MONITORING_SLACK_WEBHOOK_URL",
        },
        {
            "path": "/run/secrets/telegram_bot_token",
            "ref": "env:TELEGRAM_BOT_TOKEN",
            "field": "monitoring.alerts.telegram_bot_token",
            "from_env": "ICON_MONITORING_TELEGRAM_BOT_TOKEN",
        },
    ]


def test_alertmanager_routes_critical_to_telegram_and_slack(rendered):
    config = yaml.safe_load(rendered["global/alertmanager/alertmanager.yml"])
    assert config["route"]["receiver"] == "slack"
    assert config["route"]["routes"] == [
        {"receiver": "critical", "matchers": ['severity="critical"']}
    ]
    receivers = {r["name"]: r for r in config["receivers"]}
    assert receivers["slack"]["slack_configs"][0]["api_url_file"] == (
        "/run/secrets/slack_webhook_url"
    )
    telegram = receivers["critical"]["telegram_configs"][0]
    assert telegram["bot_token_file"] == "/run/secrets/telegram_bot_token"
    assert telegram["chat_id"] == -1001234567890
    assert "&id" not in rendered["global/alertmanager/alertmanager.yml"]  # no YAML anchors


def test_slack_only_and_no_receivers():
    slack_only = monitoring.alertmanager(
        spec_from(
            monitoring__alerts__telegram_bot_token=None, monitoring__alerts__telegram_chat_id=None
        )
    )
    assert [r["name"] for r in slack_only["receivers"]] == ["slack"]
    assert slack_only["route"]["routes"] == []
    telegram_only = monitoring.alertmanager(spec_from(monitoring__alerts__slack_webhook=None))
    assert [r["name"] for r in telegram_only["receivers"]] == ["none", "critical"]
    assert "slack_configs" not in telegram_only["receivers"][1]
    nothing = monitoring.alertmanager(spec_from(monitoring__alerts=None))
    assert nothing["receivers"] == [{"name": "none"}]


def test_no_monitoring_renders_nothing():
    assert monitoring.files(spec_from(monitoring__prometheus=False, logging=None)) == {}


def test_single_node_without_receivers_still_gets_monitoring():
    files = monitoring.files(spec_from("single-node.yaml"))
    config = yaml.safe_load(files["global/alertmanager/alertmanager.yml"])
    assert config["receivers"] == [{"name": "none"}]
    assert json.loads(files["global/alertmanager/secret-files.json"]) == []
    assert "us-east-2/prometheus/prometheus.yml" in files


def test_region_health_threshold_follows_geo_min_ready_nodes():
    fleet = monitoring.files(spec_from(geo__min_ready_nodes=2))["global/prometheus/rules/fleet.yml"]
    assert "region:icon_nodes_ready:sum >= bool 2\n" in fleet
    default = monitoring.files(spec_from())["global/prometheus/rules/fleet.yml"]
    assert "region:icon_nodes_ready:sum >= bool 1\n" in default


def test_lag_alert_threshold_follows_health_max_lag_blocks():
    alerts = monitoring.files(spec_from(health__max_lag_blocks=50))[
        "global/prometheus/rules/alerts.yml"
    ]
    assert "expr: icon_node_lag_blocks > 50\n" in alerts
    assert "by more than 50 blocks." in alerts
    assert "> 30" not in alerts.split("IconNodeLagging")[1].split("alert:")[0]


def test_gcp_region_without_project_is_an_input_error():
    spec = spec_from()
    broken = spec.model_copy(update={"gcp": None})  # bypasses the spec's own check
    with pytest.raises(InputError) as caught:
        monitoring.files(broken)
    assert "region asia-northeast1 is on gcp but gcp.project is not set" in str(caught.value)
    assert caught.value.exit_code == ExitCode.INVALID_INPUT


def test_discovery_per_cloud_uses_private_addresses_and_sets_labels(rendered):
    aws = yaml.safe_load(rendered["us-east-1/prometheus/prometheus.yml"])
    gcp = yaml.safe_load(rendered["asia-northeast1/prometheus/prometheus.yml"])
    jobs = {j["job_name"]: j for j in aws["scrape_configs"]}
    assert set(jobs) == {"icon-agent", "goloop", "node", "icon-edge", "prometheus"}
    agent = jobs["icon-agent"]
    sd = agent["ec2_sd_configs"][0]
    assert sd["region"] == "us-east-1" and sd["port"] == 9900
    assert {"name": "tag:iconctl-name", "values": ["icon-api"]} in sd["filters"]
    assert {"name": "tag:iconctl-role", "values": ["node", "source"]} in sd["filters"]
    assert agent["relabel_configs"][0] == {
        "source_labels": ["__meta_ec2_tag_iconctl_role"],
        "regex": "node|source",
        "action": "keep",
    }
    relabel = {r.get("target_label"): r for r in agent["relabel_configs"]}
    assert relabel["role"]["source_labels"] == ["__meta_ec2_tag_iconctl_role"]
    assert relabel["__address__"]["source_labels"] == ["__meta_ec2_private_ip"]
    assert relabel["__address__"]["replacement"] == "${1}:9900"
    assert relabel["instance"]["source_labels"] == ["__meta_ec2_instance_id"]
    assert relabel["region"]["replacement"] == "us-east-1"
    assert relabel["cloud"]["replacement"] == "aws"
    assert relabel["flavour"]["replacement"] == "asg"
    # goloop's metrics come through the agent, never from the admin API's port
    assert jobs["goloop"]["ec2_sd_configs"][0]["port"] == 9900
    assert jobs["goloop"]["metrics_path"] == "/node/metrics"

    gjobs = {j["job_name"]: j for j in gcp["scrape_configs"]}
    zones = [c["zone"] for c in gjobs["icon-agent"]["gce_sd_configs"]]
    assert zones == ["asia-northeast1-a", "asia-northeast1-b", "asia-northeast1-c"]
    assert gjobs["icon-agent"]["gce_sd_configs"][0]["filter"] == (
        '(labels.iconctl-name = "icon-api") AND (status = "RUNNING")'
    )
    grelabel = {r.get("target_label"): r for r in gjobs["icon-agent"]["relabel_configs"]}
    assert grelabel["__address__"]["source_labels"] == ["__meta_gce_private_ip"]
    assert grelabel["role"]["source_labels"] == ["__meta_gce_label_iconctl_role"]
    assert "public" not in rendered["asia-northeast1/prometheus/prometheus.yml"]
    assert "public" not in rendered["us-east-1/prometheus/prometheus.yml"]


def test_kubernetes_flavour_uses_pod_discovery():
    spec = spec_from()
    region = spec.regions[0].model_copy(update={"flavour": "k8s"})  # not in the spec yet
    config = monitoring.regional_prometheus(spec, region)
    agent = config["scrape_configs"][0]
    assert agent["kubernetes_sd_configs"][0]["role"] == "pod"
    relabel = {r.get("target_label"): r for r in agent["relabel_configs"]}
    assert relabel["__address__"]["source_labels"] == ["__meta_kubernetes_pod_ip"]
    assert relabel["flavour"]["replacement"] == "k8s"


def test_global_prometheus_federates_every_region(rendered):
    config = yaml.safe_load(rendered["global/prometheus/prometheus.yml"])
    federate = config["scrape_configs"][0]
    assert federate["job_name"] == "federate" and federate["honor_labels"] is True
    assert federate["params"]["match[]"] == list(monitoring.FEDERATE_MATCH)
    us = json.loads(rendered["global/prometheus/federation/us-east-1.json"])
    assert us[0]["labels"] == {"region": "us-east-1", "cloud": "aws", "flavour": "asg"}
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [
        "127.0.0.1:9093"
    ]


def test_region_dashboards_open_on_their_region():
    spec = spec_from(monitoring__federation={"eu-central-1": "http://10.20.0.5:9090"})
    rendered = monitoring.files(spec)
    board = json.loads(rendered["global/grafana/dashboards/region-eu-central-1.json"])
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["region"]["current"]["value"] == "eu-central-1"
    assert variables["datasource"]["current"]["value"] == "prometheus-eu-central-1"
    assert board["uid"] == "iconctl-region-eu-central-1"
    sources = yaml.safe_load(rendered["global/grafana/provisioning/datasources/prometheus.yml"])
    assert "prometheus-eu-central-1" in {d["uid"] for d in sources["datasources"]}


def test_rules_are_copied_unchanged(rendered):
    source = asset_dir("monitoring") / "prometheus" / "rules"
    assert rendered["global/prometheus/rules/alerts.yml"] == (source / "alerts.yml").read_text()
    assert (
        rendered["us-east-1/prometheus/rules/recording.yml"]
        == (source / "recording.yml").read_text()
    )


def test_kibana_views_and_no_invented_elasticsearch_names(rendered):
    assert not [path for path in rendered if "elasticsearch" in path]
    views = json.loads(rendered["global/kibana/data-views.json"])
    assert [v["data_view"]["title"] for v in views] == [
        "icon-edge-*,*:icon-edge-*",
        "icon-node-*,*:icon-node-*",
    ]


def test_no_logging_no_elasticsearch_files():
    files = monitoring.files(spec_from("single-node.yaml"))
    assert not [f for f in files if "elasticsearch" in f or "kibana" in f]
    only_logs = monitoring.files(spec_from(monitoring__prometheus=False))
    assert sorted(only_logs) == ["global/kibana/data-views.json"]


FAST = monitoring.Timing(
    regional_scrape="1s",
    global_scrape="2s",
    evaluation="3s",
    federate_timeout="1500ms",
    discovery_refresh="4s",
    group_wait="5s",
    group_interval="6s",
    repeat_interval="7m",
    alert_for="8s",
)


def test_production_timing_is_the_default(rendered):
    assert monitoring.files(spec_from(), timing=monitoring.PRODUCTION) == rendered
    am = yaml.safe_load(rendered["global/alertmanager/alertmanager.yml"])["route"]
    assert (am["group_wait"], am["group_interval"], am["repeat_interval"]) == ("30s", "5m", "4h")
    alerts = rendered["global/prometheus/rules/alerts.yml"]
    assert "        for: 5m\n" in alerts and "        for: 2m\n" in alerts


def test_a_shorter_timing_reaches_every_interval():
    """What the alert-delivery test relies on: no interval of the render stays long."""
    files = monitoring.files(spec_from(), timing=FAST)
    global_config = yaml.safe_load(files["global/prometheus/prometheus.yml"])
    assert global_config["global"]["scrape_interval"] == "2s"
    assert global_config["global"]["evaluation_interval"] == "3s"
    federate = global_config["scrape_configs"][0]
    assert (federate["scrape_interval"], federate["scrape_timeout"]) == ("2s", "1500ms")
    regional = yaml.safe_load(files["us-east-1/prometheus/prometheus.yml"])
    assert regional["global"]["scrape_interval"] == "1s"
    region = next(r for r in spec_from().regions if r.name == "us-east-1")
    by_file = monitoring.regional_prometheus(spec_from(), region, discovery="file", timing=FAST)
    assert by_file["scrape_configs"][0]["file_sd_configs"][0]["refresh_interval"] == "4s"
    route = yaml.safe_load(files["global/alertmanager/alertmanager.yml"])["route"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == (
        "5s",
        "6s",
        "7m",
    )
    for name in (
        "global/prometheus/rules/alerts.yml",
        "global/prometheus/rules/fleet.yml",
        "us-east-1/prometheus/rules/recording.yml",
    ):
        rules = yaml.safe_load(files[name])
        for group in rules["groups"]:
            assert group.get("interval", "3s") == "3s", (name, group["name"])
            for rule in group["rules"]:
                assert rule.get("for", "8s") == "8s", (name, rule.get("alert"))
    # the thresholds from the spec still apply
    assert "expr: icon_node_lag_blocks > 30\n" in files["global/prometheus/rules/alerts.yml"]


def test_file_targets_carry_role_and_instance():
    assert monitoring.file_targets("node", {"b": "127.0.0.1:2", "a": "127.0.0.1:1"}) == [
        {
            "targets": ["127.0.0.1:1"],
            "labels": {"__meta_iconctl_instance": "a", "__meta_iconctl_role": "node"},
        },
        {
            "targets": ["127.0.0.1:2"],
            "labels": {"__meta_iconctl_instance": "b", "__meta_iconctl_role": "node"},
        },
    ]
    with pytest.raises(InputError, match="unknown role 'edge'"):
        monitoring.file_targets("edge", {})
