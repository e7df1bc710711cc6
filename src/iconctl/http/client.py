"""Requests to peers iconctl does not control: nodes, agents, references, goloop's admin API.

Every answer is untrusted, so every read is bounded in time and size, and redirects are
never followed (a probe asks one host; a redirect is that host's answer, not a hop
elsewhere). ``request`` is the blocking client (status, probes, the sync's quiesce, the demo);
``read_bounded`` reads an aiohttp answer for the agent's asyncio loop.
"""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from typing import Any

MAX_BODY = 1 << 20  # blocking requests: JSON-RPC answers, /readyz, /metrics, admin API
MAX_ANSWER_BYTES = 4 * 1024 * 1024  # the agent: JSON-RPC, admin API and cloud API answers
MAX_METRICS_BYTES = 8 * 1024 * 1024  # the agent: goloop's /metrics, relayed
_CHUNK = 64 * 1024
USER_AGENT = "iconctl-agent"


class InvalidAnswer(ValueError):  # noqa: N818 - reads as what the peer gave
    """The peer answered, but with something no healthy node or agent sends."""


class AnswerTooLarge(RuntimeError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"answer too large (over {limit // (1024 * 1024)} MiB)")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def request(
    url: str,
    *,
    method: str = "GET",
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float,
    max_body: int = MAX_BODY,
) -> tuple[int, bytes]:
    """Status and body of one request (callers check the URL is http(s)), the whole answer
    within ``timeout`` seconds and ``max_body`` bytes. An HTTP error status is an answer, not
    an exception. Raises OSError (no answer, cut short, too slow) or InvalidAnswer (not HTTP,
    too large)."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)  # noqa: S310
    deadline = time.monotonic() + timeout
    try:
        try:
            with _OPENER.open(req, timeout=timeout) as response:
                return response.status, _read(response, deadline, max_body)
        except urllib.error.HTTPError as exc:
            return exc.code, _read(exc, deadline, max_body)
    except OSError:
        raise
    except http.client.IncompleteRead:
        raise ConnectionResetError("answer cut short") from None
    except http.client.HTTPException as exc:  # a bad status line, endless headers, ...
        raise InvalidAnswer(f"not an HTTP answer ({type(exc).__name__})") from None


def get_text(url: str, timeout: float) -> tuple[int, str]:
    """Status and body of a GET, as text."""
    status, body = request(url, timeout=timeout)
    return status, body.decode("utf-8", "replace")


def _read(response: Any, deadline: float, limit: int) -> bytes:
    """The body, refused above ``limit`` and cut off at the deadline (a peer that trickles
    bytes never exceeds the socket timeout between two of them)."""
    chunks: list[bytes] = []
    size = 0
    read = getattr(response, "read1", response.read)
    while chunk := read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise InvalidAnswer(f"answer larger than {limit >> 10} KiB")
        if time.monotonic() > deadline:
            raise TimeoutError("answer too slow")
        chunks.append(chunk)
    return b"".join(chunks)


def session(timeout: float, *, connections: int = 100) -> Any:
    """The agent's aiohttp session (create it inside the running loop): ``timeout`` seconds
    for each whole request, at most ``connections`` open at once, DNS answers kept a minute."""
    import aiohttp

    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout),
        connector=aiohttp.TCPConnector(limit=connections, ttl_dns_cache=60),
        headers={"User-Agent": USER_AGENT},
    )


async def read_bounded(resp: Any, limit: int = MAX_ANSWER_BYTES) -> bytes:
    """The body of an aiohttp response, at most ``limit`` bytes, else AnswerTooLarge: a
    declared length above the cap is refused before any of the body is read, an undeclared
    one as soon as the cap is crossed, and the connection is closed instead of drained."""
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
