"""Loopback ports for the servers tests start."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_port(port: int, *, proc: subprocess.Popen | None = None, timeout: float = 20.0) -> None:
    """Until something accepts connections on 127.0.0.1:``port``; RuntimeError when ``proc``
    (the server) exits first, TimeoutError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server for port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout:g}s")


@contextlib.contextmanager
def listening(
    argv: list[str], port: int, *, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen]:
    """A server process that listens on 127.0.0.1:``port``: started, waited for, yielded,
    and stopped (SIGTERM, then SIGKILL after 10 s) when the block ends."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        wait_port(port, proc=proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
