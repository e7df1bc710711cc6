"""The node side of the gateway: upstream block-monitor sessions and JSON-RPC block reads."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

import aiohttp

log = logging.getLogger("iconctl.gateway")

MAX_UPSTREAM_MESSAGE = 16 * 1024 * 1024  # a block's message with every log of a busy block
MAX_RPC_ANSWER = 16 * 1024 * 1024
RPC_TIMEOUT = 10.0
BACKOFF_FIRST = 0.2
BACKOFF_MAX = 5.0


class UpstreamError(Exception):
    pass


class Session:
    """One upstream ``/block`` monitor with a fixed filter set, from ``next_height`` on.

    Reconnects by itself (with backoff) from the height after the last one it received, so a
    lost node connection costs the clients time, never a block.
    """

    def __init__(
        self,
        url: str,
        http: aiohttp.ClientSession,
        *,
        keys: list[str],
        specs: list[dict[str, Any]],
        start: int,
        on_block: Callable[[Session, dict[str, Any], int], None],
        on_retry: Callable[[], None],
        ping_interval: float,
    ) -> None:
        self.url = url
        self.http = http
        self.keys = keys
        self.specs = specs
        self.next_height = start
        self.on_block = on_block
        self.on_retry = on_retry
        self.ping_interval = ping_interval
        self.connected = False
        self.task: asyncio.Task[None] = asyncio.ensure_future(self._run())

    def request(self) -> dict[str, Any]:
        body: dict[str, Any] = {"height": hex(self.next_height)}
        if self.specs:
            body["eventFilters"] = self.specs
            body["logs"] = "0x1"
        return body

    async def _run(self) -> None:
        backoff = BACKOFF_FIRST
        while True:
            try:
                await self._session()
                backoff = BACKOFF_FIRST
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - whatever the node sent, retry; never die
                log.warning("upstream monitor %s: %s", self.url, exc or type(exc).__name__)
            self.connected = False
            self.on_retry()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)

    async def _session(self) -> None:
        async with self.http.ws_connect(
            self.url,
            heartbeat=self.ping_interval,
            max_msg_size=MAX_UPSTREAM_MESSAGE,
            timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=5.0),
            autoclose=True,
        ) as ws:
            await ws.send_str(json.dumps(self.request(), separators=(",", ":")))
            first = await asyncio.wait_for(ws.receive(), 30)
            if first.type != aiohttp.WSMsgType.TEXT:
                raise UpstreamError("the node closed the monitor before answering")
            answer = json.loads(first.data)
            if not isinstance(answer, dict) or answer.get("code") != 0:
                raise UpstreamError(f"the node refused the monitor: {first.data.strip()}")
            self.connected = True
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                note = json.loads(message.data)
                if not isinstance(note, dict) or not isinstance(note.get("height"), str):
                    raise UpstreamError("unexpected message from the node")
                height = int(note["height"], 16)
                if height != self.next_height or not isinstance(note.get("hash"), str):
                    raise UpstreamError(f"expected block {self.next_height}, got {height}")
                self.next_height = height + 1
                self.on_block(self, note, len(message.data))
            raise UpstreamError("the node closed the monitor")

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task
        self.connected = False


async def rpc_call(
    http: aiohttp.ClientSession, url: str, method: str, params: dict[str, Any] | None = None
) -> Any:
    """One JSON-RPC call to the node, bounded in time and size; the ``result`` or UpstreamError."""
    body: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": 1}
    if params is not None:
        body["params"] = params
    try:
        async with http.post(
            url, json=body, timeout=aiohttp.ClientTimeout(total=RPC_TIMEOUT)
        ) as resp:
            raw = await resp.content.read(MAX_RPC_ANSWER + 1)
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise UpstreamError(f"{method}: {exc or type(exc).__name__}") from None
    if len(raw) > MAX_RPC_ANSWER:
        raise UpstreamError(f"{method}: answer larger than {MAX_RPC_ANSWER} bytes")
    try:
        answer = json.loads(raw)
    except (ValueError, RecursionError):
        raise UpstreamError(f"{method}: the node's answer is not JSON") from None
    if not isinstance(answer, dict) or "result" not in answer:
        raise UpstreamError(f"{method}: {str(answer)[:200]}")
    return answer["result"]
