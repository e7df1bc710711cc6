"""One definition of the log indices (iconctl.log_indices): both shippers write what the
ElastAlert rules and the Kibana views read, and the Kubernetes shipper parses goloop's lines
into the same fields as Vector does."""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import re

import pytest
import yaml

from iconctl import log_indices
from iconctl.errors import IconctlError
from iconctl.render import kubernetes, monitoring
from iconctl.spec import load_spec, parse_spec
from tests.helpers import EXAMPLES, ROOT

LOGGING = ROOT / "logging"
DAY = dt.date(2026, 11, 24)
K8S_SPEC = (EXAMPLES / "multi-region.yaml").read_text().replace("flavour: asg", "flavour: k8s", 1)


def _vector() -> dict:
    return yaml.safe_load((LOGGING / "vector.yaml").read_text())


def _fluent_bit(spec_text: str = K8S_SPEC) -> dict[str, str]:
    spec = parse_spec(spec_text, filename="spec.yaml")
    region = next(r for r in spec.regions if r.flavour == "k8s")
    values = kubernetes.fluent_bit_values(spec, region)
    settings: dict[str, str] = {}
    for section in values["config"].values():
        for line in section.splitlines():
            key, _, value = line.strip().partition(" ")
            if not line.startswith("[") and key not in ("Condition", "Set", "Add", "Rename"):
                settings[key] = value
    return settings


def test_both_shippers_write_the_same_daily_indices():
    sinks = _vector()["sinks"]
    assert sinks["elasticsearch_edge"]["bulk"]["index"] == log_indices.EDGE.daily
    assert sinks["elasticsearch_node"]["bulk"]["index"] == log_indices.NODE.daily
    # fluent-bit's Logstash_Format index: <Logstash_Prefix>-<date in Logstash_DateFormat>
    fluent = _fluent_bit()
    k8s_index = f"{fluent['Logstash_Prefix']}-{DAY.strftime(fluent['Logstash_DateFormat'])}"
    assert k8s_index == DAY.strftime(log_indices.NODE.daily) == "icon-node-2026.11.24"


def test_the_kubernetes_shipper_writes_what_the_readers_read():
    """The regression: fluent-bit wrote <name>-<region>-*, which no rule or view read."""
    fluent = _fluent_bit()
    written = f"{fluent['Logstash_Prefix']}-{DAY.strftime(fluent['Logstash_DateFormat'])}"
    readers = [
        yaml.safe_load(p.read_text())["index"]
        for p in (LOGGING / "elastalert" / "rules").glob("*.yaml")
        if "node" in yaml.safe_load(p.read_text())["index"]
    ]
    assert readers, "no ElastAlert rule reads the node logs"
    assert all(fnmatch.fnmatch(written, pattern) for pattern in readers)
    assert fnmatch.fnmatch(written, log_indices.NODE.pattern)


def test_every_shipped_rule_and_kibana_pattern_is_one_of_the_indices():
    patterns = {index.pattern for index in log_indices.INDICES}
    for path in (LOGGING / "elastalert" / "rules").glob("*.yaml"):
        assert yaml.safe_load(path.read_text())["index"] in patterns, path.name
    titles = set()
    for line in (LOGGING / "kibana" / "icon-edge.ndjson").read_text().splitlines():
        obj = json.loads(line)
        if obj.get("type") == "index-pattern":
            titles.add(obj["attributes"]["title"])
    assert titles == patterns


def test_the_rendered_readers_cover_every_region():
    files = monitoring.files(load_spec(EXAMPLES / "multi-region.yaml"))
    views = json.loads(files["global/kibana/data-views.json"])
    assert [v["data_view"]["title"] for v in views] == [
        "icon-edge-*,*:icon-edge-*",
        "icon-node-*,*:icon-node-*",
    ]
    rules = {
        p: yaml.safe_load(c) for p, c in files.items() if p.startswith("global/elastalert/rules/")
    }
    shipped = sorted(p.name for p in (LOGGING / "elastalert" / "rules").glob("*.yaml"))
    assert sorted(p.rsplit("/", 1)[1] for p in rules) == shipped
    for path, rule in rules.items():
        assert rule["index"] in {i.all_regions for i in log_indices.INDICES}, path
        assert rule["alertmanager_hosts"] == ["http://127.0.0.1:9093"], path


