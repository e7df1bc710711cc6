"""Run the edge's nginx for real on loopback: unprivileged, every path in a temp directory."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

from tests.helpers import wait_port
from tests.integration.edge_config import loopback_config


class Edge:
    """nginx -p DIR -c DIR/nginx.conf -g 'daemon off;' in the foreground, as a child."""

    def __init__(self, workdir: Path, *, port: int, upstream: str, **overrides) -> None:
        self.workdir = workdir
        self.port = port
        self.conf = loopback_config(workdir, port=port, upstream=upstream, **overrides)
        self.proc: subprocess.Popen | None = None

    @property
    def access_log(self) -> Path:
        return self.workdir / "logs" / "access.log"

    def check(self) -> subprocess.CompletedProcess:
        return subprocess.run(self._argv("-t"), capture_output=True, text=True, timeout=30)

    def _argv(self, *extra: str) -> list[str]:
        nginx = shutil.which("nginx") or "nginx"
        return [
            nginx,
            "-p",
            str(self.workdir),
            "-c",
            str(self.conf),
            "-e",
            str(self.workdir / "logs" / "error.log"),
            *extra,
        ]

    def start(self) -> Edge:
        self.proc = subprocess.Popen(
            self._argv("-g", "daemon off;"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            wait_port(self.port, proc=self.proc, timeout=10)
        except Exception:
            self.stop()
            raise RuntimeError("nginx did not start:\n" + self.error_log()) from None
        return self

    def error_log(self) -> str:
        path = self.workdir / "logs" / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def flush_logs(self) -> None:
        """Make nginx write its buffered access log (SIGUSR1 reopens, which flushes)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGUSR1)
        time.sleep(0.3)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
