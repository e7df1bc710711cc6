"""Status page pieces without the network: uptime, hourly bars, incidents, targets, judging."""

from __future__ import annotations

import json
import re

import pytest

from iconctl.errors import InputError
from iconctl.health import Thresholds
from iconctl.spec import load_spec
from iconctl.statuspage import history, probe, site
from iconctl.statuspage.probe import Result, Target, targets_from
from iconctl.statuspage.site import _percent
from tests.helpers import EXAMPLES

NOW = 1_800_000_000.0


def _samples(*statuses: str, step: float = 600.0) -> list[dict]:
    return [
        {"t": NOW - step * (len(statuses) - 1 - i), "s": {"r": s}} for i, s in enumerate(statuses)
    ]


def test_uptime_counts_operational_only_and_degraded_apart():
    samples = _samples("operational", "down", "degraded", "operational")
    assert history.shares(samples, "r", NOW, 86_400) == {
        "operational": 0.5,
        "degraded": 0.25,
        "down": 0.25,
    }
    assert history.shares(samples, "r", NOW, 700) == {
        "operational": 0.5,
        "degraded": 0.5,
        "down": 0.0,
    }  # only the last two
    assert history.shares(samples, "other", NOW, 86_400) is None


def test_the_page_shows_degraded_time_apart_from_uptime(tmp_path):
    target = Target("r", "u")
    for i, status in enumerate(["operational", "degraded", "degraded", "operational"]):
        result = Result("r", "u", status, "", 20.0, 1000, 1.0)
        built = site.build([target], Thresholds(), tmp_path, now=NOW + i * 60, results=[result])
    (region,) = built.regions
    assert (region["uptime_24h"], region["degraded_24h"]) == (0.5, 0.5)
    page = (tmp_path / "index.html").read_text()
    assert re.search(r"<dt>Uptime 24 h · 30 d</dt><dd>50.00% · 50.00%</dd>", page), page
    assert re.search(r'<dd class="degraded-share">degraded 50.00% · 50.00%</dd>', page), page


@pytest.mark.parametrize("fraction", [0.0, 0.0004, 0.4996, 0.9996, 0.99999])
def test_a_sample_taken_just_now_fills_the_newest_hour(tmp_path, fraction):
    # the history keeps milliseconds; a build at x.9996 s must still see its own sample
    result = Result("r", "u", "operational", "", 20.0, 1000, 1.0)
    built = site.build(
        [Target("r", "u")], Thresholds(), tmp_path, now=NOW + fraction, results=[result]
    )
    assert built.regions[0]["hours"][-1] == "operational"


def test_the_page_has_a_legend_for_the_bars(tmp_path):
    site.build([Target("r", "u")], Thresholds(), tmp_path, now=NOW,
               results=[Result("r", "u", "down", "Not responding")])  # fmt: skip
    page = (tmp_path / "index.html").read_text()
    legend = re.search(r'(?s)<div class="key".*?\n</div>', page)
    assert legend, page
    for word in ("Operational", "Degraded", "Down", "No data", "one per hour"):
        assert word in legend.group(0), legend.group(0)
    assert 'title="' in page.split('class="bars"', 1)[1].split("</div>", 1)[0]


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


def test_an_agent_alone_is_a_target():
    targets, _ = targets_from(None, [], ["us-east-1=http://10.0.1.5:9900/", "http://10.0.2.5:9900"])
    assert targets == [
        Target("us-east-1", None, "http://10.0.1.5:9900"),
        Target("10.0.2.5:9900", None, "http://10.0.2.5:9900"),
    ]


def test_targets_and_agents_by_name():
    targets, rules = targets_from(
        None, ["a=http://127.0.0.1:1/api/v3", "http://h:9000/api/v3"], ["a=http://127.0.0.1:2/"]
    )
    assert targets == [
        Target("a", "http://127.0.0.1:1/api/v3", "http://127.0.0.1:2"),
        Target("h:9000", "http://h:9000/api/v3"),
    ]
    assert rules == Thresholds()


def test_judging_lag_age_and_latency_in_a_visitors_words(monkeypatch):
    answers = {
        "ok": Result("ok", "u", "operational", "", 20.0, 1000, 1.0),
        "behind": Result("behind", "u", "operational", "", 20.0, 950, 1.0),
        "stale": Result("stale", "u", "operational", "", 20.0, 1000, 300.0),
        "slow": Result("slow", "u", "operational", "", 4000.0, 1000, 1.0),
        "dead": Result("dead", "u", "down", "Not responding", detail="not answering: refused"),
    }
    monkeypatch.setattr(probe, "_probe_one", lambda target, now, rules: answers[target.name])
    results = probe.probe([Target(n, "u") for n in answers], Thresholds(30, 60.0), NOW)
    got = {r.name: (r.status, r.reason, r.detail) for r in results}
    assert got == {
        "ok": ("operational", "", ""),
        "behind": (
            "degraded",
            "Behind the network by 50 blocks (about 2 minutes)",
            "lag 50 blocks > 30 (node 950, reference 1000)",
        ),
        "stale": (
            "degraded",
            "No new blocks for 5 minutes",
            "last block 300s old > 60s (height 1000)",
        ),
        "slow": ("degraded", "Responding slowly (4.0 s)", "latency 4000 ms > 2000 ms"),
        "dead": ("down", "Not responding", "not answering: refused"),
    }


