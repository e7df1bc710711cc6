"""`iconctl statuspage` against real simulators and an agent on loopback, checked as a visitor
sees it in headless Chromium (phone-sized), plus the Alertmanager webhook receiver."""

from __future__ import annotations

import html
import json
import re
import signal
import struct
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ROOT, free_port, need_tool, run_iconctl
from tests.integration.simagent import Service, http, start_agent, start_sim, wait_for

pytestmark = pytest.mark.timeout(120)
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def fleet():
    """us-east-1: in sync with an agent; eu-central-1: 80 blocks behind; asia: dead."""
    with (
        start_sim("--block-interval", "0.5") as good,
        start_sim("--block-interval", "0.5", "--lag", "80") as lagging,
    ):
        url = good.info["url"]
        with start_agent("--node", url, "--reference", url, "--poll-interval", "0.2",
                         "--rise", "1") as agent:  # fmt: skip
            wait_for(lambda: http("GET", agent.info["url"] + "/readyz")[0] == 200, timeout=15)
            yield [
                "--endpoint", f"us-east-1={url}",
                "--agent", f"us-east-1={agent.info['url']}",
                "--endpoint", f"eu-central-1={lagging.info['url']}",
                "--endpoint", f"asia-northeast1=http://127.0.0.1:{free_port()}/api/v3",
                "--reference", url,
            ]  # fmt: skip


def _chromium(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    need_tool("chromium")
    return subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'chromium'}", *args],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _visible_text(dom: str) -> str:
    body = re.sub(r"(?s)<(style|head)\b.*?</\1>", " ", dom)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def test_build_reports_each_region_and_keeps_history(fleet, tmp_path):
    out = tmp_path / "site"
    first = run_iconctl("statuspage", *fleet, "--out", str(out), "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    regions = {r["name"]: r for r in report["regions"]}
    assert regions["us-east-1"]["status"] == "operational"
    assert regions["us-east-1"]["agent_ready"] is True
    assert regions["us-east-1"]["height"] >= 1000 and regions["us-east-1"]["latency_ms"] > 0
    assert regions["eu-central-1"]["status"] == "degraded"
    assert 70 <= regions["eu-central-1"]["lag_blocks"] <= 90
    assert regions["asia-northeast1"]["status"] == "down"
    assert report["overall"] == "degraded"
    assert [r["hours"][-1] for r in report["regions"]] == ["operational", "degraded", "down"]
    assert regions["eu-central-1"]["degraded_24h"] == 1.0
    assert regions["eu-central-1"]["uptime_24h"] == 0.0  # degraded is not up
    status = json.loads((out / "status.json").read_text())
    assert status["overall"] == "degraded"
    second = run_iconctl("statuspage", *fleet, "--out", str(out), "--json")
    assert second.returncode == 0
    assert len(json.loads((out / "history.json").read_text())) == 2
    regions = {r["name"]: r for r in json.loads(second.stdout)["regions"]}
    assert regions["us-east-1"]["uptime_24h"] == 1.0
    assert regions["asia-northeast1"]["uptime_24h"] == 0.0
    assert regions["asia-northeast1"]["hours"][-1] == "down"


def test_a_phone_visitor_sees_status_incidents_and_escaped_alert_text(fleet, tmp_path):
    out = tmp_path / "site"
    with Service("statuspage", *fleet, "--out", str(out), "--serve", "--listen", "127.0.0.1:0",
                 "--interval", "5") as page:  # fmt: skip
        url = page.info["url"]
        alert = {
            "version": "4", "status": "firing",
            "alerts": [
                {"status": "firing", "fingerprint": "f1", "startsAt": "2026-11-24T06:40:00Z",
                 "labels": {"alertname": "IconNodeLagging", "region": "eu-central-1",
                            "severity": "warning"},
                 "annotations": {"summary": "eu-central-1 lags <b>80 blocks</b>",
                                 "description": "<script>alert(1)</script>"}},
                {"status": "resolved", "fingerprint": "f2", "startsAt": "2026-11-24T05:00:00Z",
                 "endsAt": "2026-11-24T05:20:00Z",
                 "labels": {"alertname": "IconRegionDown", "region": "asia-northeast1"},
                 "annotations": {"summary": "asia-northeast1 unreachable"}},
            ],
        }  # fmt: skip
        assert http("POST", url + "alertmanager", alert) == (200, b"recorded 2 alerts\n")
        dom = _chromium("--dump-dom", url, tmp_path=tmp_path)
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "statuspage-phone.png"
        shot.unlink(missing_ok=True)
        snap = _chromium(f"--screenshot={shot}", "--window-size=390,1400", url, tmp_path=tmp_path)
        assert page.proc.poll() is None
    assert dom.returncode == 0, dom.stderr
    text = _visible_text(dom.stdout)
    assert "Some regions degraded" in text
    for name, status in [("us-east-1", "Operational"), ("eu-central-1", "Degraded"),
                         ("asia-northeast1", "Down")]:  # fmt: skip
        assert re.search(rf"{name} {status}\b", text), (name, text)
    assert re.search(
        r"eu-central-1 Degraded Behind the network by (7\d|8\d|9\d) blocks \(about 3 minutes\)"
        r" Details for operators lag \d+ blocks > 30 ",
        text,
    ), text
    assert re.search(
        r"asia-northeast1 Down Not responding Details for operators not answering", text
    )
    assert "the last 24 hours, one per hour" in text and "No data" in text
    assert "eu-central-1 lags <b>80 blocks</b>" in text  # shown as text ...
    assert "<script>" not in dom.stdout and "<b>80" not in dom.stdout  # ... never as markup
    assert re.search(r"firing · eu-central-1 · warning", text)
    assert re.search(r"resolved · asia-northeast1", text)
    assert snap.returncode == 0 and shot.exists(), snap.stderr
    width, height = struct.unpack(">II", shot.read_bytes()[16:24])  # PNG IHDR
    assert (width, height) == (390, 1400)


def test_the_receiver_refuses_bad_webhooks_and_serves_only_the_site(fleet, tmp_path):
    with Service("statuspage", *fleet[:2], "--out", str(tmp_path / "site"), "--serve",
                 "--listen", "127.0.0.1:0") as page:  # fmt: skip
        url = page.info["url"]
        assert http("POST", url + "alertmanager", b"{not json")[0] == 400
        assert http("POST", url + "alertmanager", {"alerts": "no"})[0] == 400
        assert http("POST", url + "alertmanager", b"x" * 1_000_001)[0] == 413
        assert http("GET", url + "history.json")[0] == 404
        assert http("GET", url + "../../etc/passwd")[0] == 404
        status, body = http("GET", url + "status.json")
        assert status == 200 and json.loads(body)["overall"] == "operational"
        assert page.stop(signal.SIGTERM) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give a SPEC, an --endpoint or an --agent"),
        (["--endpoint", "ftp://x/api/v3"], "not an http(s) URL"),
        (["--agent", "b=file:///etc/passwd"], "not an http(s) URL"),
        (
            ["--endpoint", "http://127.0.0.1:1/api/v3", "--serve", "--listen", "0.0.0.0:0"],
            "loopback only",
        ),
    ],
)
def test_bad_input_exits_3(args, message, tmp_path):
    result = run_iconctl("statuspage", *args, "--out", str(tmp_path / "site"))
    assert result.returncode == 3, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "site" / "index.html").exists()


