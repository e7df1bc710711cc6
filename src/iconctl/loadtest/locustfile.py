"""The ICON method mix as a Locust user class; Locust loads this file, iconctl never imports it.

Configuration comes from the environment ``iconctl loadtest`` sets (endpoint, result file,
starting height). Every response is checked the way a wallet or explorer would check it: HTTP
200, a JSON body, no JSON-RPC ``error`` object, and for a batch one answer per request. When
Locust quits, the per-second counts and Locust's own statistics go to the result file as JSON.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import defaultdict
from pathlib import Path

from locust import FastHttpUser, constant, events, task

from iconctl.files import write_atomic

ENDPOINT = os.environ["ICONCTL_LOADTEST_ENDPOINT"]
RESULT_FILE = os.environ["ICONCTL_LOADTEST_RESULT"]
START_HEIGHT = int(os.environ.get("ICONCTL_LOADTEST_HEIGHT", "0"))
# A contract every ICON 2 node serves: the chain SCORE, with a cheap read-only method.
CALL_TARGET = "cx0000000000000000000000000000000000000000"
CALL_METHOD = "getStepPrice"
HEADERS = {"Content-Type": "application/json"}

# second (unix time) -> [successes, failures, highest user count seen in that second]
_seconds: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
# (start of a time bucket, request name) -> {latency rounded as Locust rounds it: count}; the
# bucket width grows with the run so a long run keeps at most ~120 buckets per name
BUCKET_S = max(1, int(os.environ.get("ICONCTL_LOADTEST_BUCKET_S", "1")))
_latency: dict[tuple[int, str], dict[int, int]] = defaultdict(lambda: defaultdict(int))
_state = {"height": START_HEIGHT}


@events.request.add_listener
def _count(request_type, name, response_time, response_length, exception=None, **kw):  # noqa: ANN001, ARG001
    now = int(time.time())
    bucket = _seconds[now]
    bucket[1 if exception else 0] += 1
    _latency[(now - now % BUCKET_S, name)][_rounded(response_time)] += 1
    runner = getattr(_count, "runner", None)
    if runner is not None:
        bucket[2] = max(bucket[2], runner.user_count)


def _rounded(ms: float) -> int:
    """Two significant digits above 100 ms, as Locust's own percentiles round them."""
    if ms < 100:
        return round(ms)
    return int(round(ms, -1) if ms < 1000 else round(ms, -2))


@events.init.add_listener
def _keep_runner(environment, **kw):  # noqa: ANN001, ARG001
    _count.runner = environment.runner


@events.quitting.add_listener
def _write_result(environment, **kw):  # noqa: ANN001, ARG001
    stats = environment.stats

    def entry(e) -> dict:  # noqa: ANN001
        return {
            "requests": e.num_requests,
            "failures": e.num_failures,
            "avg_ms": e.avg_response_time,
            "max_ms": e.max_response_time,
            "p50_ms": e.get_response_time_percentile(0.5),
            "p95_ms": e.get_response_time_percentile(0.95),
            "p99_ms": e.get_response_time_percentile(0.99),
        }

    result = {
        "total": entry(stats.total),
        "methods": {name: entry(e) for (name, _kind), e in sorted(stats.entries.items())},
        "errors": sorted(
            (
                {"name": e.name, "error": str(e.error), "count": e.occurrences}
                for e in stats.errors.values()
            ),
            key=lambda e: -e["count"],
        )[:20],
        "seconds": [[second, *counts] for second, counts in sorted(_seconds.items())],
        "latency": {
            "bucket_s": BUCKET_S,
            "rows": [
                [start, name, sorted(counts.items())]
                for (start, name), counts in sorted(_latency.items())
            ],
        },
    }
    write_atomic(Path(RESULT_FILE), json.dumps(result))


def _request(method: str, params: dict | None = None, rid: int = 1) -> dict:
    body: dict = {"jsonrpc": "2.0", "method": method, "id": rid}
    if params is not None:
        body["params"] = params
    return body


def _address() -> str:
    return f"hx{random.getrandbits(160):040x}"  # noqa: S311 - load, not crypto


def _height() -> str:
    top = _state["height"]
    return hex(random.randint(max(0, top - 1000), top))  # noqa: S311


class IconClient(FastHttpUser):
    """One client: sends the next request as soon as the previous one is answered."""

    host = ENDPOINT
    wait_time = constant(0)

    def _post(self, name: str, payload: dict | list) -> object | None:
        with self.client.post(
            ENDPOINT, data=json.dumps(payload), headers=HEADERS, name=name, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return None
            try:
                body = json.loads(response.content)
            except (TypeError, ValueError):
                response.failure("response is not JSON")
                return None
            answers = body if isinstance(payload, list) else [body]
            if not isinstance(body, list if isinstance(payload, list) else dict) or len(
                answers
            ) != (len(payload) if isinstance(payload, list) else 1):
                response.failure("wrong number of answers")
                return None
            for answer in answers:
                if not isinstance(answer, dict) or "result" not in answer:
                    error = answer.get("error", {}) if isinstance(answer, dict) else {}
                    code = error.get("code", "?") if isinstance(error, dict) else "?"
                    response.failure(f"JSON-RPC error {code}")
                    return None
            response.success()
            return body

    @task(40)
    def get_last_block(self) -> None:
        body = self._post("icx_getLastBlock", _request("icx_getLastBlock"))
        if isinstance(body, dict) and isinstance(body["result"], dict):
            height = body["result"].get("height")
            if isinstance(height, int) and height > _state["height"]:
                _state["height"] = height

    @task(20)
    def get_balance(self) -> None:
        self._post("icx_getBalance", _request("icx_getBalance", {"address": _address()}))

    @task(15)
    def call(self) -> None:
        params = {"to": CALL_TARGET, "dataType": "call", "data": {"method": CALL_METHOD}}
        self._post("icx_call", _request("icx_call", params))

    @task(15)
    def get_block_by_height(self) -> None:
        self._post("icx_getBlockByHeight", _request("icx_getBlockByHeight", {"height": _height()}))

    @task(10)
    def batch(self) -> None:
        batch = [
            _request("icx_getLastBlock", rid=1),
            _request("icx_getBalance", {"address": _address()}, rid=2),
            _request("icx_getBlockByHeight", {"height": _height()}, rid=3),
        ]
        self._post("batch[3]", batch)