@pytest.mark.parametrize(
    ("code", "body", "gauges", "reason"),
    [
        (503, "UNHEALTHY lag 50 blocks > 30 (node 960, reference 1010)",
         {"icon_node_lag_blocks": 50.0}, "Behind the network by 50 blocks (about 2 minutes)"),
        (503, "UNHEALTHY last block 95s old > 60s (height 960)",
         {"icon_node_last_block_age_seconds": 95.0}, "No new blocks for 2 minutes"),
        (503, "UNHEALTHY draining", {"icon_agent_draining": 1.0}, "Under planned maintenance"),
        (503, "UNHEALTHY admin state stopped", {}, "Not serving requests"),
        (503, "UNHEALTHY node not answering: timed out", {}, "Not serving requests"),
        (503, "UNHEALTHY recovering: 1/3 good polls (lag 40 blocks > 30)", {}, "Recovering"),
        (503, "UNHEALTHY something new", {}, "Failing its health check"),
        (404, "not found", {}, "Failing its health check"),
    ],
)  # fmt: skip
def test_an_agents_verdict_in_a_visitors_words(code, body, gauges, reason):
    words, detail = probe.agent_words(code, body, gauges, Thresholds(30, 60.0))
    assert words == reason
    assert detail == "agent: " + (body.removeprefix("UNHEALTHY ") if code == 503 else "HTTP 404")


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "–"), (1.0, "100%"), (0.0, "0%"), (0.99999, "99.99%"), (0.5, "50.00%")],
)
def test_percent(value, text):
    assert _percent(value) == text


@pytest.mark.parametrize("honest", [["a"], ["a", "b"], ["a", "b", "c"]])
def test_a_region_answering_an_impossible_height_puts_no_other_region_behind(monkeypatch, honest):
    """The network's height follows the reference rule of the agent and `status`: the lying
    region is not counted, and says so to operators."""
    answers = {n: Result(n, "u", "operational", "", 20.0, 1000, 1.0) for n in honest}
    answers["liar"] = Result("liar", "u", "operational", "", 20.0, 1_000_000_000, 0.5)
    monkeypatch.setattr(probe, "_probe_one", lambda target, now, rules: answers[target.name])
    results = probe.probe([Target(n, "u") for n in answers], Thresholds(30, 60.0), NOW)
    got = {r.name: (r.status, r.lag_blocks) for r in results}
    assert got == {**{n: ("operational", 0) for n in honest}, "liar": ("operational", 0)}
    [liar] = [r for r in results if r.name == "liar"]
    assert liar.detail.startswith("not counted as the network's height: height 1000000000")


def test_a_region_behind_the_others_is_still_behind(monkeypatch):
    answers = {
        "a": Result("a", "u", "operational", "", 20.0, 1000, 1.0),
        "b": Result("b", "u", "operational", "", 20.0, 1002, 1.0),
        "late": Result("late", "u", "operational", "", 20.0, 900, 1.0),
    }
    monkeypatch.setattr(probe, "_probe_one", lambda target, now, rules: answers[target.name])
    results = probe.probe([Target(n, "u") for n in answers], Thresholds(30, 60.0), NOW)
    got = {r.name: (r.status, r.lag_blocks, r.detail) for r in results}
    assert got["late"] == ("degraded", 102, "lag 102 blocks > 30 (node 900, reference 1002)")
    assert got["a"][:2] == ("operational", 2) and got["b"][:2] == ("operational", 0)


def test_lag_is_measured_against_the_references_by_the_reference_rule(monkeypatch):
    """With references (the spec's or --reference), they give the network's height, as for
    `iconctl status`: two honest ones outvote a lying one, and both regions are judged
    against them (even the two of them together could not hide a lag)."""
    answers = {
        "a": Result("a", "u", "operational", "", 20.0, 1000, 1.0),
        "b": Result("b", "u", "operational", "", 20.0, 920, 1.0),
        "https://r1": Result("https://r1", "u", "operational", "", 20.0, 1001, 1.0),
        "https://r2": Result("https://r2", "u", "operational", "", 20.0, 1002, 1.0),
        "https://liar": Result("https://liar", "u", "operational", "", 20.0, 10**9, 0.0),
    }
    monkeypatch.setattr(probe, "_probe_one", lambda target, now, rules: answers[target.name])
    results = probe.probe(
        [Target("a", "u"), Target("b", "u")], Thresholds(30, 60.0), NOW,
        references=["https://r1", "https://r2", "https://liar"],
    )  # fmt: skip
    assert [r.name for r in results] == ["a", "b"], "references are not regions"
    got = {r.name: (r.status, r.lag_blocks) for r in results}
    assert got == {"a": ("operational", 2), "b": ("degraded", 82)}


def test_references_that_do_not_answer_leave_lag_unjudged(monkeypatch):
    answers = {
        "a": Result("a", "u", "operational", "", 20.0, 1000, 1.0),
        "b": Result("b", "u", "operational", "", 20.0, 900, 1.0),
        "https://r1": Result("https://r1", "u", "down", "Not responding"),
    }
    monkeypatch.setattr(probe, "_probe_one", lambda target, now, rules: answers[target.name])
    results = probe.probe(
        [Target("a", "u"), Target("b", "u")], Thresholds(30, 60.0), NOW, references=["https://r1"]
    )
    # as for the agent and `status`: no reference, the nodes' own progress (block age) decides
    assert {r.name: (r.status, r.lag_blocks) for r in results} == {
        "a": ("operational", None),
        "b": ("operational", None),
    }


def test_references_come_from_the_option_else_the_spec():
    spec = load_spec(EXAMPLES / "single-node.yaml")
    assert probe.references_from(spec, []) == list(spec.references)
    assert probe.references_from(spec, ["https://ref.example/api/v3"]) == [
        "https://ref.example/api/v3"
    ]
    assert probe.references_from(None, []) == []
    with pytest.raises(InputError, match="without a name"):
        probe.references_from(None, ["x=https://ref.example/api/v3"])
