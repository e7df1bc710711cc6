"""The log pipeline: Vector's parsing programs (VRL) run on real edge log lines and goloop
lines, the metrics the shipper derives from them, the ElastAlert rules and the Kibana export.

Vector itself is not installable here; pyvrl embeds Vector's VRL compiler and runtime, so the
remap programs are compiled (type errors, unhandled fallible calls) and executed for real.
"""

from __future__ import annotations

import datetime
import json

import pytest
import yaml

from tests.helpers import ROOT, need_module
from tests.integration import test_edge as edge_tests
from tests.integration.test_edge import request, rpc

pytestmark = pytest.mark.timeout(120)

LOGGING = ROOT / "logging"
FIXTURES = ROOT / "tests" / "fixtures" / "logging"
# The edge on loopback from test_edge (module-scoped fixtures, a fresh instance here).
upstream = edge_tests.upstream
edge = edge_tests.edge

ALERT_METRICS = {
    "icon_edge_requests_total": {"method", "status"},
    "icon_edge_request_duration_seconds": {"method"},
}


@pytest.fixture(scope="module")
def vector():
    return yaml.safe_load((LOGGING / "vector.yaml").read_text())


def _program(vector, name):
    pyvrl = need_module("pyvrl")
    # A VRL program's value is its last expression: end with `.` to get the event back.
    return pyvrl.Transform(vector["transforms"][name]["source"] + "\n.")


def _run(program, event):
    """The event the transform emits, or None when it drops it (abort or error)."""
    try:
        return program.remap(event)
    except ValueError:
        return None


def test_component_graph(vector):
    components = {**vector["sources"], **vector["transforms"], **vector["sinks"]}
    for name, component in {**vector["transforms"], **vector["sinks"]}.items():
        for upstream_name in component["inputs"]:
            assert upstream_name in components, (name, upstream_name)
    assert vector["sources"]["edge_access"]["include"] == ["/var/log/icon-edge/access.log"]
    exporter = vector["sinks"]["prometheus"]
    assert exporter["type"] == "prometheus_exporter" and exporter["address"].endswith(":9598")
    for sink in ("elasticsearch_edge", "elasticsearch_node"):
        auth = vector["sinks"][sink]["auth"]
        assert auth["password"] == "${ELASTICSEARCH_PASSWORD}"  # a reference, never a value


def test_metric_names_are_the_ones_the_alerts_use(vector):
    metrics = vector["transforms"]["edge_metrics"]["metrics"]
    found = {m["name"]: set(m["tags"]) for m in metrics}
    assert found == ALERT_METRICS
    kinds = {m["name"]: m["type"] for m in metrics}
    assert kinds == {
        "icon_edge_requests_total": "counter",
        "icon_edge_request_duration_seconds": "histogram",
    }


def test_programs_compile(vector):
    remaps = [name for name, t in vector["transforms"].items() if t["type"] == "remap"]
    # The edge's and goloop's parsers at least; each one must compile.
    assert {"edge_parsed", "node_parsed"} <= set(remaps)
    for name in remaps:
        _program(vector, name)


def _metric_labels(vector, event) -> dict[str, dict[str, str]]:
    """What log_to_metric makes of one event: metric name -> label values."""
    labels = {}
    for metric in vector["transforms"]["edge_metrics"]["metrics"]:
        assert metric["field"] in event, (metric["field"], event)
        values = {}
        for tag, template in metric["tags"].items():
            field = template.strip("{} ")
            values[tag] = str(event[field])
        labels[metric["name"]] = values
    return labels


def test_real_edge_log_lines(vector, edge, monkeypatch):
    """Requests through the real nginx edge; its access log parsed by the shipper's program."""
    monkeypatch.setenv("ICON_REGION", "us-east-1")
    request(edge.port, "POST", "/api/v3", rpc("icx_getBalance"), source="127.0.0.9")
    request(
        edge.port,
        "POST",
        "/api/v3/icon_dex",
        [rpc("icx_getLastBlock", 1), rpc("icx_call", 2)],
        source="127.0.0.9",
    )
    request(edge.port, "GET", "/admin/chain", source="127.0.0.9")
    request(edge.port, "POST", "/api/v3", rpc("evil_" + "x" * 80), source="127.0.0.9")
    edge.flush_logs()
    lines = [line for line in edge.access_log.read_text().splitlines() if '"127.0.0.9"' in line]
    assert len(lines) == 4

    program = _program(vector, "edge_parsed")
    events = [_run(program, {"message": line}) for line in lines]
    assert all(events)
    single, batch, blocked, odd = events
    assert single["region"] == "us-east-1" and single["source"] == "edge"
    assert isinstance(single["@timestamp"], datetime.datetime)
    assert single["status"] == 200 and single["method"] == "icx_getBalance"
    assert isinstance(single["request_time"], float)
    assert isinstance(single["upstream_time"], float)
    assert batch["methods"] == ["icx_getLastBlock", "icx_call"] and batch["method"] == "batch"
    assert blocked["status"] == 404 and "upstream_time" not in blocked
    assert blocked["method_label"] == "none"
    assert odd["method"] == "invalid" and odd["method_label"] == "invalid"

    labels = [_metric_labels(vector, e) for e in events]
    assert labels[0]["icon_edge_requests_total"] == {"method": "icx_getBalance", "status": "200"}
    assert labels[1]["icon_edge_requests_total"] == {"method": "batch", "status": "200"}
    assert labels[2]["icon_edge_request_duration_seconds"] == {"method": "none"}


