"""Bounded reading of the answers the agent gets from the network.

Everything the agent reads comes from peers it does not control (the node can be
misconfigured, references are public, a cloud API answer passes through proxies), so no
answer is read past a few MiB: a declared length above the cap is refused before any of the
body is read, an undeclared one is refused as soon as the cap is crossed, and the connection
is closed instead of drained. ``icx_getLastBlock`` answers are a few KiB.
"""

from __future__ import annotations

from typing import Any

MAX_ANSWER_BYTES = 4 * 1024 * 1024  # JSON-RPC, admin API and cloud API answers
MAX_METRICS_BYTES = 8 * 1024 * 1024  # goloop's /metrics, relayed
_CHUNK = 64 * 1024


class AnswerTooLarge(RuntimeError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"answer too large (over {limit // (1024 * 1024)} MiB)")


async def read_bounded(resp: Any, limit: int = MAX_ANSWER_BYTES) -> bytes:
    """The body of an aiohttp response, at most ``limit`` bytes, else AnswerTooLarge."""
    declared = resp.content_length
    if declared is not None and declared > limit:
        resp.close()
        raise AnswerTooLarge(limit)
    body = bytearray()
    while True:
        chunk = await resp.content.read(_CHUNK)
        if not chunk:
            return bytes(body)
        body += chunk
        if len(body) > limit:
            resp.close()
            raise AnswerTooLarge(limit)
