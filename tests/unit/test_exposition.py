"""Every exposition iconctl writes carries the metric catalogue's names, types and help texts,
and reads back with prometheus_client's parser."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from iconctl.agent.health import NodeSample
from iconctl.agent.service import Agent, AgentConfig
from iconctl.exposition import Exposition
from iconctl.metric_catalog import METRICS
from iconctl.sim.node import Scenario, SimOptions
from iconctl.sim.server import Simulator
from iconctl.sync.metrics import write_metrics


def _families(text: str) -> dict[str, tuple[str, str]]:
    """(type, help) by metric name as the catalogue spells it (counters with _total)."""
    found = {}
    for family in text_string_to_metric_families(text):
        name = family.name
        if family.type == "counter" and f"{name}_total" in METRICS:
            name = f"{name}_total"
        found[name] = (family.type, family.documentation)
    return found


def _assert_catalogued(text: str) -> set[str]:
    families = _families(text)
    assert families
    for name, (kind, help_text) in families.items():
        assert name in METRICS, f"{name} is not in the metric catalogue"
        assert (kind, help_text) == (METRICS[name].type, METRICS[name].help), name
    return set(families)


def test_the_agents_metrics_come_from_the_catalogue():
    agent = Agent(AgentConfig(node="http://127.0.0.1:9000", references=["https://r.example"]))
    now = time.time()
    agent.sample = NodeSample(answered=True, height=1000, block_time=now - 2, state="started")
    agent.references[0].up, agent.references[0].height = True, 1003
    agent.peers = 3
    agent.evaluate(now)
    names = _assert_catalogued(agent.metrics(now).decode())
    assert {"icon_node_ready", "icon_node_lag_blocks", "icon_agent_poll_duration_seconds"} <= names


def test_the_simulators_goloop_metrics_come_from_the_catalogue():
    async def scrape() -> str:
        sim = Simulator(SimOptions(), Scenario())
        sim.dispatcher.retrieve["icx_getLastBlock"] += 2
        return sim.metrics().decode()

    text = asyncio.run(scrape())
    names = _assert_catalogued(text)
    assert "goloop_jsonrpc_retrieve_cnt" in names
    # goloop's counters keep their _cnt names, HELP and TYPE lines included
    assert "# TYPE goloop_jsonrpc_retrieve_cnt counter" in text
    assert 'goloop_jsonrpc_retrieve_cnt{channel="icon_dex",' in text
    assert "_cnt_total" not in text


def test_the_sync_textfile_comes_from_the_catalogue(tmp_path: Path):
    path = tmp_path / "sync.prom"
    write_metrics(path, "restore", ok=True, duration=1.5, bytes_transferred=7, now=100.0)
    assert _assert_catalogued(path.read_text()) == {
        "icon_sync_last_success_timestamp_seconds",
        "icon_sync_last_failure_timestamp_seconds",
        "icon_sync_last_duration_seconds",
        "icon_sync_last_bytes_transferred",
    }


def test_a_corrupt_textfile_is_replaced_by_the_runs_own_series(tmp_path: Path):
    path = tmp_path / "sync.prom"
    path.write_text('icon_sync_last_duration_seconds{operation="snapshot"} lots\n')
    write_metrics(path, "restore", ok=False, duration=2.0, bytes_transferred=0, now=5.0)
    samples = {
        (s.name, s.labels["operation"]): s.value
        for f in text_string_to_metric_families(path.read_text())
        for s in f.samples
    }
    assert samples == {
        ("icon_sync_last_failure_timestamp_seconds", "restore"): 5.0,
        ("icon_sync_last_duration_seconds", "restore"): 2.0,
        ("icon_sync_last_bytes_transferred", "restore"): 0.0,
    }


def test_an_uncatalogued_name_or_a_wrong_type_is_refused():
    exp = Exposition()
    with pytest.raises(KeyError):
        exp.family("icon_made_up", [([], 1)])
    with pytest.raises(ValueError, match="is a gauge in the metric catalogue"):
        exp.histograms("icon_node_ready", [])
