"""The agent process: background polling, the probe endpoints, metrics and the drain switch.

Probes never reach the node: every /healthz and /readyz answer is a response prepared after
the last poll, so the node sees one poll per interval whatever the probe rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import random
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from iconctl.agent.health import ChainRate, Hysteresis
from iconctl.agent.region import RegionHealth, RegionSource, parse_source
from iconctl.agent.replacement import (
    IMDS_ENDPOINT,
    AwsSelfReplacement,
    InstanceMetadata,
    ReplacementWatch,
)
from iconctl.endpoints import AGENT_PORT, LIVE_PATH, METRICS_PATH, READY_PATH, REGION_READY_PATH
from iconctl.errors import InputError
from iconctl.exposition import CONTENT_TYPE, Exposition, Histogram
from iconctl.health import (
    DEFAULT_MAX_BLOCK_AGE_SECONDS,
    DEFAULT_MAX_LAG_BLOCKS,
    NodeSample,
    ReferenceView,
    Thresholds,
    Verdict,
    judge,
    reference_view,
)
from iconctl.http.client import MAX_METRICS_BYTES, AnswerTooLarge, read_bounded, session
from iconctl.http.server import HTTPServer, Request, cannot_listen, response, until_stopped

log = logging.getLogger("iconctl.agent")

_LAST_BLOCK = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "icx_getLastBlock"}).encode()
# the probe paths as the fast path sees them (raw request targets)
_READY_TARGET, _LIVE_TARGET = READY_PATH.encode(), LIVE_PATH.encode()
_REGION_TARGET = REGION_READY_PATH.encode()
NODE_METRICS_MAX_AGE = 1.0  # seconds a relayed goloop /metrics answer is reused
_PEER_KINDS = ("friends", "children", "uncles", "nephews", "others")


@dataclass
class AgentConfig:
    node: str
    references: list[str] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = AGENT_PORT
    max_lag_blocks: int = DEFAULT_MAX_LAG_BLOCKS
    max_block_age_seconds: float = float(DEFAULT_MAX_BLOCK_AGE_SECONDS)
    poll_interval: float = 2.0
    reference_interval: float = 5.0
    timeout: float = 2.0
    rise: int = 3
    fall: int = 3
    peers_every: int = 5  # inspect /admin/chain/{cid} for peers every N polls
    # /region/readyz: where the count of the region's ready nodes comes from (region.py)
    region_source: str | None = None
    region_min_ready: int = 1
    region_interval: float = 15.0
    region_max_stale: float = 60.0
    region_timeout: float = 5.0
    # Liveness and replacement (replacement.py): /healthz answers OK for boot_grace seconds
    # after the agent starts, until the node first answers; with replace_unhealthy="aws" the
    # agent marks its instance Unhealthy once /healthz has failed for replace_after seconds.
    boot_grace: float = 0.0
    replace_unhealthy: str | None = None
    replace_after: float = 300.0
    imds_endpoint: str = IMDS_ENDPOINT

    @classmethod
    def resolve(
        cls,
        *,
        node: str,
        listen: str,
        references: list[str] | None = None,
        max_lag_blocks: int | None = None,
        max_block_age_seconds: float | None = None,
        spec_path: Path | None = None,
        **options: Any,
    ) -> AgentConfig:
        """The configuration from command-line options: ``--listen HOST:PORT`` split, and the
        limits and references not given taken from the spec's health section (``--spec``), else
        the built-in defaults (no references: the node's own progress decides)."""
        from iconctl.http.server import parse_hostport

        host, port = parse_hostport(listen, option="--listen")
        spec = None
        if spec_path is not None:
            from iconctl.spec import load_spec

            spec = load_spec(spec_path)
        limits = Thresholds.from_spec(spec).with_overrides(
            max_lag_blocks=max_lag_blocks, max_block_age_seconds=max_block_age_seconds
        )
        if not references and spec is not None:
            references = [str(url) for url in spec.references]
        config = cls(
            node=node,
            references=list(references or []),
            host=host,
            port=port,
            max_lag_blocks=limits.max_lag_blocks,
            max_block_age_seconds=limits.max_block_age_seconds,
            **options,
        )
        config.validate()
        return config

    @property
    def limits(self) -> Thresholds:
        return Thresholds(self.max_lag_blocks, self.max_block_age_seconds)

    def validate(self) -> None:
        if self.max_lag_blocks < 0:
            raise InputError("--max-lag-blocks must be >= 0")
        if self.max_block_age_seconds <= 0:
            raise InputError("--max-block-age must be > 0")
        for name in ("poll_interval", "reference_interval", "timeout"):
            if not 0.01 <= getattr(self, name) <= 3600:
                raise InputError(f"--{name.replace('_', '-')} must be between 0.01 and 3600")
        if not 1 <= self.rise <= 100 or not 1 <= self.fall <= 100:
            raise InputError("--rise and --fall must be between 1 and 100")
        if len(set(self.references)) != len(self.references):
            raise InputError("--reference: the same URL is given twice")
        if not 1 <= self.region_interval <= 3600:
            raise InputError("--region-interval must be between 1 and 3600")
        if self.region_max_stale < self.region_interval:
            raise InputError("--region-max-stale must be at least --region-interval")
        if not 0 <= self.boot_grace <= 86400:
            raise InputError("--boot-grace must be between 0 and 86400 seconds")
        if self.replace_unhealthy not in (None, "aws"):
            raise InputError(
                f"--replace-unhealthy: expected aws (or nothing), got {self.replace_unhealthy!r}"
            )
        if not 1 <= self.replace_after <= 3600:
            raise InputError("--replace-after must be between 1 and 3600 seconds")
        parts = urlsplit(self.imds_endpoint)
        if parts.scheme != "http" or not parts.hostname or parts.path.strip("/"):
            raise InputError(
                f"--imds-endpoint: expected http://HOST[:PORT], got {self.imds_endpoint!r}"
            )


def rpc_url(url: str, option: str) -> str:
    """The JSON-RPC URL for a node or reference given as a base URL or a full /api/v3 URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{option}: expected an http(s) URL, got {url!r}")
    path = parts.path.rstrip("/") or "/api/v3"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def admin_base(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/admin", "", ""))


def display_url(url: str) -> str:
    """A URL safe for labels and logs: no credentials, no query string."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass
class Reference:
    url: str
    label: str
    height: int | None = None
    up: bool = False
    error: str = ""
    answers: int = 0  # answers received; each ignored answer is counted once
    ignored: str = ""  # why the last answer is left out of the reference height, or ""
    outliers: int = 0
    _counted: int = 0


class Agent:
    def __init__(self, config: AgentConfig) -> None:
        config.validate()
        self.config = config
        self.node_rpc = rpc_url(config.node, "--node")
        self.node_admin = admin_base(self.node_rpc)
        channel = self.node_rpc.rstrip("/").rsplit("/", 1)[-1]
        self.channel = None if channel == "v3" else channel
        self.references = [
            Reference(rpc_url(u, "--reference"), display_url(rpc_url(u, "x")))
            for u in config.references
        ]
        self.limits = config.limits
        self.ready = Hysteresis(rise=config.rise, fall=config.fall, name="readiness")
        self.live = Hysteresis(rise=config.rise, fall=config.fall, name="liveness")
        self.sample = NodeSample(answered=False, error="not polled yet")
        self.chain_rate = ChainRate()
        self.reference_view = ReferenceView(None)
        self.peers: int | None = None
        self.cid: str | None = None
        self.draining = False
        self.polls = 0
        self.poll_results: Counter[tuple[str, str]] = Counter()
        self.probes: Counter[str] = Counter()
        self.durations: dict[str, Histogram] = {"node": Histogram(), "admin": Histogram()}
        for ref in self.references:
            self.durations[ref.label] = Histogram()
        # goloop serves /metrics on the port of its admin API: the agent relays it, so
        # monitoring never needs that port (see _node_metrics).
        self.node_metrics_url = self.node_admin.removesuffix("/admin") + "/metrics"
        self._node_metrics_cache: tuple[float, bytes] | None = None
        self._node_metrics_lock: asyncio.Lock | None = None
        self.region_source: RegionSource | None = (
            parse_source(config.region_source) if config.region_source else None
        )
        self.region = RegionHealth(config.region_min_ready, config.region_max_stale)
        self.region_ok: bool | None = None
        self.started = time.monotonic()  # the boot grace counts from here
        self.node_answered = False  # ever: ends the boot grace
        self.replacement: AwsSelfReplacement | None = (
            AwsSelfReplacement(
                InstanceMetadata(config.imds_endpoint), timeout=config.region_timeout
            )
            if config.replace_unhealthy == "aws"
            else None
        )
        self.replace_watch = ReplacementWatch(config.replace_after)
        self._replacing: asyncio.Task[None] | None = None
        if config.boot_grace > 0:  # live from the start: the grace covers the first polls too
            self.live.update(self._liveness(self.started))
        self._region_get = self._region_head = b""
        self.server = HTTPServer(self.handle, max_body=4096, fast_get=self._fast_get)
        self.port = config.port
        self._session: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._ready_get = self._ready_head = b""
        self._live_get = self._live_head = b""
        self._refresh()

    # life cycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self._session = session(self.config.timeout, connections=16)
        self.port = await self.server.start(self.config.host, self.config.port)
        first = [self._poll_reference(r) for r in self.references]
        if self.region_source is not None:
            first.append(self.poll_region())
        if first:  # the first verdict should already know the references and the region
            await asyncio.gather(*first)
        self._tasks.append(asyncio.ensure_future(self._node_loop()))
        for ref in self.references:
            self._tasks.append(asyncio.ensure_future(self._reference_loop(ref)))
        if self.region_source is not None:
            self._tasks.append(asyncio.ensure_future(self._region_loop()))

    async def stop(self) -> None:
        if self._replacing is not None:
            self._tasks.append(self._replacing)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.server.stop()
        if self._session is not None:
            await self._session.close()
        if self.region_source is not None:
            await self.region_source.close()

    def set_draining(self, draining: bool) -> None:
        if draining != self.draining:
            log.info("drain %s", "on: /readyz fails on purpose" if draining else "off")
        self.draining = draining
        self._refresh()

    # polling ------------------------------------------------------------------------------
    async def _node_loop(self) -> None:
        while True:
            started = time.monotonic()
            try:
                await self.poll_node()
            except Exception as exc:  # never leave the probes answering from a stale poll
                log.exception("poll failed")
                self.sample = NodeSample(answered=False, error=f"agent error: {_describe(exc)}")
                self.evaluate(time.time())
            await asyncio.sleep(max(0.0, self.config.poll_interval - (time.monotonic() - started)))

    async def _reference_loop(self, ref: Reference) -> None:
        while True:
            await asyncio.sleep(self.config.reference_interval)
            await self._poll_reference(ref)

    async def _region_loop(self) -> None:
        while True:
            # Jitter, so the nodes of a region do not call the cloud API in step.
            await asyncio.sleep(self.config.region_interval * random.uniform(0.9, 1.1))  # noqa: S311
            await self.poll_region()

    async def poll_region(self) -> None:
        """One read of the region's ready count; the answer is prepared, never fetched per
        probe, so Cloudflare's probe rate never reaches the cloud API."""
        assert self.region_source is not None
        started = time.perf_counter()
        try:
            count = await asyncio.wait_for(
                self.region_source.count(), timeout=self.config.region_timeout
            )
        except Exception as exc:  # any failure means "the source is unavailable"
            self.poll_results[("region", "error")] += 1
            if self.region.source_up or self.region.counted_at is None:
                log.info("region source %s unavailable: %s", self.region_source.label,
                         _describe(exc))  # fmt: skip
            self.region.fail(_describe(exc))
        else:
            self.poll_results[("region", "ok")] += 1
            if not self.region.source_up:
                log.info("region source %s: %d of %d nodes ready", self.region_source.label,
                         count.ready, count.total)  # fmt: skip
            self.region.record(count, time.monotonic())
        finally:
            self.durations.setdefault("region", Histogram()).observe(time.perf_counter() - started)
        self._refresh()

    async def _timed(self, target: str, coro: Any) -> Any:
        started = time.perf_counter()
        try:
            result = await coro
            self.poll_results[(target, "ok")] += 1
            return result
        except Exception:
            self.poll_results[(target, "error")] += 1
            raise
        finally:
            self.durations[target].observe(time.perf_counter() - started)

    async def _post_last_block(self, url: str) -> dict[str, Any]:
        async with self._session.post(
            url, data=_LAST_BLOCK, headers={"Content-Type": "application/json"}
        ) as resp:
            body = await read_bounded(resp)
        try:
            payload = json.loads(body)
        except ValueError:
            raise RuntimeError(f"HTTP {resp.status}, not JSON-RPC") from None
        if not isinstance(payload, dict) or ("result" not in payload and "error" not in payload):
            raise RuntimeError(f"HTTP {resp.status}, not JSON-RPC")
        return payload

    async def _get_json(self, url: str) -> Any:
        async with self._session.get(url) as resp:
            if resp.status != 200:
                raise RuntimeError(f"HTTP {resp.status}")
            return json.loads(await read_bounded(resp))

    async def _poll_reference(self, ref: Reference) -> None:
        try:
            payload = await self._timed(ref.label, self._post_last_block(ref.url))
            if "result" not in payload:
                raise RuntimeError(f"JSON-RPC error {payload.get('error')}")
            ref.height = int(payload["result"]["height"])
            ref.up, ref.error = True, ""
            ref.answers += 1
        except Exception as exc:  # any failure means "this reference is down"
            if ref.up:
                log.info("reference %s down: %s", ref.label, _describe(exc))
            ref.up, ref.error = False, _describe(exc)

    async def poll_node(self) -> None:
        self.polls += 1
        block_task = self._timed("node", self._post_last_block(self.node_rpc))
        admin_task = self._timed("admin", self._get_json(self.node_admin + "/chain"))
        answers: tuple[Any, Any] = await asyncio.gather(
            block_task, admin_task, return_exceptions=True
        )
        block, chains = answers
        answered = not isinstance(block, BaseException) or not isinstance(chains, BaseException)
        height = block_time = None
        error = ""
        if isinstance(block, BaseException):
            error = _describe(block)
        elif "result" in block:
            try:
                height = int(block["result"]["height"])
                block_time = int(block["result"]["time_stamp"]) / 1_000_000
            except (KeyError, TypeError, ValueError):
                error = "malformed icx_getLastBlock result"
        else:
            err = block.get("error") or {}
            error = f"JSON-RPC error {err.get('code')}: {err.get('message')}"
        state = None
        if not isinstance(chains, BaseException):
            chain = self._pick_chain(chains)
            if chain is not None:
                state = str(chain.get("state"))
                self.cid = str(chain.get("cid"))
        self.sample = NodeSample(
            answered=answered, height=height, block_time=block_time, state=state, error=error
        )
        if answered and self.cid and (self.polls - 1) % self.config.peers_every == 0:
            await self._poll_peers()
        if not answered:
            self.peers = None
        self.evaluate(time.time())

    def _pick_chain(self, chains: Any) -> dict[str, Any] | None:
        if not isinstance(chains, list):
            return None
        entries = [c for c in chains if isinstance(c, dict)]
        for chain in entries:
            if self.channel is None or chain.get("channel") == self.channel:
                return chain
        return None

    async def _poll_peers(self) -> None:
        try:
            inspect = await self._timed(
                "admin", self._get_json(f"{self.node_admin}/chain/{self.cid}")
            )
            p2p = inspect["module"]["network"]["p2p"]
            count = sum(len(p2p.get(kind) or []) for kind in _PEER_KINDS)
            self.peers = count + (1 if p2p.get("parent") else 0)
        except Exception:  # peers are informative only; admin inspect may be disabled
            self.peers = None

    def best_reference(self) -> int | None:
        return self.reference_view.height

    def _judge_references(self, now: float) -> None:
        """Measure lag against a height the references corroborate (docs/agent.md)."""
        heights = {r.label: r.height for r in self.references if r.up and r.height is not None}
        view = reference_view(
            heights,
            [self.sample],
            now,
            tolerance=self.config.max_lag_blocks,
            rate=self.chain_rate.blocks_per_second(),
        )
        for ref in self.references:
            why = view.ignored.get(ref.label, "")
            if why and ref._counted != ref.answers:
                ref.outliers += 1
                ref._counted = ref.answers
            if why and not ref.ignored:
                log.warning("reference %s ignored: %s", ref.label, why)
            elif ref.ignored and not why and ref.up:
                log.info("reference %s agrees again", ref.label)
            ref.ignored = why
        self.reference_view = view

    def evaluate(self, now: float) -> None:
        self.chain_rate.observe(self.sample)
        self._judge_references(now)
        answering = any(r.up for r in self.references)
        verdict = judge(
            self.sample,
            self.best_reference(),
            now,
            self.limits,
            no_reference="every reference ignored" if answering else "references down",
        )
        before = (self.ready.ok, self.live.ok)
        self.ready.update(verdict)
        self.live.update(self._liveness(time.monotonic()))
        in_flight = self._replacing is not None and not self._replacing.done()
        due = self.replacement is not None and self.replace_watch.due(
            self.live.ok, time.monotonic()
        )
        if due and not in_flight:  # one request at a time, however slow the API
            self._replacing = asyncio.ensure_future(self._request_replacement())
        if (self.ready.ok, self.live.ok) != before:
            log.info(
                "readiness %s, liveness %s",
                _word(self.ready.ok, self.ready.reason),
                _word(self.live.ok, self.live.reason),
            )
        self._refresh()

    def _liveness(self, mono: float) -> Verdict:
        """The node answers; or it never has and the boot grace (restore, start) still runs."""
        if self.sample.answered:
            self.node_answered = True
            return Verdict(True)
        why = f"node not answering: {self.sample.error or 'no answer'}"
        left = self.config.boot_grace - (mono - self.started)
        if not self.node_answered and left > 0:
            return Verdict(True, f"starting: {why}; boot grace {left:.0f}s left")
        return Verdict(False, why)

    async def _request_replacement(self) -> None:
        assert self.replacement is not None
        watch = self.replace_watch
        try:
            identity = await self.replacement.request(self._session)
        except Exception as exc:  # any failure is retried after a while
            watch.attempted(time.monotonic(), _describe(exc))
            log.warning("cannot mark this instance Unhealthy: %s", watch.error)
        else:
            watch.attempted(time.monotonic())
            log.warning(
                "liveness failed for %.0fs: instance %s marked Unhealthy in its Auto Scaling "
                "group (%s), which replaces it", self.config.replace_after,
                identity.instance_id, self.live.reason,
            )  # fmt: skip

    # the probe and metrics endpoints ------------------------------------------------------
    def _refresh(self) -> None:
        """Prepare the probe answers once per change, so serving them costs nothing."""
        if self.draining:
            ready = (503, "UNHEALTHY draining")
        elif self.ready.ok:
            ready = (200, "OK")
        else:
            ready = (503, f"UNHEALTHY {self.ready.reason}")
        live = (200, "OK") if self.live.ok else (503, f"UNHEALTHY {self.live.reason}")
        self._ready_get, self._ready_head = _probe(*ready)
        self._live_get, self._live_head = _probe(*live)
        if self.region_source is not None:
            own = Verdict(ready[0] == 200, ready[1].removeprefix("UNHEALTHY "))
            verdict = self.region.verdict(time.monotonic(), own)
            if verdict.ok != self.region_ok:
                log.info("region %s", _word(verdict.ok, verdict.reason))
            self.region_ok = verdict.ok
            answer = (200, "OK") if verdict.ok else (503, f"UNHEALTHY {verdict.reason}")
            self._region_get, self._region_head = _probe(*answer)

    def _fast_get(self, target: bytes) -> bytes | None:
        if target == _READY_TARGET:
            self.probes[READY_PATH] += 1
            return self._ready_get
        if target == _LIVE_TARGET:
            self.probes[LIVE_PATH] += 1
            return self._live_get
        if target == _REGION_TARGET and self.region_source is not None:
            self.probes[REGION_READY_PATH] += 1
            return self._region_get
        return None

    def handle(self, req: Request) -> bytes | Awaitable[bytes]:
        path = req.path
        if path in (READY_PATH, LIVE_PATH):
            self.probes[path] += 1
            ready = path == READY_PATH
            if req.method == "GET":
                return self._ready_get if ready else self._live_get
            if req.method == "HEAD":
                return self._ready_head if ready else self._live_head
            return response(405, "method not allowed\n", headers=(("Allow", "GET, HEAD"),))
        if path == REGION_READY_PATH:
            if self.region_source is None:
                return response(404, "region health not configured (--region-source)\n")
            self.probes[path] += 1
            if req.method == "GET":
                return self._region_get
            if req.method == "HEAD":
                return self._region_head
            return response(405, "method not allowed\n", headers=(("Allow", "GET, HEAD"),))
        if path == METRICS_PATH and req.method == "GET":
            self.probes[path] += 1
            return response(200, self.metrics(time.time()), content_type=CONTENT_TYPE)
        if path == "/node/metrics" and req.method == "GET":
            self.probes[path] += 1
            return self._node_metrics()
        if path == "/drain":
            if req.method == "GET":
                return response(200, "draining\n" if self.draining else "serving\n")
            if req.method not in ("POST", "DELETE"):
                return response(
                    405, "method not allowed\n", headers=(("Allow", "GET, POST, DELETE"),)
                )
            if not req.from_loopback:
                return response(403, "forbidden: drain accepts loopback clients only\n")
            self.set_draining(req.method == "POST")
            return response(200, "draining\n" if self.draining else "serving\n")
        return response(404, "not found\n")

    async def _node_metrics(self) -> bytes:
        """goloop's own /metrics, relayed. At most one fetch a second however often it is
        scraped, so the relay cannot be used to load the node."""
        if self._node_metrics_lock is None:
            self._node_metrics_lock = asyncio.Lock()
        async with self._node_metrics_lock:
            cached = self._node_metrics_cache
            if cached is not None and time.monotonic() - cached[0] < NODE_METRICS_MAX_AGE:
                return cached[1]
            try:
                async with self._session.get(self.node_metrics_url) as resp:
                    status = resp.status
                    kind = resp.headers.get("Content-Type", CONTENT_TYPE)
                    body = await read_bounded(resp, MAX_METRICS_BYTES) if status == 200 else b""
            except AnswerTooLarge as exc:
                answer = response(502, f"node {exc}\n")
            except Exception as exc:  # any failure to reach the node is the same answer
                answer = response(502, f"node not answering: {_describe(exc)}\n")
            else:
                if status == 200:
                    answer = response(200, body, content_type=kind)
                else:
                    answer = response(502, f"node answered HTTP {status}\n")
            self._node_metrics_cache = (time.monotonic(), answer)
            return answer

    def metrics(self, now: float) -> bytes:
        sample = self.sample
        exp = Exposition()
        exp.family(
            "icon_node_up",
            [([], 1 if sample.answered else 0)],
        )
        exp.family(
            "icon_node_ready",
            [([], 1 if (self.ready.ok and not self.draining) else 0)],
        )
        exp.family(
            "icon_node_live",
            [([], 1 if self.live.ok else 0)],
        )
        exp.family(
            "icon_agent_draining",
            [([], 1 if self.draining else 0)],
        )
        if sample.height is not None:
            exp.family(
                "icon_node_block_height",
                [([], sample.height)],
            )
        if sample.block_time is not None:
            exp.family(
                "icon_node_last_block_age_seconds",
                [([], max(0.0, round(now - sample.block_time, 3)))],
            )
        best = self.best_reference()
        if best is not None and sample.height is not None:
            exp.family(
                "icon_node_lag_blocks",
                [([], best - sample.height)],
            )
        exp.family(
            "icon_reference_block_height",
            [
                ([("reference", r.label)], r.height)
                for r in self.references
                if r.up and r.height is not None
            ],
        )
        exp.family(
            "icon_reference_up",
            [([("reference", r.label)], 1 if r.up else 0) for r in self.references],
        )
        exp.family(
            "icon_reference_ignored",
            [([("reference", r.label)], 1 if r.ignored else 0) for r in self.references],
        )
        exp.family(
            "icon_reference_outliers_total",
            [([("reference", r.label)], r.outliers) for r in self.references],
        )
        if self.peers is not None:
            exp.family(
                "icon_node_peers",
                [([], self.peers)],
            )
        if sample.state is not None:
            exp.family(
                "icon_node_chain_state",
                [([("state", sample.state)], 1)],
            )
        if self.region_source is not None:
            self._region_metrics(exp)
        # Exported with or without --replace-unhealthy, so dashboards and alerts
        # need no "absent" special case: 0 when replacement is off.
        exp.family(
            "icon_agent_replacement_requested",
            [([], 1 if self.replace_watch.requested else 0)],
        )
        exp.family(
            "icon_agent_replacement_errors_total",
            [([], self.replace_watch.errors)],
        )
        exp.histograms(
            "icon_agent_poll_duration_seconds",
            [([("target", t)], h) for t, h in self.durations.items()],
        )
        exp.family(
            "icon_agent_polls_total",
            [
                ([("target", t), ("result", r)], n)
                for (t, r), n in sorted(self.poll_results.items())
            ],
        )
        exp.family(
            "icon_agent_probe_requests_total",
            [([("path", p)], n) for p, n in sorted(self.probes.items())],
        )
        exp.family(
            "icon_agent_ready_transitions_total",
            [([], self.ready.transitions)],
        )
        return exp.render()

    def _region_metrics(self, exp: Exposition) -> None:
        region, now = self.region, time.monotonic()
        exp.family(
            "icon_region_ready",
            [([], 1 if self.region_ok else 0)],
        )
        exp.family(
            "icon_region_min_ready_nodes",
            [([], region.min_ready)],
        )
        exp.family(
            "icon_region_source_up",
            [([], 1 if region.source_up else 0)],
        )
        exp.family(
            "icon_region_fallback",
            [([], 0 if region.fresh(now) else 1)],
        )
        if region.count is not None:
            exp.family(
                "icon_region_ready_nodes",
                [([], region.count.ready)],
            )
            exp.family(
                "icon_region_nodes",
                [([], region.count.total)],
            )
        age = region.age(now)
        if age is not None:
            exp.family(
                "icon_region_count_age_seconds",
                [([], round(age, 3))],
            )

    @property
    def url(self) -> str:
        host = self.config.host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"


def _probe(status: int, body: str) -> tuple[bytes, bytes]:
    full = response(status, body, headers=(("Cache-Control", "no-store"),))
    head_end = full.index(b"\r\n\r\n") + 4
    return full, full[:head_end]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return "timeout"
    os_error = getattr(exc, "os_error", None)  # aiohttp's connection errors
    if isinstance(os_error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(os_error, OSError):
        return f"cannot connect: {os_error.strerror or type(os_error).__name__}"
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]


def _word(ok: bool | None, reason: str) -> str:
    return "OK" if ok else f"UNHEALTHY ({reason})"


async def serve(config: AgentConfig, ready: Callable[[Agent], None]) -> None:
    """Run until SIGTERM/SIGINT. SIGUSR1 turns the drain switch on, SIGUSR2 off."""
    agent = Agent(config)
    try:
        await agent.start()
    except OSError as exc:
        await agent.stop()
        raise cannot_listen(exc, config.host, config.port) from None
    drain = {
        signal.SIGUSR1: functools.partial(agent.set_draining, True),
        signal.SIGUSR2: functools.partial(agent.set_draining, False),
    }
    try:
        await until_stopped(lambda: ready(agent), drain)
    finally:
        await agent.stop()
