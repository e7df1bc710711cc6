"""Status page pieces without the network: uptime, hourly bars, incidents, targets, judging."""

from __future__ import annotations

import json

import pytest

from iconctl.errors import InputError
from iconctl.statuspage import history, probe
from iconctl.statuspage.probe import Result, Rules, Target, targets_from
from iconctl.statuspage.site import _percent

NOW = 1_800_000_000.0


def _samples(*statuses: str, step: float = 600.0) -> list[dict]:
    return [
        {"t": NOW - step * (len(statuses) - 1 - i), "s": {"r": s}} for i, s in enumerate(statuses)
    ]


def test_uptime_counts_answers_within_the_window():
    samples = _samples("operational", "down", "degraded", "operational")
    assert history.uptime(samples, "r", NOW, 86_400) == 0.75
    assert history.uptime(samples, "r", NOW, 700) == 1.0  # only the last two
    assert history.uptime(samples, "other", NOW, 86_400) is None


def test_hourly_bars_keep_the_worst_status_of_each_hour():
    samples = _samples("operational", "down", "operational", step=60)
    samples.append({"t": NOW - 3 * 3600 - 10, "s": {"r": "degraded"}})
    bars = history.hourly(samples, "r", NOW, hours=6)
    assert bars == ["none", "none", "degraded", "none", "none", "down"]


def test_samples_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(history, "MAX_SAMPLES", 3)
    path = tmp_path / "history.json"
    for i in range(5):
        history.append_sample(path, NOW + i, [{"name": "r", "status": "operational"}])
    assert [s["t"] for s in json.loads(path.read_text())] == [NOW + 2, NOW + 3, NOW + 4]


def test_alerts_update_one_incident_per_fingerprint(tmp_path):
    path = tmp_path / "incidents.json"
    firing = {"status": "firing", "fingerprint": "f", "labels": {"alertname": "Lag",
              "region": "eu"}, "annotations": {"summary": "x" * 1000}}  # fmt: skip
    assert history.record_alerts(path, {"alerts": [firing]}, now=NOW) == 1
    resolved = {**firing, "status": "resolved", "endsAt": "2027-01-15T08:00:00Z"}
    history.record_alerts(path, {"alerts": [resolved, "junk"]}, now=NOW + 60)
    (incident,) = history.incidents(path, NOW + 120)
    assert incident["status"] == "resolved" and incident["region"] == "eu"
    assert len(incident["title"]) == history.MAX_TEXT
    assert history.incidents(path, NOW + 15 * 86_400) == []  # resolved long ago: hidden


@pytest.mark.parametrize("payload", [[], {"alerts": {}}, {"status": "firing"}, "x"])
def test_payloads_without_an_alert_list_are_refused(tmp_path, payload):
    with pytest.raises(InputError, match="not an Alertmanager webhook payload"):
        history.record_alerts(tmp_path / "i.json", payload)


def test_targets_and_agents_by_name():
    targets, rules = targets_from(
        None, ["a=http://127.0.0.1:1/api/v3", "http://h:9000/api/v3"], ["a=http://127.0.0.1:2/"]
    )
    assert targets == [
        Target("a", "http://127.0.0.1:1/api/v3", "http://127.0.0.1:2"),
        Target("h:9000", "http://h:9000/api/v3"),
    ]
    assert rules == Rules()


def test_judging_lag_age_and_latency(monkeypatch):
    answers = {
        "ok": Result("ok", "u", "operational", "", 20.0, 1000, 1.0),
        "behind": Result("behind", "u", "operational", "", 20.0, 950, 1.0),
        "stale": Result("stale", "u", "operational", "", 20.0, 1000, 300.0),
        "slow": Result("slow", "u", "operational", "", 4000.0, 1000, 1.0),
        "dead": Result("dead", "u", "down", "not answering"),
    }
    monkeypatch.setattr(probe, "_probe_one", lambda target, now: answers[target.name])
    results = probe.probe([Target(n, "u") for n in answers], Rules(30, 60.0), NOW)
    got = {r.name: (r.status, r.reason) for r in results}
    assert got == {
        "ok": ("operational", ""),
        "behind": ("degraded", "50 blocks behind"),
        "stale": ("degraded", "last block 300s old"),
        "slow": ("degraded", "slow (4000 ms)"),
        "dead": ("down", "not answering"),
    }


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "–"), (1.0, "100%"), (0.0, "0%"), (0.99999, "99.99%"), (0.5, "50.00%")],
)
def test_percent(value, text):
    assert _percent(value) == text