@pytest.mark.parametrize(
    ("method", "label"),
    [
        ("icx_getLastBlock", "icx_getLastBlock"),
        ("debug_getTrace", "debug_getTrace"),
        ("btp_getNetworkInfo", "btp_getNetworkInfo"),
        ("eth_call", "other"),
        ("icx_" + "a" * 60, "other"),
        ("websocket", "websocket"),
    ],
)
def test_metric_method_labels_are_bounded(vector, method, label):
    line = json.dumps(
        {
            "time": "2026-11-24T06:00:00+00:00",
            "client": "1.2.3.4",
            "http_method": "POST",
            "uri": "/api/v3",
            "method": method,
            "methods": method,
            "batch": 0,
            "status": 200,
            "request_time": 0.002,
            "upstream_time": "0.001",
            "upstream_status": "200",
            "bytes_in": 10,
            "bytes_out": 20,
            "user_agent": "t",
            "request_id": "x",
        }
    )
    event = _run(_program(vector, "edge_parsed"), {"message": line})
    assert event["method_label"] == label


def test_websocket_and_retried_upstream_lines(vector):
    program = _program(vector, "edge_parsed")
    ws = json.dumps(
        {
            "time": "2026-11-24T06:00:00+00:00",
            "client": "1.2.3.4",
            "http_method": "GET",
            "uri": "/api/v3/icon_dex/block",
            "method": "",
            "methods": "",
            "batch": 0,
            "status": 101,
            "request_time": 30.5,
            "upstream_time": "30.499",
            "upstream_status": "101",
            "bytes_in": 1,
            "bytes_out": 2,
            "user_agent": "",
            "request_id": "y",
        }
    )
    event = _run(program, {"message": ws})
    assert event["method"] == "websocket" and event["methods"] == []
    retried = ws.replace('"30.499"', '"0.002, 0.003"')
    assert _run(program, {"message": retried})["upstream_time"] == pytest.approx(0.005)


def test_garbage_edge_lines_are_dropped(vector):
    program = _program(vector, "edge_parsed")
    assert _run(program, {"message": "not json"}) is None
    assert _run(program, {"message": '{"time": "yesterday"}'}) is None


def test_goloop_lines(vector, monkeypatch):
    monkeypatch.setenv("ICON_REGION", "eu-central-1")
    program = _program(vector, "node_parsed")
    lines = (FIXTURES / "goloop-docker.log").read_text().splitlines()
    events = [_run(program, {"message": line}) for line in lines]
    commit, error, warn, unparsed, other, no_attrs = events
    assert commit["level"] == "info" and commit["module"] == "CS"
    assert commit["channel"] == "icon_dex" and commit["caller"] == "consensus.go:421"
    assert commit["message"] == "Commit block height=81234567 round=0"
    assert commit["@timestamp"] == datetime.datetime(
        2026, 11, 24, 6, 0, 1, 123456, tzinfo=datetime.UTC
    )
    assert commit["region"] == "eu-central-1" and commit["source"] == "goloop"
    assert error["level"] == "error"
    assert warn["level"] == "warn" and warn["channel"] == "-"
    assert unparsed["level"] == "unknown"
    assert unparsed["message"] == "[INFO] something the entrypoint printed"
    assert other is None and no_attrs is None  # other containers' lines are not shipped


# --- ElastAlert rules -----------------------------------------------------------------------

RULES = sorted((LOGGING / "elastalert" / "rules").glob("*.yaml"))
REQUIRED = {
    "frequency": {"num_events", "timeframe"},
    "spike": {"spike_height", "spike_type", "timeframe"},
}


