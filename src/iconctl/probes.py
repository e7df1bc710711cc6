"""The HTTP probes `iconctl status` and the status page share.

A node's last block through its JSON-RPC endpoint, and an agent's readiness and gauges. Every
answer is untrusted: each request (``iconctl.http.client``) is bounded in time (``timeout``
for the whole answer) and size, and what comes back is checked before anyone uses it. A
failure raises
``OSError`` (including ``urllib.error.URLError``: the peer did not answer, or answered with an
HTTP error status) or ``InvalidAnswer`` (it answered with something no node or agent sends:
not HTTP, not JSON-RPC, non-finite or impossible numbers); the callers decide what either
means for their report.
"""

from __future__ import annotations

import json
import math
import threading
import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from prometheus_client.utils import floatToGoString

from iconctl import exposition
from iconctl.console import printable
from iconctl.http import client
from iconctl.http.client import InvalidAnswer

MAX_REASON = 200  # characters of an agent's own words that reports keep
MAX_HEIGHT = 2**53  # a float gauge holds every integer up to here; no chain comes near it
MAX_TIME_STAMP = 2**63 - 1  # goloop's time stamps are int64 microseconds
LAST_BLOCK = {"jsonrpc": "2.0", "method": "icx_getLastBlock", "id": 1}
# The agent gauges reports use, and the values they can possibly take.
GAUGE_BOUNDS = {
    "icon_node_block_height": (0.0, float(MAX_HEIGHT)),
    "icon_node_lag_blocks": (-float(MAX_HEIGHT), float(MAX_HEIGHT)),
    "icon_node_last_block_age_seconds": (-3600.0, 100 * 365 * 86_400.0),  # clocks differ
    "icon_agent_draining": (0.0, 1.0),
}

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class LastBlock:
    height: int
    time_stamp: float  # seconds since the epoch (the chain gives microseconds)
    latency_ms: float  # of the whole request

    def age(self, now: float | None = None) -> float:
        """Seconds since the block was made; never negative (clocks differ)."""
        return max(0.0, (time.time() if now is None else now) - self.time_stamp)


def last_block(url: str, timeout: float) -> LastBlock:
    """``icx_getLastBlock`` on a JSON-RPC v3 URL (callers check it is http(s))."""
    started = time.perf_counter()
    status, body = client.request(
        url,
        method="POST",
        data=json.dumps(LAST_BLOCK).encode(),
        headers={"Content-Type": "application/json"},
        timeout=timeout,
    )
    if status >= 400:
        raise urllib.error.HTTPError(url, status, "error status", None, None)  # type: ignore[arg-type]
    return parse_last_block(body, (time.perf_counter() - started) * 1000)


def parse_last_block(body: bytes, latency_ms: float) -> LastBlock:
    """The block in an ``icx_getLastBlock`` answer, or InvalidAnswer saying what is wrong."""
    try:
        answer = json.loads(body)
    except RecursionError:
        raise InvalidAnswer("not JSON-RPC: nested too deeply") from None
    except ValueError:
        raise InvalidAnswer("not JSON-RPC: not JSON") from None
    block = answer.get("result") if isinstance(answer, dict) else None
    if not isinstance(block, dict):
        error = answer.get("error") if isinstance(answer, dict) else None
        detail = f" (error {printable(json.dumps(error), 80)})" if error is not None else ""
        raise InvalidAnswer(f"no block in the answer{detail}")
    height = _integer(block.get("height"), "height", MAX_HEIGHT)
    stamp = _integer(block.get("time_stamp"), "time_stamp", MAX_TIME_STAMP)
    return LastBlock(height, stamp / 1e6, latency_ms)


def _integer(value: Any, name: str, highest: int) -> int:
    if type(value) is not int:  # not bool, not a float, not a string
        raise InvalidAnswer(f"block {name} {printable(repr(value), 40)} is not an integer")
    if not 0 <= value <= highest:
        raise InvalidAnswer(f"block {name} {printable(str(value), 40)} is impossible")
    return value


def gauges(text: str) -> dict[str, float]:
    """The unlabelled samples of a Prometheus text exposition, by metric name (NaN and
    infinities included: see ``agent_gauges`` for the checked ones). Parsed by
    prometheus_client: a text that is not an exposition is an InvalidAnswer."""
    values: dict[str, float] = {}
    try:
        for name, labels, value in exposition.samples(text):
            if not labels:
                values[name] = value
    except ValueError as exc:
        raise InvalidAnswer(f"not a Prometheus exposition ({printable(str(exc), 80)})") from None
    return values


def agent_gauges(text: str) -> dict[str, float]:
    """The gauges of GAUGE_BOUNDS that an agent's /metrics carries, each checked: a
    non-finite or impossible value is an InvalidAnswer naming the sample."""
    found = gauges(text)
    checked: dict[str, float] = {}
    for name, (lowest, highest) in GAUGE_BOUNDS.items():
        if name not in found:
            continue
        value = found[name]
        if not (math.isfinite(value) and lowest <= value <= highest):
            raise InvalidAnswer(f"{name} {floatToGoString(value)} is not a possible value")
        checked[name] = value
    return checked


def agent_reason(body: str) -> str:
    """An agent's own words (a /readyz body), safe to show: bounded, control characters
    escaped, the ``UNHEALTHY`` prefix dropped."""
    return printable(body.strip().removeprefix("UNHEALTHY").strip(), MAX_REASON)


def parallel(fn: Callable[[T], R], items: list[T], *, deadline_s: float) -> list[R | Exception]:
    """``fn(item)`` for every item at once, each in its own daemon thread, waiting at most
    ``deadline_s`` in total. An item whose call raised gives its exception; one still running
    at the deadline gives TimeoutError, and its thread is left to its socket timeouts (it
    dies with the process), so no peer can hold the caller past the deadline."""
    late = TimeoutError(f"no answer within {deadline_s:g} s")
    results: list[R | Exception] = [late] * len(items)

    def work(index: int, item: T) -> None:
        try:
            results[index] = fn(item)
        except Exception as exc:  # noqa: BLE001 - handed to the caller, who reports it
            results[index] = exc

    threads = [
        threading.Thread(target=work, args=(i, item), daemon=True) for i, item in enumerate(items)
    ]
    for thread in threads:
        thread.start()
    end = time.monotonic() + deadline_s
    for thread in threads:
        thread.join(max(0.0, end - time.monotonic()))
    return list(results)


def short_reason(exc: BaseException) -> str:
    """A one-line reason for a failed probe: `HTTP 503`, `timed out`, `Connection refused`."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError):
        reason = exc.reason
        text = getattr(reason, "strerror", None) or str(reason)
    elif isinstance(exc, InvalidAnswer):
        text = str(exc)
    elif isinstance(exc, OSError):
        text = exc.strerror or str(exc) or type(exc).__name__
    else:
        text = f"{type(exc).__name__}: {exc}"
    return printable(text, MAX_REASON)
