"""Start `iconctl sim` and `iconctl agent` as real child processes on loopback for tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from iconctl import process
from tests.helpers import free_port


class Service(process.Service):
    """A running `python -m iconctl <command> ... --json`; ``info`` is its ready line."""

    def __init__(
        self,
        *args: str,
        ready_timeout: float = 20,
        stderr: Any = subprocess.PIPE,
        max_open_files: int | None = None,
    ) -> None:
        """``stderr``: a file to write it to (a pipe fills and blocks a chatty process);
        ``max_open_files``: the process's RLIMIT_NOFILE soft limit, as systemd's would be."""

        def limit() -> None:
            import resource

            _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (max_open_files, hard))

        super().__init__(
            args[0],
            [sys.executable, "-m", "iconctl", *args, "--json"],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stderr=stderr,
            ready_timeout=ready_timeout,
            preexec_fn=limit if max_open_files else None,
        )

    def stderr(self) -> str:
        if self.proc.poll() is None or self.proc.stderr is None:
            return ""
        return self.proc.stderr.read()


def start_sim(*args: str) -> Service:
    return Service("sim", "--listen", "127.0.0.1:0", "--control-listen", "127.0.0.1:0", *args)


def start_agent(*args: str, **options: Any) -> Service:
    return Service("agent", "--listen", f"127.0.0.1:{free_port()}", *args, **options)


def http(method: str, url: str, body: Any = None, timeout: float = 5) -> tuple[int, bytes]:
    """(status, body) of one request; connection failures raise."""
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def rpc(
    url: str, method: str, params: dict[str, Any] | None = None, rid: Any = 1
) -> tuple[int, dict[str, Any]]:
    payload: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        payload["params"] = params
    status, body = http("POST", url, payload)
    return status, json.loads(body)


def control(sim: Service, path: str, body: Any = None) -> dict[str, Any]:
    method = "GET" if body is None else "POST"
    status, raw = http(method, sim.info["control_url"] + path, body)
    assert status in (200, 202), raw
    return json.loads(raw)


def wait_for(predicate, timeout: float = 10, interval: float = 0.05, message: str = "") -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message or predicate}: {last}")
