"""Alerts delivered for real: Prometheus and Alertmanager (Debian's binaries) over a running
fleet of `iconctl sim` and `iconctl agent` on loopback, with the rendered rules, routes and
templates; a lagging node reaches a local Slack/Telegram stand-in, firing then resolved.

The flow itself lives in e2e/alerts.py, which `make e2e` runs as a stage too.
"""

from __future__ import annotations

import json

import pytest

from e2e import alerts
from tests.helpers import need_tool

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def outcome(tmp_path_factory) -> alerts.Outcome:
    need_tool("prometheus")
    if alerts.binaries()["alertmanager"] is None:
        need_tool("prometheus-alertmanager")
    work = tmp_path_factory.mktemp("alerts")
    try:
        return alerts.deliver(work)
    except alerts.AlertFlowError as exc:
        logs = {p.name: p.read_text(errors="replace")[-1500:] for p in (work / "logs").glob("*")}
        pytest.fail(f"{exc}\n{json.dumps(logs, indent=1)}")


def test_the_on_call_reads_firing_and_resolved_on_slack_and_telegram(outcome):
    assert alerts.problems(outcome) == []


def test_slack_gets_the_lag_warning_firing_then_resolved(outcome):
    titles = [m.title for m in outcome.slack if "IconNodeLagging" in m.title]
    assert titles[0] == "[FIRING:1] IconNodeLagging in us-east-1"
    assert titles[-1] == "[RESOLVED] IconNodeLagging in us-east-1"
    firing = next(m for m in outcome.slack if m.title.startswith("[FIRING:1] IconNodeLagging"))
    assert alerts.LAG_SUMMARY.search(firing.text), firing.text
    assert firing.payload["attachments"][0]["color"] == "warning"


def test_telegram_gets_only_the_critical_page_firing_then_resolved(outcome):
    lines = [m.title for m in outcome.telegram if "IconRegionNoReadyNode" in m.title]
    assert lines == [
        "🔥 <b>FIRING</b> IconRegionNoReadyNode in us-east-1",
        "✅ <b>RESOLVED</b> IconRegionNoReadyNode in us-east-1",
    ]
    assert not [m for m in outcome.telegram if "IconNodeLagging" in m.text]
    assert {m.payload["chat_id"] for m in outcome.telegram} == {"-1001234567890"}


def test_the_flow_stays_short(outcome):
    assert outcome.seconds["total"] < 120, outcome.seconds


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<b>ok</b> &amp; fine", None),
        ("<b>open", "unclosed tags ['b']"),
        ("<div>x</div>", "unsupported start tag 'div'"),
        ("a & b", "unsupported entity at byte offset 2"),
        ("<b>x</i>", "can't find end tag corresponding to start tag 'i'"),
    ],
)
def test_the_telegram_stand_in_refuses_what_telegram_refuses(text, error):
    errors = alerts.telegram_html_errors(text)
    assert (errors[0] if errors else None) == error
