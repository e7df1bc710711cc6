"""Alerts delivered for real: a lagging node pages Slack and Telegram, then resolves.

A small fleet runs on loopback as separate processes: a reference simulator, one node
simulator with its `iconctl agent` (the only node of region us-east-1 of the bundled
multi-region example). The rendered monitoring stack runs around it from the Debian
packages: the region's Prometheus (file discovery, the mode for machines without a cloud
API), the global Prometheus (federation, the alert rules) and Alertmanager (the rendered
routes, receivers and message templates). Only the external services are doubles: one
loopback server speaks Slack's incoming-webhook API and Telegram's Bot API `sendMessage`
and refuses what those services refuse.

Making the node lag fires IconNodeLagging (a warning: Slack) and, the region having no other
node, IconRegionNoReadyNode (critical: Slack and Telegram); letting it catch up resolves
both. Every interval is shortened through the render's ``Timing`` (the rendered defaults
are production's), so the flow takes about a minute.

``deliver(workdir, log)`` runs the flow and returns what the receivers got; ``problems()``
says what an on-call person would miss in it. `make e2e` runs it as a stage
(``stage_alerts``); tests/integration/test_alert_delivery.py runs it under pytest.
"""

from __future__ import annotations

import contextlib
import html.parser
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from iconctl import process
from iconctl.errors import IconctlError
from iconctl.render import monitoring
from iconctl.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "multi-region.yaml"
REGION = "us-east-1"
NODE = "node-1"
BLOCK_INTERVAL = 0.25  # seconds: a lag of LAG blocks builds up in LAG * 0.25 s
LAG = 120
# Every interval short enough for an alert to fire and resolve within seconds.
FAST = monitoring.Timing(
    regional_scrape="1s",
    global_scrape="1s",
    evaluation="1s",
    federate_timeout="900ms",
    discovery_refresh="1s",
    group_wait="1s",
    group_interval="2s",
    repeat_interval="1h",
    alert_for="3s",
)
# What the fake services accept: a Slack webhook path and a bot token in Telegram's shape.
SLACK_PATH = "/services/T0ICONCTL/B0ALERTS/e2eWebhookSecret"
TELEGRAM_TOKEN = "123456789:e2e-bot-token"  # noqa: S105 - the local receiver's own token
MAX_BODY = 1 << 20
TELEGRAM_MAX_TEXT = 4096
# Telegram's HTML parse mode knows these tags and nothing else.
TELEGRAM_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
    "span", "tg-spoiler", "tg-emoji", "blockquote",
}  # fmt: skip
TELEGRAM_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d{1,7}|#x[0-9a-fA-F]{1,6});")
FIRING_TIMEOUT = 75.0
RESOLVED_TIMEOUT = 45.0


class AlertFlowError(Exception):
    """The flow could not run or an expected message did not arrive."""


# --- the receiver: Slack's incoming webhooks and Telegram's Bot API --------------------------


@dataclass
class Message:
    service: str  # "slack" or "telegram"
    title: str  # the first line an on-call person sees
    text: str  # the whole message as rendered
    payload: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


