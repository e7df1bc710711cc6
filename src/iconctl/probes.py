"""The HTTP probes `iconctl status` and the status page share.

A node's last block through its JSON-RPC endpoint, and an agent's readiness and gauges. Each
call is bounded by a timeout and a body size, and raises ``OSError`` (including
``urllib.error.URLError``), ``ValueError`` or ``KeyError`` for an answer it cannot use; the
callers decide what that means for their report.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

MAX_BODY = 1 << 20
LAST_BLOCK = {"jsonrpc": "2.0", "method": "icx_getLastBlock", "id": 1}


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
    request = urllib.request.Request(  # noqa: S310 - callers allow http(s) only
        url,
        data=json.dumps(LAST_BLOCK).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        body = response.read(MAX_BODY)
    latency_ms = (time.perf_counter() - started) * 1000
    block = json.loads(body)["result"]
    return LastBlock(int(block["height"]), int(block["time_stamp"]) / 1e6, latency_ms)


def get_text(url: str, timeout: float) -> tuple[int, str]:
    """Status and body of a GET; an HTTP error status is an answer, not an exception."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read(MAX_BODY).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(MAX_BODY).decode("utf-8", "replace")


def gauges(text: str) -> dict[str, float]:
    """The unlabelled samples of a Prometheus text exposition, by metric name."""
    values: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, rest = line.partition(" ")
        if "{" in name:
            continue
        try:
            value = float(rest.split()[0])
        except (ValueError, IndexError):
            continue
        if value == value:  # NaN means "no value"
            values[name] = value
    return values


def short_reason(exc: BaseException) -> str:
    """A one-line reason for a failed probe: `HTTP 503`, `timed out`, `Connection refused`."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError):
        reason = exc.reason
        return getattr(reason, "strerror", None) or str(reason)
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"