def test_targets_come_from_the_spec(tmp_path):
    # the spec's regions are probed at their own hostnames; unreachable here, so all down
    spec = ROOT / "tests" / "fixtures" / "specs" / "kubernetes.yaml"
    result = run_iconctl("statuspage", str(spec), "--out", str(tmp_path / "s"), "--json",
                         env={"no_proxy": "*"}, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [r["endpoint"] for r in report["regions"]] == [
        "https://us-east-1.api.example.org/api/v3",
        "https://europe-west1.api.example.org/api/v3",
    ]
    assert report["overall"] == "down"
    assert "api.example.org status" in (tmp_path / "s" / "index.html").read_text()


def test_serve_rebuilds_on_its_timer_and_webhooks_do_not_add_samples(fleet, tmp_path):
    out = tmp_path / "site"
    with Service("statuspage", *fleet[:2], "--out", str(out), "--serve",
                 "--listen", "127.0.0.1:0", "--interval", "5") as page:  # fmt: skip
        samples = lambda: json.loads((out / "history.json").read_text())  # noqa: E731
        assert len(samples()) == 1
        alert = {"alerts": [{"status": "firing", "labels": {"alertname": "X"}}]}
        assert http("POST", page.info["url"] + "alertmanager", alert)[0] == 200
        assert len(samples()) == 1
        assert "firing" in http("GET", page.info["url"])[1].decode()
        wait_for(lambda: len(samples()) == 2, timeout=15, message="a timer rebuild")
        status = json.loads(http("GET", page.info["url"] + "status.json")[1])
        assert status["incidents"][0]["title"] == "X"  # the timer keeps the incidents


def test_an_agent_alone_is_enough_and_its_verdict_reads_in_plain_words(fleet, tmp_path):
    # as the README shows it: `statuspage --agent NAME=URL --out site/`, no endpoint
    good = fleet[1].split("=", 1)[1]
    lagging = fleet[5].split("=", 1)[1]
    fast = ("--poll-interval", "0.2", "--reference-interval", "0.2", "--rise", "1", "--fall", "1")
    with start_agent("--node", lagging, "--reference", good, *fast) as agent:
        wait_for(lambda: http("GET", agent.info["url"] + "/readyz")[0] == 503, timeout=15)
        result = run_iconctl("statuspage", "--agent", fleet[3], "--agent",
                             f"eu-central-1={agent.info['url']}", "--out", str(tmp_path / "site"),
                             "--json")  # fmt: skip
        assert result.returncode == 0, result.stderr
        regions = {r["name"]: r for r in json.loads(result.stdout)["regions"]}
        assert regions["us-east-1"]["status"] == "operational"
        assert regions["us-east-1"]["endpoint"] is None and regions["us-east-1"]["height"] >= 1000
        eu = regions["eu-central-1"]
        assert eu["status"] == "degraded", eu
        assert re.fullmatch(r"Behind the network by (7\d|8\d|9\d) blocks \(about 3 minutes\)",
                            eu["reason"]), eu  # fmt: skip
        assert re.search(r"agent: lag \d+ blocks > 30 \(node \d+, reference \d+\)", eu["detail"])
        page = (tmp_path / "site" / "index.html").read_text()
        assert "UNHEALTHY" not in page
        text = run_iconctl("statuspage", "--agent", f"eu-central-1={agent.info['url']}",
                           "--out", str(tmp_path / "site"))  # fmt: skip
        assert text.returncode == 0, text.stderr
        assert re.search(
            r"eu-central-1: degraded \(Behind the network .*\) agent: lag", text.stdout
        )