class _TelegramHTML(html.parser.HTMLParser):
    """Checks text as Telegram's HTML parse mode would: known tags, balanced, valid entities."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            self.errors.append(f"unsupported start tag {tag!r}")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.errors.append(f"can't find end tag corresponding to start tag {tag!r}")


def telegram_html_errors(text: str) -> list[str]:
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    errors = parser.errors
    if parser.open:
        errors.append(f"unclosed tags {parser.open}")
    for match in re.finditer("&", text):
        if not TELEGRAM_ENTITY.match(text, match.start()):
            errors.append(f"unsupported entity at byte offset {match.start()}")
    return errors


class Receiver:
    """A loopback server standing in for Slack and Telegram; records what they would show."""

    def __init__(self, *, chat_id: str) -> None:
        self.chat_id = chat_id
        self.messages: list[Message] = []
        self.refused: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    @property
    def slack_url(self) -> str:
        return self.base + SLACK_PATH

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def received(self, service: str) -> list[Message]:
        with self._lock:
            return [m for m in self.messages if m.service == service]

    def _record(self, message: Message) -> None:
        with self._lock:
            self.messages.append(message)

    def _refuse(self, reason: str) -> None:
        with self._lock:
            self.refused.append(reason)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 10  # seconds per read: a stuck client cannot hold a thread

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def _reply(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self) -> dict[str, Any] | None:
                try:
                    length = int(self.headers.get("Content-Length", ""))
                except ValueError:
                    return None
                if not 0 < length <= MAX_BODY:
                    return None
                raw = self.rfile.read(length)
                kind = self.headers.get("Content-Type", "").split(";")[0].strip()
                try:
                    if kind == "application/x-www-form-urlencoded":
                        return dict(urllib.parse.parse_qsl(raw.decode("utf-8")))
                    value = json.loads(raw)
                except (UnicodeDecodeError, ValueError):
                    return None
                return value if isinstance(value, dict) else None

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                path = urllib.parse.urlsplit(self.path).path
                body = self._body()
                if path == SLACK_PATH:
                    self._slack(body)
                elif path.startswith("/bot") and path.endswith("/sendMessage"):
                    self._telegram(path.removeprefix("/bot").removesuffix("/sendMessage"), body)
                else:
                    receiver._refuse(f"POST {path}: no such endpoint")
                    self._reply(404, b"no_service", "text/plain")

            def _slack(self, body: dict[str, Any] | None) -> None:
                # Slack answers 400 invalid_payload / no_text, 200 "ok" on success.
                if body is None:
                    receiver._refuse("slack: invalid_payload")
                    self._reply(400, b"invalid_payload", "text/plain")
                    return
                attachments = body.get("attachments") or []
                if not isinstance(attachments, list) or not all(
                    isinstance(a, dict) for a in attachments
                ):
                    receiver._refuse("slack: invalid_attachments")
                    self._reply(400, b"invalid_attachments", "text/plain")
                    return
                first = attachments[0] if attachments else {}
                title = str(first.get("title") or body.get("text") or "")
                text = str(first.get("text") or body.get("text") or "")
                if not title and not text:
                    receiver._refuse("slack: no_text")
                    self._reply(400, b"no_text", "text/plain")
                    return
                receiver._record(Message("slack", title, text, body))
                self._reply(200, b"ok", "text/plain")

            def _telegram(self, token: str, body: dict[str, Any] | None) -> None:
                def fail(status: int, description: str) -> None:
                    receiver._refuse(f"telegram: {description}")
                    answer = {"ok": False, "error_code": status, "description": description}
                    self._reply(status, json.dumps(answer).encode(), "application/json")

                if token != TELEGRAM_TOKEN:
                    fail(401, "Unauthorized")
                    return
                if body is None:
                    fail(400, "Bad Request: invalid request body")
                    return
                text = body.get("text")
                if str(body.get("chat_id")) != receiver.chat_id:
                    fail(400, "Bad Request: chat not found")
                    return
                if not isinstance(text, str) or not text.strip():
                    fail(400, "Bad Request: message text is empty")
                    return
                if len(text) > TELEGRAM_MAX_TEXT:
                    fail(400, "Bad Request: message is too long")
                    return
                if str(body.get("parse_mode", "")).upper() == "HTML":
                    errors = telegram_html_errors(text)
                    if errors:
                        fail(400, f"Bad Request: can't parse entities: {errors[0]}")
                        return
                receiver._record(Message("telegram", text.splitlines()[0], text, body))
                sent = {
                    "message_id": len(receiver.received("telegram")),
                    "date": int(time.time()),
                    "chat": {"id": int(receiver.chat_id), "type": "supergroup"},
                    "text": text,
                }
                self._reply(
                    200, json.dumps({"ok": True, "result": sent}).encode(), "application/json"
                )

        return Handler


# --- processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Processes:
    """Child processes of the flow, each in its own session, stopped by pid at the end."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.procs: list[tuple[str, subprocess.Popen[str]]] = []
        self.services: list[process.Service] = []

    def start(self, name: str, argv: list[str], *, ready_line: bool = False) -> dict[str, Any]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if ready_line:  # the project's one way to start a child and read its ready line
            try:
                service = process.Service(
                    name, argv, env=env, stderr=self.logs / f"{name}.log", ready_timeout=30
                )
            except IconctlError as exc:
                raise AlertFlowError(f"{name} did not start: {exc.message}") from None
            self.services.append(service)
            self.procs.append((name, service.proc))
            return service.info
        with (self.logs / f"{name}.log").open("w") as log:
            proc = subprocess.Popen(
                argv,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                text=True,
                start_new_session=True,
                env=env,
            )
        self.procs.append((name, proc))
        return {}

    def tail(self, name: str, lines: int = 5) -> str:
        path = self.logs / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return " | ".join(text.strip().splitlines()[-lines:])

    def check_alive(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                raise AlertFlowError(f"{name} exited {proc.returncode}: {self.tail(name)}")

    def stop(self) -> None:
        for service in self.services:
            service.stop()
        for _name, proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for _name, proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def binaries() -> dict[str, str | None]:
    """Prometheus and Alertmanager as Debian installs them (upstream calls the latter
    `alertmanager`)."""
    return {
        "prometheus": shutil.which("prometheus"),
        "alertmanager": shutil.which("prometheus-alertmanager") or shutil.which("alertmanager"),
    }


def alertmanager_version(binary: str) -> tuple[int, int]:
    out = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    found = re.search(r"version (\d+)\.(\d+)", out.stdout + out.stderr)
    if not found:
        raise AlertFlowError(f"cannot read the version of {binary}: {out.stderr.strip()[-200:]}")
    return int(found.group(1)), int(found.group(2))


# --- the flow ------------------------------------------------------------------------------


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
        return json.loads(response.read(MAX_BODY))


def _post_json(url: str, body: Any) -> None:
    request = urllib.request.Request(  # noqa: S310 - loopback
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        response.read(MAX_BODY)


def _wait(what: str, probe: Callable[[], bool], timeout: float, procs: Processes) -> float:
    """Seconds it took until ``probe()`` held; AlertFlowError after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        procs.check_alive()
        with contextlib.suppress(OSError, ValueError, KeyError):
            if probe():
                return time.monotonic() - started
        time.sleep(0.25)
    raise AlertFlowError(f"timed out after {timeout:.0f} s waiting for {what}")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _yaml(path: Path, data: Any) -> None:
    _write(path, yaml.safe_dump(data, sort_keys=False))


def _self_scrape(config: dict[str, Any], port: int) -> None:
    """The rendered self-scrape assumes the default port; here every port is a free one."""
    for job in config["scrape_configs"]:
        if job["job_name"] == "prometheus":
            job["static_configs"] = [{"targets": [f"127.0.0.1:{port}"]}]


def _local_secrets(
    config: dict[str, Any],
    spec: Any,
    secrets: Path,
    values: dict[str, str],
    version: tuple[int, int],
) -> None:
    """Fill the secret files the way a deployment does (from each reference, here with the
    receiver's values) and point the configuration at them instead of /run/secrets."""
    local = {}
    for entry in monitoring.secret_files(spec):
        target = secrets / Path(entry["path"]).name
        _write(target, values[entry["field"]])
        target.chmod(0o600)
        local[entry["path"]] = str(target)
    for receiver in config["receivers"]:
        for slack in receiver.get("slack_configs", []):
            slack["api_url_file"] = local[slack["api_url_file"]]
        for telegram in receiver.get("telegram_configs", []):
            path = local[telegram.pop("bot_token_file")]
            if version >= (0, 26):
                telegram["bot_token_file"] = path
            else:  # bot_token_file came with 0.26; Debian 12 ships 0.25 (docs/monitoring.md)
                telegram["bot_token"] = Path(path).read_text(encoding="utf-8")
            telegram["api_url"] = values["telegram_api_url"]


@dataclass
class Outcome:
    slack: list[Message]
    telegram: list[Message]
    refused: list[str]
    seconds: dict[str, float]


def _alert_state(base: str, name: str) -> str:
    """For a failure message: the alert's state in Prometheus, never an exception."""
    try:
        rows = _get_json(f"{base}/api/v1/alerts")["data"]["alerts"]
    except (OSError, ValueError, KeyError) as exc:
        return f"unknown ({exc})"
    states = {row["state"] for row in rows if row["labels"].get("alertname") == name}
    return "firing" if "firing" in states else ("pending" if states else "inactive")


def _has(messages: list[Message], *needles: str) -> bool:
    return any(all(n in m.title + "\n" + m.text for n in needles) for m in messages)


@contextlib.contextmanager
def _running(work: Path) -> Iterator[Processes]:
    procs = Processes(work / "logs")
    try:
        yield procs
    finally:
        procs.stop()


def deliver(work: Path, log: Callable[[str], None] = lambda _line: None) -> Outcome:
    """Run the whole flow in ``work`` (logs under ``work/logs``); return what was delivered."""
    found = binaries()
    missing = [name for name, path in found.items() if path is None]
    if missing:
        raise AlertFlowError(
            f"not installed: {', '.join(missing)} (Debian: prometheus, prometheus-alertmanager)"
        )
    prometheus, alertmanager = str(found["prometheus"]), str(found["alertmanager"])
    version = alertmanager_version(alertmanager)
    (work / "logs").mkdir(parents=True, exist_ok=True)
    spec = load_spec(EXAMPLE)
    region = next(r for r in spec.regions if r.name == REGION)
    chat_id = str(spec.monitoring.alerts.telegram_chat_id)
    seconds: dict[str, float] = {}
    started = time.monotonic()

    with Receiver(chat_id=chat_id) as receiver, _running(work) as procs:
        iconctl = [sys.executable, "-m", "iconctl"]
        sim = [*iconctl, "sim", "--listen", "127.0.0.1:0", "--block-interval", str(BLOCK_INTERVAL)]
        reference = procs.start("reference", [*sim, "--json"], ready_line=True)
        node = procs.start(
            NODE, [*sim, "--control-listen", "127.0.0.1:0", "--json"], ready_line=True
        )
        agent = procs.start(
            f"agent-{NODE}",
            [*iconctl, "agent", "--node", node["url"], "--reference", reference["url"],
             "--listen", f"127.0.0.1:{free_port()}", "--max-lag-blocks",
             str(spec.health.max_lag_blocks), "--poll-interval", "0.5",
             "--reference-interval", "0.5", "--rise", "1", "--fall", "1", "--json"],
            ready_line=True,
        )  # fmt: skip
        agent_address = urllib.parse.urlsplit(agent["url"]).netloc
        log(f"fleet: reference {reference['url']}, {NODE} {node['url']}, agent {agent['url']}")

        # Everything as `iconctl render` writes it, with the fast timing.
        rendered = monitoring.files(spec, timing=FAST)
        regional_dir = work / REGION / "prometheus"
        global_dir = work / "global" / "prometheus"
        am_dir = work / "global" / "alertmanager"
        for rel, content in rendered.items():
            if rel.startswith(("global/prometheus/rules/", "global/alertmanager/templates/",
                               f"{REGION}/prometheus/rules/")):  # fmt: skip
                _write(work / rel, content)

        regional_port, global_port, am_port = free_port(), free_port(), free_port()
        # The rendered regional file discovers through the cloud's API; file discovery has the
        # same jobs, relabelling and labels (the demo's and tests' mode).
        regional = monitoring.regional_prometheus(spec, region, discovery="file", timing=FAST)
        _self_scrape(regional, regional_port)
        for job, *_ in monitoring.scrape_targets(spec):
            relayed = job in ("icon-agent", "goloop")  # the agent relays goloop's /metrics
            entries = monitoring.file_targets("node", {NODE: agent_address} if relayed else {})
            _write(regional_dir / "targets" / f"{job}.json", json.dumps(entries, indent=2))
        _yaml(regional_dir / "prometheus.yml", regional)

        global_config = yaml.safe_load(rendered["global/prometheus/prometheus.yml"])
        _self_scrape(global_config, global_port)
        global_config["alerting"]["alertmanagers"] = [
            {"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}
        ]
        federation = monitoring.federation_targets(spec, region)
        federation[0]["targets"] = [f"127.0.0.1:{regional_port}"]  # no private DNS here
        _write(global_dir / "federation" / f"{REGION}.json", json.dumps(federation, indent=2))
        _yaml(global_dir / "prometheus.yml", global_config)

        am_config = yaml.safe_load(rendered["global/alertmanager/alertmanager.yml"])
        _local_secrets(
            am_config,
            spec,
            work / "secrets",
            {
                "monitoring.alerts.slack_webhook": receiver.slack_url,
                "monitoring.alerts.telegram_bot_token": TELEGRAM_TOKEN,
                "telegram_api_url": receiver.base,
            },
            version,
        )
        _yaml(am_dir / "alertmanager.yml", am_config)

        procs.start("alertmanager", [
            alertmanager, f"--config.file={am_dir / 'alertmanager.yml'}",
            f"--storage.path={work / 'alertmanager-data'}",
            f"--web.listen-address=127.0.0.1:{am_port}",
            "--cluster.listen-address=",  # no gossip port: a single Alertmanager
            "--log.level=info",
        ])  # fmt: skip
        for name, directory, port in (
            ("prometheus-regional", regional_dir, regional_port),
            ("prometheus-global", global_dir, global_port),
        ):
            procs.start(name, [
                prometheus, f"--config.file={directory / 'prometheus.yml'}",
                f"--storage.tsdb.path={directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
            ])  # fmt: skip
        global_base = f"http://127.0.0.1:{global_port}"
        am_base = f"http://127.0.0.1:{am_port}"

        def node_ready_globally() -> bool:
            query = urllib.parse.urlencode({"query": f'icon_node_ready{{instance="{NODE}"}}'})
            rows = _get_json(f"{global_base}/api/v1/query?{query}")["data"]["result"]
            return bool(rows) and rows[0]["value"][1] == "1"

        def alertmanager_ready() -> bool:
            with urllib.request.urlopen(f"{am_base}/-/ready", timeout=2) as r:  # noqa: S310
                return bool(r.status == 200)

        _wait("Alertmanager to start", alertmanager_ready, 30, procs)
        seconds["healthy"] = _wait(
            "the node to be ready in the global Prometheus", node_ready_globally, 45, procs
        )
        log(f"the global Prometheus sees {NODE} ready after {seconds['healthy']:.1f} s")

        _post_json(node["control_url"] + "/scenario", {"lag": LAG})
        lag_at = time.monotonic()
        log(f"{NODE} now serves {LAG} blocks behind the chain")

        def fired() -> bool:
            return _has(receiver.received("slack"), "[FIRING", "IconNodeLagging") and _has(
                receiver.received("telegram"), "FIRING", "IconRegionNoReadyNode"
            )

        try:
            _wait("the firing messages on Slack and Telegram", fired, FIRING_TIMEOUT, procs)
        except AlertFlowError as exc:
            states = {a: _alert_state(global_base, a)
                      for a in ("IconNodeLagging", "IconRegionNoReadyNode")}  # fmt: skip
            raise AlertFlowError(f"{exc} (alerts in Prometheus: {states}; receiver got "
                                 f"{[m.title for m in receiver.messages]}; refused "
                                 f"{receiver.refused})") from None  # fmt: skip
        seconds["fired"] = time.monotonic() - lag_at
        log(f"firing messages delivered {seconds['fired']:.1f} s after the lag began")

        _post_json(node["control_url"] + "/scenario", {"lag": 0})
        caught_up_at = time.monotonic()
        log(f"{NODE} catches up")

        def resolved() -> bool:
            return _has(receiver.received("slack"), "[RESOLVED]", "IconNodeLagging") and _has(
                receiver.received("telegram"), "RESOLVED", "IconRegionNoReadyNode"
            )

        try:
            _wait("the resolved messages", resolved, RESOLVED_TIMEOUT, procs)
        except AlertFlowError as exc:
            raise AlertFlowError(
                f"{exc} (receiver got {[m.title for m in receiver.messages]})"
            ) from None
        seconds["resolved"] = time.monotonic() - caught_up_at
        seconds["total"] = time.monotonic() - started
        log(f"resolved messages delivered {seconds['resolved']:.1f} s after the catch-up")
        for message in receiver.messages:
            log(f"--- {message.service}\n{message.text}")
        return Outcome(receiver.received("slack"), receiver.received("telegram"),
                       list(receiver.refused), seconds)  # fmt: skip


LAG_SUMMARY = re.compile(rf"Node {NODE} in {REGION} is \d+(\.\d+)? blocks behind")


def problems(outcome: Outcome) -> list[str]:
    """What an on-call person would miss or misread in the delivered messages."""
    found: list[str] = []

    def expect(messages: list[Message], what: str, check: Callable[[Message], bool]) -> None:
        if not any(check(m) for m in messages):
            found.append(f"no {what} (got: {[m.title for m in messages]})")

    slack, telegram = outcome.slack, outcome.telegram
    expect(slack, "Slack title '[FIRING:1] IconNodeLagging in us-east-1'",
           lambda m: m.title == f"[FIRING:1] IconNodeLagging in {REGION}")  # fmt: skip
    expect(slack, "Slack text naming the node, its lag and the runbook",
           lambda m: m.title.startswith("[FIRING") and "*WARNING* " in m.text
           and bool(LAG_SUMMARY.search(m.text)) and f"instance `{NODE}`" in m.text
           and "Runbook: docs/alerts.md, `IconNodeLagging`" in m.text)  # fmt: skip
    expect(slack, "Slack resolved message for IconNodeLagging",
           lambda m: m.title == f"[RESOLVED] IconNodeLagging in {REGION}"
           and "*RESOLVED* was: " in m.text and bool(LAG_SUMMARY.search(m.text))
           and " to " in m.text)  # fmt: skip
    expect(slack, "Slack message for the critical IconRegionNoReadyNode",
           lambda m: m.title == f"[FIRING:1] IconRegionNoReadyNode in {REGION}"
           and f"*CRITICAL* Region {REGION} has no ready node" in m.text)  # fmt: skip
    colours = {
        m.payload["attachments"][0].get("color") for m in slack if m.payload.get("attachments")
    }
    if not {"warning", "danger", "good"} <= colours:
        found.append(f"Slack colours should be warning, danger and good, got {sorted(colours)}")
    expect(telegram, "Telegram firing message for IconRegionNoReadyNode",
           lambda m: m.text.startswith(f"🔥 <b>FIRING</b> IconRegionNoReadyNode in {REGION}")
           and f"<b>critical</b> Region {REGION} has no ready node" in m.text)  # fmt: skip
    expect(
        telegram,
        "Telegram resolved message for IconRegionNoReadyNode",
        lambda m: (
            m.text.startswith(f"✅ <b>RESOLVED</b> IconRegionNoReadyNode in {REGION}")
            and f"<b>resolved</b> was: Region {REGION} has no ready node" in m.text
        ),
    )
    if any("IconNodeLagging" in m.text for m in telegram):
        found.append("a warning (IconNodeLagging) reached Telegram, which pages only critical")
    for message in telegram:
        if message.payload.get("parse_mode") != "HTML":
            found.append(f"Telegram message without parse_mode HTML: {message.title}")
    if outcome.refused:
        found.append(f"the services refused: {outcome.refused}")
    return found


# --- make e2e --------------------------------------------------------------------------------


def stage_alerts(run: Any, art: Path, failed: type[Exception]) -> None:
    """The `make e2e` stage: the flow in ``art``/alerts; ``failed`` (the runner's StageFailed)
    on a problem."""
    work = art / "alerts"
    shutil.rmtree(work, ignore_errors=True)
    try:
        outcome = deliver(work, lambda line: run.write(line + "\n"))
    except AlertFlowError as exc:
        raise failed(str(exc)) from None
    found = problems(outcome)
    if found:
        raise failed("; ".join(found))
    run.write(
        f"delivered {len(outcome.slack)} Slack and {len(outcome.telegram)} Telegram messages; "
        f"timings {json.dumps({k: round(v, 1) for k, v in outcome.seconds.items()})}\n"
    )
