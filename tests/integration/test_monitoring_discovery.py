"""A real regional and a real global Prometheus on loopback, over real sims and agents.

The regional Prometheus runs the rendered configuration with file-based discovery standing
in for the cloud API (same jobs, same relabelling, same recording rules); the global one
runs the rendered federation configuration and the shipped alert rules. Queried through
their HTTP APIs, they show every target up with the labels the rules and dashboards use,
every agent metric of the catalogue, the region's aggregate health, and a pending alert for
the lagging node.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from iconctl import metric_catalog, process
from iconctl.render import monitoring
from iconctl.spec import load_spec
from tests.helpers import EXAMPLES, free_port, need_tool

pytestmark = pytest.mark.timeout(180)

REGION = "us-east-1"
# Every interval of the render at 1 s (rule `for:` durations stay: the test reads pending alerts).
FAST = monitoring.Timing(
    regional_scrape="1s",
    global_scrape="1s",
    evaluation="1s",
    federate_timeout="900ms",
    discovery_refresh="1s",
)
# goloop names the simulator always exports (failure counters appear only after a failure).
GOLOOP_CORE = {
    "goloop_consensus_height",
    "goloop_consensus_round",
    "goloop_jsonrpc_call_cnt",
    "goloop_jsonrpc_retrieve_cnt",
    "goloop_network_recv_cnt",
    "goloop_network_send_cnt",
    "goloop_txpool_add_cnt",
}


class Processes:
    """Processes this test starts, each in its own session, stopped by pid at the end."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.procs: list[subprocess.Popen] = []
        self.services: list[process.Service] = []

    def start(self, name: str, argv: list[str], *, ready_line: bool = False) -> dict | None:
        log = self.logs / f"{name}.log"
        if ready_line:
            service = process.Service(name, argv, stderr=log, ready_timeout=30)
            self.services.append(service)
            return service.info
        with log.open("w") as handle:
            self.procs.append(subprocess.Popen(argv, stdout=handle, stderr=handle,
                                               start_new_session=True))  # fmt: skip
        return None

    def stop(self) -> None:
        for service in self.services:
            service.stop()
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def _iconctl(*args: str) -> list[str]:
    return [sys.executable, "-m", "iconctl", *args]


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
        return json.loads(response.read())