def test_a_rule_on_an_unknown_index_is_refused():
    with pytest.raises(IconctlError, match="index 'logs-\\*' is none of the fleet's log indices"):
        monitoring.elastalert_rule("x.yaml", "name: x\nindex: logs-*\n")
    with pytest.raises(IconctlError, match="has no index"):
        monitoring.elastalert_rule("x.yaml", "name: x\n")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://logs.example.org:9200", {"es_host": "logs.example.org", "es_port": 9200}),
        ("https://es.internal.example/", {"es_host": "es.internal.example", "es_port": 443}),
        (
            "https://es.example.net:9243/elastic",
            {"es_host": "es.example.net", "es_port": 9243, "es_url_prefix": "elastic"},
        ),
    ],
)
def test_elastalert_runs_against_the_spec_elasticsearch(url, expected):
    text = (
        (EXAMPLES / "multi-region.yaml").read_text().replace("https://logs.example.org:9200", url)
    )
    files = monitoring.files(parse_spec(text, filename="spec.yaml"))
    config = yaml.safe_load(files["global/elastalert/config.yaml"])
    assert {k: config.get(k) for k in expected} == expected
    assert "es_url_prefix" in config or "es_url_prefix" not in expected
    assert config["use_ssl"] is True and config["verify_certs"] is True
    assert config["es_username"] == "elastic"
    assert "es_password" not in config
    assert json.loads(files["global/elastalert/secret-env.json"]) == [
        {
            "env": "ES_PASSWORD",
            "ref": "env:ELASTICSEARCH_PASSWORD",
            "field": "logging.elasticsearch_password",
            "from_env": "ICON_MONITORING_ELASTICSEARCH_PASSWORD",
        }
    ]


def _vector_goloop() -> tuple[re.Pattern[str], dict[str, str]]:
    source = _vector()["transforms"]["node_parsed"]["source"]
    regex = re.search(r"parse_regex\(line, r'(.+)'\)", source).group(1)
    levels = json.loads(re.search(r"levels = (\{.+\})", source).group(1))
    return re.compile(regex), levels


def test_fluent_bit_parses_goloop_lines_like_vector():
    vector_regex, vector_levels = _vector_goloop()
    assert vector_levels == log_indices.GOLOOP_LEVELS
    # fluent-bit's Onigmo named groups (?<name>) are Python's (?P<name>)
    fluent_regex = re.compile(kubernetes.GOLOOP_LINE.replace("(?<", "(?P<"))
    lines = [
        json.loads(line)["log"].rstrip("\n")
        for line in (ROOT / "tests" / "fixtures" / "logging" / "goloop-docker.log")
        .read_text()
        .splitlines()
    ]
    parsed = 0
    for line in lines:
        ours, theirs = fluent_regex.match(line), vector_regex.match(line)
        assert (ours is None) == (theirs is None), line
        if ours and theirs:
            parsed += 1
            for field in ("level", "channel", "module", "caller"):
                assert ours.group(field) == theirs.group(field), (field, line)
            assert ours.group("message") == theirs.group("msg")
    assert parsed >= 3
    filters = kubernetes.fluent_bit_values(
        parse_spec(K8S_SPEC, filename="spec.yaml"),
        next(r for r in parse_spec(K8S_SPEC, filename="spec.yaml").regions if r.flavour == "k8s"),
    )["config"]["filters"]
    for letter, word in log_indices.GOLOOP_LEVELS.items():
        assert f"Condition Key_value_equals level {letter}\n    Set level {word}" in filters
    assert "Add region us-east-1" in filters