@pytest.mark.parametrize("path", RULES, ids=lambda p: p.stem)
def test_elastalert_rule(path):
    rule = yaml.safe_load(path.read_text())
    assert rule["name"].startswith("icon-")
    assert rule["type"] in REQUIRED
    assert REQUIRED[rule["type"]] <= set(rule), path
    assert rule["index"] in ("icon-edge-*", "icon-node-*")
    assert rule["timestamp_field"] == "@timestamp"
    assert rule["alert"] == ["alertmanager"] and rule["alertmanager_hosts"]
    # fields the rules group by and filter on are fields the shipper writes
    keys = rule["query_key"] if isinstance(rule["query_key"], list) else [rule["query_key"]]
    edge_fields = {"region", "method", "status", "methods", "client"}
    node_fields = {"region", "level", "module", "channel"}
    fields = edge_fields if rule["index"] == "icon-edge-*" else node_fields
    assert set(keys) <= fields, keys
    text = json.dumps(rule["filter"])
    for field in ("status", "level"):
        if f'"{field}"' in text:
            assert field in fields
    # the summary's placeholders have arguments
    summary = rule["alertmanager_annotations"]["summary"]
    assert summary.count("{") == len(rule["alert_subject_args"])
    assert not any(k in json.dumps(rule).lower() for k in ("password", "webhook", "token"))


def test_elastalert_config_has_no_secret():
    config = yaml.safe_load((LOGGING / "elastalert" / "config.yaml").read_text())
    assert "es_password" not in config
    assert config["rules_folder"]


# --- Kibana saved objects --------------------------------------------------------------------


def test_kibana_export():
    lines = (LOGGING / "kibana" / "icon-edge.ndjson").read_text().splitlines()
    objects = [json.loads(line) for line in lines]
    summary = objects.pop()
    assert summary["exportedCount"] == len(objects) and summary["missingRefCount"] == 0
    ids = {(o["type"], o["id"]) for o in objects}
    for obj in objects:
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in ids, ref
        attrs = obj["attributes"]
        for key in ("visState", "panelsJSON", "optionsJSON"):
            if key in attrs:
                json.loads(attrs[key])
        meta = attrs.get("kibanaSavedObjectMeta", {}).get("searchSourceJSON")
        if meta:
            json.loads(meta)
    dashboards = [o for o in objects if o["type"] == "dashboard"]
    assert dashboards
    panels = json.loads(dashboards[0]["attributes"]["panelsJSON"])
    refs = {r["name"] for r in dashboards[0]["references"]}
    assert {p["panelRefName"] for p in panels} == refs
    # the status x method visualisation aggregates on fields the shipper writes
    heat = next(
        o
        for o in objects
        if o["id"] == "icon-edge-status-by-method" and o["type"] == "visualization"
    )
    fields = {a["params"].get("field") for a in json.loads(heat["attributes"]["visState"])["aggs"]}
    assert {"method.keyword", "status"} <= fields


def test_pyvrl_reports_errors():
    """The check above can fail: a program with an unhandled fallible call does not compile."""
    pyvrl = need_module("pyvrl")
    with pytest.raises(ValueError):
        pyvrl.Transform(". = parse_json(.message)\n.status = to_int(.status)")


def test_cache_metrics_count_only_cached_lines(vector):
    """The edge's cache field feeds icon_edge_cache_*{result}; other lines are left out."""
    pyvrl = need_module("pyvrl")
    condition = pyvrl.Transform(vector["transforms"]["edge_cached"]["condition"])
    program = _program(vector, "edge_parsed")
    base = {
        "time": "2026-12-01T00:00:00+00:00",
        "client": "127.0.0.1",
        "http_method": "POST",
        "uri": "/api/v3",
        "method": "icx_getBlockByHeight",
        "methods": "icx_getBlockByHeight",
        "batch": 0,
        "status": 200,
        "request_time": 0.001,
        "upstream_time": "-",
        "upstream_status": "",
        "bytes_in": 80,
        "bytes_out": 900,
        "user_agent": "t",
        "request_id": "r",
    }
    hit = _run(program, {"message": json.dumps({**base, "cache": "HIT"})})
    plain = _run(program, {"message": json.dumps({**base, "cache": ""})})

    def passes(event):  # the condition on the parsed event (its timestamp aside)
        return condition.remap({k: v for k, v in event.items() if k != "@timestamp"})

    assert passes(hit) is True and passes(plain) is False
    metrics = {m["name"]: m for m in vector["transforms"]["edge_cache_metrics"]["metrics"]}
    assert set(metrics) == {"icon_edge_cache_requests_total", "icon_edge_cache_bytes_total"}
    assert metrics["icon_edge_cache_bytes_total"]["increment_by_value"] is True
    for metric in metrics.values():
        assert metric["field"] in hit and metric["tags"] == {"result": "{{ cache }}"}
    assert "edge_cache_metrics" in vector["sinks"]["prometheus"]["inputs"]