def _query(base: str, expr: str) -> list[dict]:
    body = _get(f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    assert body["status"] == "success", body
    return body["data"]["result"]


def _eventually(check, timeout: float = 45.0, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except (AssertionError, OSError) as exc:
            last = exc
        else:
            if result is not None and result is not False:
                return result
        time.sleep(interval)
    raise AssertionError(f"condition not met in {timeout}s: {last}")


def _prometheus(procs: Processes, name: str, directory: Path, config: dict) -> str:
    port = free_port()
    for job in config["scrape_configs"]:  # the rendered self-scrape assumes port 9090
        if job["job_name"] == "prometheus":
            job["static_configs"] = [{"targets": [f"127.0.0.1:{port}"]}]
    (directory / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    procs.start(
        name,
        [
            "prometheus",
            f"--config.file={directory / 'prometheus.yml'}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
    )
    base = f"http://127.0.0.1:{port}"

    def ready():
        with urllib.request.urlopen(f"{base}/-/ready", timeout=2) as response:  # noqa: S310
            return response.status == 200

    _eventually(ready, timeout=30)
    return base


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    need_tool("prometheus")  # sim and agent are iconctl's own: a failure to start fails
    work = tmp_path_factory.mktemp("fleet")
    procs = Processes(work)
    try:
        common = ["--block-interval", "0.5"]
        ref = procs.start(
            "ref",
            _iconctl("sim", "--listen", f"127.0.0.1:{free_port()}", *common, "--json"),
            ready_line=True,
        )
        nodes = {
            "node-a": [],  # in sync with the reference
            "node-b": ["--lag", "200"],  # 200 blocks behind: not ready
        }
        sims, agents = {}, {}
        for name, extra in nodes.items():
            sims[name] = procs.start(
                name,
                _iconctl("sim", "--listen", f"127.0.0.1:{free_port()}", *common, *extra, "--json"),
                ready_line=True,
            )
            agents[name] = procs.start(
                f"agent-{name}",
                _iconctl(
                    "agent",
                    "--node",
                    sims[name]["url"],
                    "--reference",
                    ref["url"],
                    "--listen",
                    f"127.0.0.1:{free_port()}",
                    "--poll-interval",
                    "0.5",
                    "--reference-interval",
                    "0.5",
                    "--rise",
                    "1",
                    "--fall",
                    "1",
                    "--json",
                ),
                ready_line=True,
            )

        spec = load_spec(EXAMPLES / "multi-region.yaml")
        region = next(r for r in spec.regions if r.name == REGION)

        # The regional Prometheus: rendered config, file discovery listing the processes.
        regional_dir = work / "regional"
        (regional_dir / "targets").mkdir(parents=True)
        (regional_dir / "rules").mkdir()
        (regional_dir / "rules" / "recording.yml").write_text(
            monitoring.rules(spec, "recording.yml", FAST)
        )

        def hostport(url: str) -> str:
            return urllib.parse.urlsplit(url).netloc

        agent_addresses = {n: hostport(agents[n]["url"]) for n in nodes}
        targets = {
            "icon-agent": monitoring.file_targets("node", agent_addresses),
            "goloop": monitoring.file_targets("node", agent_addresses),  # the agent relays it
            "node": [],
            "icon-edge": [],
        }
        for job, entries in targets.items():
            (regional_dir / "targets" / f"{job}.json").write_text(json.dumps(entries))
        regional_config = monitoring.regional_prometheus(
            spec, region, discovery="file", timing=FAST
        )
        regional = _prometheus(procs, "prometheus-regional", regional_dir, regional_config)

        # The global Prometheus: rendered federation config and the shipped alert rules.
        global_dir = work / "global"
        (global_dir / "federation").mkdir(parents=True)
        (global_dir / "rules").mkdir()
        for name in monitoring.GLOBAL_RULES:
            (global_dir / "rules" / name).write_text(monitoring.rules(spec, name, FAST))
        federation = monitoring.federation_targets(spec, region)
        federation[0]["targets"] = [regional.removeprefix("http://")]
        (global_dir / "federation" / f"{REGION}.json").write_text(json.dumps(federation))
        global_config = monitoring.global_prometheus(spec, FAST)
        global_config.pop("alerting")  # no Alertmanager here; alerts are read from ALERTS
        global_base = _prometheus(procs, "prometheus-global", global_dir, global_config)

        yield {"regional": regional, "global": global_base, "nodes": list(nodes), "logs": work}
    finally:
        procs.stop()


def test_every_target_is_up_with_the_discovery_labels(fleet):
    def targets_up():
        active = _get(f"{fleet['regional']}/api/v1/targets")["data"]["activeTargets"]
        scraped = [t for t in active if t["labels"]["job"] in ("icon-agent", "goloop")]
        assert len(scraped) == 4, scraped
        assert all(t["health"] == "up" for t in scraped), [
            (t["labels"], t["health"], t["lastError"]) for t in scraped
        ]
        return scraped

    scraped = _eventually(targets_up)
    for target in scraped:
        labels = target["labels"]
        assert labels["region"] == REGION
        assert labels["cloud"] == "aws"
        assert labels["flavour"] == "asg"
        assert labels["role"] == "node"
        assert labels["instance"] in fleet["nodes"]
        assert not any(key.startswith("__") for key in labels)


def test_agent_and_goloop_export_what_the_catalogue_promises(fleet):
    agent_names = set()
    for metric in metric_catalog.METRICS.values():
        if metric.source == metric_catalog.AGENT:
            agent_names.add(metric.name + ("_bucket" if metric.type == "histogram" else ""))
    expected = agent_names | GOLOOP_CORE

    def names():
        rows = _query(fleet["regional"], 'count by (__name__) ({__name__=~"icon_.+|goloop_.+"})')
        found = {row["metric"]["__name__"] for row in rows}
        assert expected <= found, sorted(expected - found)
        return found

    _eventually(names)


def test_series_of_the_agent_and_goloop_join_on_instance(fleet):
    def joined():
        rows = _query(
            fleet["regional"],
            "icon_node_up * on (region, instance) group_left () "
            "max by (region, instance) (goloop_consensus_height) > 0",
        )
        assert {r["metric"]["instance"] for r in rows} == set(fleet["nodes"])
        return True

    _eventually(joined)


def test_readiness_and_region_health_in_the_regional_prometheus(fleet):
    def readiness():
        rows = _query(fleet["regional"], f'icon_node_ready{{region="{REGION}"}}')
        ready = {r["metric"]["instance"]: r["value"][1] for r in rows}
        assert ready == {"node-a": "1", "node-b": "0"}, ready
        return ready

    _eventually(readiness)

    def recorded():
        ready = _query(fleet["regional"], "region:icon_nodes_ready:sum")
        count = _query(fleet["regional"], "region:icon_nodes:count")
        assert [(r["metric"], r["value"][1]) for r in ready] == [
            ({"__name__": "region:icon_nodes_ready:sum", "region": REGION, "cloud": "aws"}, "1")
        ]
        assert count[0]["value"][1] == "2"
        return True

    _eventually(recorded)


def test_the_global_prometheus_federates_and_evaluates_alerts(fleet):
    def federated():
        ratio = _query(fleet["global"], f'region:icon_nodes_ready:ratio{{region="{REGION}"}}')
        assert ratio and ratio[0]["value"][1] == "0.5", ratio
        healthy = _query(fleet["global"], "region:icon_region_healthy:bool")
        assert [(r["metric"]["region"], r["value"][1]) for r in healthy] == [(REGION, "1")]
        up = _query(fleet["global"], 'up{job="federate"}')
        assert [(r["metric"]["region"], r["value"][1]) for r in up] == [(REGION, "1")]
        lag = _query(fleet["global"], 'icon_node_lag_blocks{instance="node-b"}')
        assert lag and float(lag[0]["value"][1]) > 30, lag
        return True

    _eventually(federated)

    def pending():
        rows = _query(fleet["global"], 'ALERTS{alertname=~"IconNodeNotReady|IconNodeLagging"}')
        seen = {(r["metric"]["alertname"], r["metric"]["instance"]) for r in rows}
        assert seen == {("IconNodeNotReady", "node-b"), ("IconNodeLagging", "node-b")}, seen
        for row in rows:
            assert row["metric"]["region"] == REGION and row["metric"]["flavour"] == "asg"
        return True

    _eventually(pending)


def test_region_dashboard_panels_show_data(fleet):
    """Every region-dashboard query over agent and goloop series returns data here."""
    from iconctl import dashboards
    from tests.helpers.promql import selectors

    present = {
        row["metric"]["__name__"]
        for row in _query(
            fleet["regional"], 'count by (__name__) ({__name__=~"icon_.+|goloop_.+"})'
        )
    }
    checked = []
    for title, expr in dashboards.queries(dashboards.region_dashboard()):
        promql = expr.replace("$__rate_interval", "30s").replace("$region", REGION)
        names = {name for name, _ in selectors(promql)}
        if not names <= present:
            continue  # edge, host and sync panels: no log shipper or node_exporter here
        rows = _eventually(lambda q=promql: _query(fleet["regional"], q) or None, timeout=30)
        assert rows, f"{title}: {promql}"
        checked.append(title)
    assert len(checked) >= 15, checked
