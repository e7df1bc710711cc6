"""The monitoring host: the tree render writes for it and the icon_monitoring role's inputs."""

from __future__ import annotations

import json

import pytest
import yaml

from iconctl.render import monitoring
from tests.helpers import ROOT
from tests.unit.test_render_monitoring import spec_from

ROLE = ROOT / "ansible" / "roles" / "icon_monitoring"
HOST = "us-east-1/monitoring/files/"  # the multi-region example's global region


def _global_config(rendered: dict[str, str], prefix: str = HOST) -> dict:
    return yaml.safe_load(rendered[prefix + "global/prometheus/prometheus.yml"])


def test_every_aws_and_gcp_region_gets_a_host_tree_only_the_global_one_the_global_view():
    rendered = monitoring.files(spec_from())
    for region in ("us-east-1", "eu-central-1", "asia-northeast1"):
        host = json.loads(rendered[f"{region}/monitoring/files/host.json"])
        assert host["global"] is (region == "us-east-1")
        assert host["retention_days"] == 30
        assert host["ports"] == {
            "prometheus": 9090,
            "global_prometheus": 9091,
            "alertmanager": 9093,
            "grafana": 3000,
        }
    regional = [p for p in rendered if p.startswith("eu-central-1/monitoring/")]
    assert not [p for p in regional if "/global/" in p or "alertmanager" in p or "grafana" in p]
    config = _global_config(rendered)
    assert config["scrape_configs"][1]["static_configs"][0]["targets"] == ["127.0.0.1:9091"]
    alerting = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert alerting == ["127.0.0.1:9093"]


def test_no_monitoring_no_host_tree_and_retention_follows_the_spec():
    assert not [
        p for p in monitoring.files(spec_from(monitoring__prometheus=False)) if "/monitoring/" in p
    ]
    rendered = monitoring.files(spec_from(monitoring__retention_days=90))
    assert json.loads(rendered[HOST + "host.json"])["retention_days"] == 90


def test_federation_targets_come_from_the_spec_and_nothing_is_invented():
    spec = spec_from(
        monitoring__federation={
            "eu-central-1": "http://10.20.0.5:9090",
            "asia-northeast1": "https://10.30.0.7",
        }
    )
    rendered = monitoring.files(spec)
    federation = {
        p.rsplit("/", 1)[-1]: json.loads(c)
        for p, c in rendered.items()
        if p.startswith(HOST + "global/prometheus/federation/")
    }
    assert federation == {
        "us-east-1.json": [
            {
                "targets": ["127.0.0.1:9090"],
                "labels": {"region": "us-east-1", "cloud": "aws", "flavour": "asg"},
            }
        ],
        "eu-central-1.json": [
            {
                "targets": ["10.20.0.5:9090"],
                "labels": {"region": "eu-central-1", "cloud": "aws", "flavour": "asg"},
            }
        ],
        "asia-northeast1.json": [
            {
                "targets": ["10.30.0.7:443"],
                "labels": {
                    "region": "asia-northeast1",
                    "cloud": "gcp",
                    "flavour": "asg",
                    "__scheme__": "https",
                },
            }
        ],
    }
    sources = yaml.safe_load(rendered[HOST + "grafana/provisioning/datasources/prometheus.yml"])
    assert {d["uid"]: d["url"] for d in sources["datasources"]} == {
        "prometheus-global": "http://127.0.0.1:9091",
        "prometheus-us-east-1": "http://127.0.0.1:9090",
        "prometheus-eu-central-1": "http://10.20.0.5:9090",
        "prometheus-asia-northeast1": "https://10.30.0.7",
    }
    for content in rendered.values():
        assert ".internal" not in content


def test_regions_without_an_address_are_neither_federated_nor_on_a_dashboard():
    rendered = monitoring.files(spec_from())
    federated = [p for p in rendered if "/federation/" in p]
    assert federated == [
        "global/prometheus/federation/us-east-1.json",
        HOST + "global/prometheus/federation/us-east-1.json",
    ]
    boards = [p for p in rendered if p.startswith(HOST + "grafana/dashboards/")]
    assert boards == [
        HOST + "grafana/dashboards/overview.json",
        HOST + "grafana/dashboards/region-us-east-1.json",
    ]


