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


def bounded_boto3_client(service: str, region: str, timeout: float) -> Any:
    """A boto3 client whose answers are read to MAX_ANSWER_BYTES, with one attempt per call.

    Credentials come from boto3's usual chain (the instance profile through IMDSv2 on a
    node); the endpoint from ``AWS_ENDPOINT_URL`` when set."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"max_attempts": 1, "mode": "standard"},
    )
    client = boto3.client(service, region_name=region, config=config)

    def send_bounded(request: Any, **_: Any) -> Any:
        """Send the SDK's request ourselves so its answer is read to a cap: left alone, the
        SDK reads a whole answer into memory however large it is."""
        request.stream_output = True  # the session must not read the body itself
        answer = client._endpoint.http_session.send(request)
        declared = answer.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
            answer.raw.close()
            raise AnswerTooLarge(MAX_ANSWER_BYTES)
        body = bytearray()
        for chunk in answer.raw.stream(_CHUNK, decode_content=False):
            body += chunk
            if len(body) > MAX_ANSWER_BYTES:
                answer.raw.close()
                raise AnswerTooLarge(MAX_ANSWER_BYTES)
        answer._content = bytes(body)
        return answer

    client.meta.events.register("before-send", send_bounded)
    return client
