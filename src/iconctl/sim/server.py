"""The simulator process: block production, the node's HTTP API, and the control endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from iconctl.errors import InputError
from iconctl.exposition import CONTENT_TYPE, Exposition
from iconctl.http.server import (
    HTTPServer,
    Request,
    Result,
    Upgrade,
    cannot_listen,
    response,
    until_stopped,
)
from iconctl.sim.chain import Chain
from iconctl.sim.datadir import DataDir
from iconctl.sim.ledger import Ledger
from iconctl.sim.monitor import Monitor
from iconctl.sim.node import Scenario, SimOptions
from iconctl.sim.rpc import Context, Dispatcher, injected_failure

_JSON = "application/json; charset=UTF-8"
# echo's answers for unknown routes and wrong methods, as goloop's HTTPErrorHandler words them
_NOT_FOUND = "Not Found <nil>"
_METHOD_NOT_ALLOWED = "Method Not Allowed <nil>"


class Simulator:
    def __init__(self, options: SimOptions, scenario: Scenario) -> None:
        scenario.validate()
        self.options = options
        self.scenario = scenario
        self.random = random.Random(options.seed)  # noqa: S311 - fault injection, not crypto
        self.datadir: DataDir | None = None
        start = options.start_height
        if options.data_dir is not None:
            self.datadir = DataDir(options.data_dir, cid=options.cid, channel=options.channel)
            stored = self.datadir.last_height()
            if stored is not None:
                start = stored + scenario.lag  # resume: the stored height is what was served
        self.chain = Chain(
            cid=options.cid,
            nid=options.nid,
            channel=options.channel,
            start_height=start,
            block_interval=scenario.block_interval,
            now_us=time.time_ns() // 1000,
        )
        self.ledger = Ledger(
            cid=options.cid, nid=options.nid, genesis_height=0, funds=options.funds
        )
        self.height = max(0, start - scenario.lag)
        self.last_block_json = self.chain.block_json(self.height)
        self.last_block_duration_ms = 0
        self._last_block_at = time.monotonic()
        self.dispatcher = Dispatcher(self)
        self.debug_dispatcher = Dispatcher(self, debug=True)
        self.block_streams: set[Monitor] = set()
        self.new_block = asyncio.Event()
        self.server = HTTPServer(self.handle)
        self.control = HTTPServer(self.handle_control, max_body=64 * 1024)
        self.hostname = socket.gethostname()
        self.down = False
        self.port = options.port
        self.control_port = options.control_port
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.rpc_requests = 0

    @property
    def state(self) -> str:
        return self.scenario.admin_state

    # life cycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        if self.datadir is not None:
            try:
                self.datadir.open(self.chain, self.height)
            except OSError as exc:
                raise InputError(
                    f"--data-dir: cannot write {exc.filename or ''}: {exc.strerror or exc}"
                ) from None
        self.port = await self.server.start(self.options.host, self.options.port)
        if self.options.control_host is not None:
            self.control_port = await self.control.start(
                self.options.control_host, self.options.control_port
            )
        self._spawn(self._produce())

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for stream in list(self.block_streams):
            stream.close(1001)
        await self.server.stop()
        await self.control.stop()
        if self.datadir is not None:
            self.datadir.close()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # block production ---------------------------------------------------------------------
    async def _produce(self) -> None:
        next_at = time.monotonic() + self.scenario.block_interval
        while True:
            delay = next_at - time.monotonic()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
            if self._wake.is_set():  # the interval changed: restart the schedule
                self._wake.clear()
                next_at = time.monotonic() + self.scenario.block_interval
                self._advance_visible()
                continue
            next_at += self.scenario.block_interval
            if next_at < time.monotonic():  # fell behind (a paused process): do not burst
                next_at = time.monotonic() + self.scenario.block_interval
            if self.state == "started" and not self.scenario.stalled:
                self._make_block()
                self._advance_visible()

    def produce_now(self, blocks: int) -> None:
        for _ in range(blocks):
            self._make_block()
            self._advance_visible()

    def _make_block(self) -> None:
        """A new block at the chain's head, holding (and executing) the pool's transactions."""
        height = self.chain.produce(time.time_ns() // 1000)
        records = self.ledger.seal(height)
        if records:
            self.chain.txs[height] = [r.tx for r in records]

    def _advance_visible(self) -> None:
        """Serve what the chain holds minus the lag; heights never go backwards."""
        if self.state != "started":
            return
        target = max(self.height, self.chain.head - self.scenario.lag)
        if target == self.height:
            return
        if self.datadir is not None:
            try:
                for h in range(self.height + 1, target + 1):
                    self.datadir.append(self.chain, h)
            except OSError as exc:  # keep serving; a full disk must not stop the chain
                print(f"warning: data directory writes stopped: {exc}", file=sys.stderr)
                self.datadir.close()
                self.datadir = None
        now = time.monotonic()
        self.last_block_duration_ms = int((now - self._last_block_at) * 1000)
        self._last_block_at = now
        self.height = target
        self.last_block_json = self.chain.block_json(target)
        event, self.new_block = self.new_block, asyncio.Event()
        event.set()

    # the node's API -----------------------------------------------------------------------
    def handle(self, req: Request) -> Result | Any:
        path = req.path
        if path == "/api/v3d" or path.startswith("/api/v3d/"):
            if not self.options.debug_api:
                return response(404, "debug API is disabled")  # goloop's CheckDebug
            return self._api(req, path.removeprefix("/api/v3d"), self.debug_dispatcher)
        if path == "/api/v3" or path.startswith("/api/v3/"):
            return self._api(req, path.removeprefix("/api/v3"), self.dispatcher)
        if path.startswith("/admin"):
            return self._delayed(self._admin, req)
        if path == "/metrics" and req.method == "GET":
            return response(200, self.metrics(), content_type=CONTENT_TYPE)
        return response(404, _NOT_FOUND)

    def _api(self, req: Request, rest: str, dispatcher: Dispatcher) -> Result | Any:
        """goloop's routes: POST "", "/" and "/<channel>"; GET "/<channel>/block|event"."""
        channel = self.chain.channel
        if req.method == "GET" and dispatcher is self.dispatcher:
            if rest in (f"/{channel}/block", f"/{channel}/event"):
                if req.headers.get("upgrade", "").lower() != "websocket":
                    return response(400, "Bad Request")
                return Upgrade(Monitor(self, events=rest.endswith("/event")))
            if rest.endswith(("/block", "/event")) and rest.count("/") == 2:
                return response(404, "No channel")
        if rest in ("", "/") or (rest.count("/") == 1 and rest != "/"):
            if req.method != "POST":
                return response(405, _METHOD_NOT_ALLOWED, headers=(("Allow", "POST"),))
            if rest not in ("", "/", f"/{channel}"):
                return response(404, "No channel")
            return self._delayed(lambda r: self._rpc(r, dispatcher), req)
        return response(404, _NOT_FOUND)

    def _delayed(self, fn: Callable[[Request], bytes], req: Request) -> bytes | Any:
        """Run fn now, or after the scenario's added latency (as a coroutine)."""
        if self.scenario.latency_ms <= 0:
            return fn(req)

        async def later() -> bytes:
            await asyncio.sleep(self.scenario.latency_ms / 1000)
            return fn(req)

        return later()

    def _rpc(self, req: Request, dispatcher: Dispatcher) -> bytes | Any:
        self.rpc_requests += 1
        if self.scenario.error_rate and self.random.random() < self.scenario.error_rate:
            self.dispatcher.failures["injected"] += 1
            return response(500, injected_failure(req.body), content_type=_JSON)
        answer = dispatcher.handle(req.body, Context(lambda: req.headers.get("icon-options", "")))
        if isinstance(answer, tuple):
            return _rpc_response(*answer)

        async def later() -> bytes:
            return _rpc_response(*await answer)

        return later()

    def _chain_view(self) -> dict[str, Any]:
        return {
            "cid": hex(self.chain.cid),
            "nid": hex(self.chain.nid),
            "channel": self.chain.channel,
            "state": self.state,
            "height": self.height,
            "lastError": "",
        }

    def _admin(self, req: Request) -> bytes:
        parts = [p for p in req.path.split("/") if p][1:]  # after "admin"
        if parts == ["system"] and req.method == "GET":
            return _json_response(200, self._system())
        if parts == ["chain"] and req.method == "GET":
            return _json_response(200, [self._chain_view()])
        if len(parts) in (2, 3) and parts[0] == "chain":
            selector = parts[1]
            if selector not in (hex(self.chain.cid), self.chain.channel, str(self.chain.cid)):
                return response(404, f"Chain({selector}: cid or channel) not found")
            if len(parts) == 2 and req.method == "GET":
                return _json_response(200, self._inspect())
            if len(parts) == 3 and req.method == "POST" and parts[2] in ("start", "stop"):
                return self._start_stop(parts[2])
        return response(404, _NOT_FOUND)

    def _start_stop(self, action: str) -> bytes:
        if action == "stop":
            if self.state in ("stopped", "stopping"):
                return response(500, "InvalidState: chain already stopped\n")
            self.scenario.admin_state = "stopped"
        else:
            if self.state in ("started", "starting"):
                return response(500, "InvalidState: chain already started\n")
            self.scenario.admin_state = "started"
            self._wake.set()
        return response(200, "OK")

    def _system(self) -> dict[str, Any]:
        return {
            "buildVersion": "v1.4.3-sim",
            "buildTags": "linux/amd64 tags(rocksdb)-iconctl-sim",
            "setting": {
                "address": self.chain.validator(0),
                "p2p": f"{self.options.host}:7100",
                "p2pListen": ":7100",
                "rpcAddr": f":{self.port}",
                "rpcDump": False,
            },
            "config": {
                "eeInstances": 1,
                "rpcBatchLimit": self.scenario.batch_limit,
                "rpcDefaultChannel": self.chain.channel,
                "rpcIncludeDebug": self.options.debug_api,
                "rpcRosetta": False,
                "wsMaxSession": self.scenario.ws_max_sessions,
            },
        }

    def _inspect(self) -> dict[str, Any]:
        peers = [
            {
                "id": "hx" + f"{i:040x}",
                "addr": f"10.0.{i // 250}.{i % 250 + 1}:7100",
                "in": i % 2 == 0,
                "role": 1,
            }
            for i in range(self.scenario.peers)
        ]
        # a citizen node: one parent, the rest spread over uncles and others
        parent = peers[0] if peers else {}
        view = self._chain_view()
        view.update(
            {
                "genesisTx": {"nid": hex(self.chain.nid)},
                "config": {
                    "dbType": "rocksdb",
                    "platform": "icon",
                    "seedAddress": "",
                    "role": 0,
                    "channel": self.chain.channel,
                    "secureSuites": "none,tls,ecdhe",
                    "secureAeads": "chacha,aes128,aes256",
                    "defaultWaitTimeout": 0,
                    "maxWaitTimeout": 0,
                    "txTimeout": 0,
                    "autoStart": True,
                },
                "module": {
                    "network": {
                        "p2p": {
                            "self": {
                                "id": self.chain.validator(0),
                                "addr": f"{self.options.host}:7100",
                                "in": False,
                                "role": 0,
                            },
                            "seeds": {},
                            "roots": {},
                            "friends": [],
                            "parent": parent,
                            "children": [],
                            "uncles": peers[1:3],
                            "nephews": [],
                            "others": peers[3:],
                            "orphanages": [],
                            "trustSeeds": {},
                        }
                    }
                },
            }
        )
        return view

    def metrics(self) -> bytes:
        base = [("channel", self.chain.channel), ("hostname", self.hostname)]
        exp = Exposition()
        exp.family("goloop_consensus_height", [(base, self.height)])
        exp.family("goloop_consensus_round", [(base, 0)])
        exp.family("goloop_consensus_height_duration", [(base, self.last_block_duration_ms)])
        exp.family(
            "goloop_jsonrpc_retrieve_cnt",
            [([*base, ("method", m)], n) for m, n in sorted(self.dispatcher.retrieve.items())],
        )
        exp.family("goloop_jsonrpc_call_cnt", [(base, self.dispatcher.calls)])
        exp.family(
            "goloop_jsonrpc_failure_cnt",
            [([*base, ("method", m)], n) for m, n in sorted(self.dispatcher.failures.items())],
        )
        produced = max(0, self.height - self.chain.base + self.scenario.lag)
        link = [*base, ("dest", "0xff0000"), ("protocol", "0x0300")]
        exp.family("goloop_network_recv_cnt", [(link, produced * self.scenario.peers)])
        exp.family("goloop_network_send_cnt", [(link, produced)])
        exp.family("goloop_txpool_add_cnt", [(base, 0)])
        return exp.render()

    # the control endpoint -----------------------------------------------------------------
    def handle_control(self, req: Request) -> Result | Any:
        if not req.from_loopback:
            return response(403, "forbidden: control accepts loopback clients only\n")
        try:
            if req.path == "/scenario" and req.method == "GET":
                return _json_response(200, self.status())
            if req.path == "/scenario" and req.method == "POST":
                changes = _json_object(req.body)
                interval = self.scenario.block_interval
                self.scenario.update(changes)
                if (
                    self.scenario.block_interval != interval
                    or "lag" in changes
                    or ("admin_state" in changes or "stalled" in changes)
                ):
                    self._wake.set()
                return _json_response(200, self.status())
            if req.path == "/produce" and req.method == "POST":
                blocks = _json_object(req.body).get("blocks", 1)
                if (
                    not isinstance(blocks, int)
                    or isinstance(blocks, bool)
                    or not (1 <= blocks <= 100_000)
                ):
                    raise InputError("blocks must be an integer between 1 and 100000")
                self.produce_now(blocks)
                return _json_response(200, self.status())
            if req.path == "/restart" and req.method == "POST":
                down = _json_object(req.body).get("down_seconds", 1.0)
                if (
                    not isinstance(down, int | float)
                    or isinstance(down, bool)
                    or not (0 <= down <= 3600)
                ):
                    raise InputError("down_seconds must be between 0 and 3600")
                self._spawn(self._restart(float(down)))
                return _json_response(202, {"restarting": True, "down_seconds": down})
        except InputError as exc:
            return _json_response(400, {"error": exc.message})
        return _json_response(
            404,
            {
                "error": "unknown control path",
                "paths": ["GET /scenario", "POST /scenario", "POST /produce", "POST /restart"],
            },
        )

    async def _restart(self, down_seconds: float) -> None:
        """Go away like a restarting node: listener closed, connections dropped, then back."""
        self.down = True
        await self.server.stop()
        await asyncio.sleep(down_seconds)
        self.server = HTTPServer(self.handle)
        for _ in range(50):
            try:
                await self.server.start(self.options.host, self.port)
                break
            except OSError:
                await asyncio.sleep(0.1)
        self.down = False

    def status(self) -> dict[str, Any]:
        return {
            "scenario": asdict(self.scenario),
            "height": self.height,
            "head": self.chain.head,
            "state": self.state,
            "down": self.down,
            "url": self.url,
        }

    @property
    def url(self) -> str:
        return f"http://{_hostport(self.options.host, self.port)}/api/v3"

    @property
    def control_url(self) -> str | None:
        if self.options.control_host is None:
            return None
        return f"http://{_hostport(self.options.control_host, self.control_port)}"


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _json_response(status: int, value: Any) -> bytes:
    return response(status, json.dumps(value, sort_keys=True) + "\n", content_type=_JSON)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except ValueError as exc:
        raise InputError(f"body is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InputError("body must be a JSON object")
    return value


def _rpc_response(status: int, body: bytes | None) -> bytes:
    return response(status, body or b"", content_type=_JSON)


async def serve(
    options: SimOptions, scenario: Scenario, ready: Callable[[Simulator], None]
) -> None:
    """Run until SIGTERM or SIGINT; ``ready`` is called once both listeners are up."""
    sim = Simulator(options, scenario)
    try:
        await sim.start()
    except OSError as exc:
        await sim.stop()
        raise cannot_listen(exc) from None  # one of two listeners: the error names no address
    except InputError:
        await sim.stop()
        raise
    try:
        await until_stopped(lambda: ready(sim))
    finally:
        await sim.stop()