def test_secrets_are_files_under_the_host_secrets_dir_filled_from_the_controller():
    rendered = monitoring.files(spec_from())
    config = yaml.safe_load(rendered[HOST + "alertmanager/alertmanager.yml"])
    critical = next(r for r in config["receivers"] if r["name"] == "critical")
    assert (
        critical["slack_configs"][0]["api_url_file"]
        == "/etc/icon-monitoring/secrets/slack_webhook_url"
    )
    assert critical["telegram_configs"][0]["bot_token_file"] == (
        "/etc/icon-monitoring/secrets/telegram_bot_token"
    )
    entries = json.loads(rendered[HOST + "alertmanager/secret-files.json"])
    assert [(e["path"], e["from_env"]) for e in entries] == [
        ("/etc/icon-monitoring/secrets/slack_webhook_url", "ICON_MONITORING_SLACK_WEBHOOK_URL"),
        ("/etc/icon-monitoring/secrets/telegram_bot_token", "ICON_MONITORING_TELEGRAM_BOT_TOKEN"),
    ]
    env = json.loads(rendered[HOST + "elastalert/secret-env.json"])
    assert env[0]["env"] == "ES_PASSWORD"
    assert env[0]["from_env"] == "ICON_MONITORING_ELASTICSEARCH_PASSWORD"


def test_file_discovery_and_ports_for_hosts_without_a_cloud_api():
    spec = spec_from()
    region = spec.regions[0]
    ports = monitoring.HostPorts(prometheus=17090, global_prometheus=17091, alertmanager=17093)
    tree = monitoring.host_files(spec, region, discovery="file", ports=ports)
    regional = yaml.safe_load(tree["prometheus/prometheus.yml"])
    assert regional["scrape_configs"][0]["file_sd_configs"][0]["files"] == [
        "targets/icon-agent.json"
    ]
    assert json.loads(tree["global/prometheus/federation/us-east-1.json"])[0]["targets"] == [
        "127.0.0.1:17090"
    ]
    assert json.loads(tree["host.json"])["ports"]["alertmanager"] == 17093


def _role_options() -> dict:
    spec = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())
    return spec["argument_specs"]["main"]["options"]


def test_role_argument_specs_match_its_defaults():
    options = _role_options()
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    required = {name for name, option in options.items() if option.get("required")}
    assert required == {"icon_monitoring_files_dir"}
    assert set(defaults) == set(options) - required
    for name, option in options.items():
        assert name.startswith("icon_monitoring_"), name
        assert option.get("description") and option.get("type"), name
        if name in defaults:
            assert option["default"] == defaults[name], name


@pytest.mark.parametrize(
    "name",
    [
        "icon_monitoring_files_dir",
        "icon_monitoring_global",
        "icon_monitoring_listen_address",
        "icon_monitoring_systemd",
        "icon_monitoring_grafana",
    ],
)
def test_the_contract_variables_are_role_inputs(name):
    assert name in _role_options()


def test_every_task_that_reads_a_secret_from_the_controller_hides_it_and_writes_0440():
    tasks = yaml.safe_load((ROLE / "tasks" / "configure.yml").read_text())
    flat = [t for task in tasks for t in task.get("block", [task])]
    readers = [
        t
        for t in flat
        if "ansible.builtin.copy" in t
        # the Alertmanager configuration reads the Telegram token through a role variable
        and any(s in yaml.safe_dump(t) for s in ("ansible.builtin.env", "alertmanager_config"))
    ]
    names = {t["name"] for t in readers}
    assert {
        "Write Alertmanager's secret files",
        "Install Alertmanager's configuration",  # the token inlined for Alertmanager < 0.26
        "Write ElastAlert's secret environment",
    } <= names
    for task in readers:
        assert task.get("no_log") is True, task["name"]
        assert task["ansible.builtin.copy"]["mode"] == "0440", task["name"]
        assert task["ansible.builtin.copy"]["owner"] == "root", task["name"]
