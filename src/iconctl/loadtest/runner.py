"""Running Locust headless against one endpoint, in its own process.

Locust (gevent) patches the standard library when imported, so it never runs inside the
iconctl process: it is started through ``iconctl.process`` as ``python -m locust`` with the
locustfile shipped in this package, in an empty working directory with a private HOME and
no LOCUST_* variables, so no stray locust.conf or pyproject.toml changes the run.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from iconctl import process
from iconctl.errors import InputError, ToolFailed, ToolNotFound
from iconctl.files import write_atomic
from iconctl.http import client
from iconctl.loadtest.report import Report, Thresholds, analyse, html_report

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
MAX_USERS = 10_000
MAX_DURATION_S = 3600
PREFLIGHT_TIMEOUT_S = 10


@dataclass(frozen=True)
class LoadTest:
    endpoint: str
    users: int = 10
    duration_s: int = 30
    ramp_s: int | None = None  # default: a third of the duration
    thresholds: Thresholds = Thresholds()
    html: Path | None = None  # where to write the HTML report

    def check(self) -> None:
        parts = urlsplit(self.endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(f"--endpoint {self.endpoint!r}: not an http(s) URL")
        if not 1 <= self.users <= MAX_USERS:
            raise InputError(f"--users {self.users}: must be between 1 and {MAX_USERS}")
        if not 1 <= self.duration_s <= MAX_DURATION_S:
            raise InputError(
                f"--duration {self.duration_s}: must be between 1 and {MAX_DURATION_S} seconds"
            )
        if self.ramp_s is not None and not 0 <= self.ramp_s <= self.duration_s:
            raise InputError(f"--ramp {self.ramp_s}: must be between 0 and --duration")
        t = self.thresholds
        if t.p95_ms is not None and t.p95_ms <= 0:
            raise InputError(f"--p95-ms {t.p95_ms:g}: must be positive")
        if t.max_error_rate is not None and not 0 <= t.max_error_rate <= 1:
            raise InputError(f"--max-error-rate {t.max_error_rate:g}: must be between 0 and 1")
        if self.html is not None and (self.html.is_dir() or self.html.parent.is_file()):
            raise InputError(f"--html {self.html}: not a file path")

    @property
    def latency_bucket_s(self) -> int:
        """Width of the report's latency time buckets: at most about 120 buckets a run."""
        return max(1, math.ceil(self.duration_s / 120))

    @property
    def spawn_rate(self) -> float:
        ramp = self.duration_s / 3 if self.ramp_s is None else self.ramp_s
        return float(self.users) if ramp <= 0 else round(max(self.users / ramp, 0.01), 3)


def preflight(endpoint: str, attempts: int = 3) -> int:
    """The endpoint's current height; InputError when it does not answer icx_getLastBlock.

    A few attempts, so one failed answer from an endpoint under test does not stop the run.
    """
    body = json.dumps({"jsonrpc": "2.0", "method": "icx_getLastBlock", "id": 1}).encode()
    reason: object = None
    for attempt in range(attempts):
        if attempt:
            time.sleep(0.5)
        try:
            status, answer_body = client.request(
                endpoint,
                method="POST",
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=PREFLIGHT_TIMEOUT_S,
            )
            if status != 200:
                raise OSError(f"HTTP {status}")
            answer = json.loads(answer_body)
            return int(answer["result"]["height"])
        except ConnectionRefusedError as exc:
            reason = exc
            break
        except (OSError, ValueError, KeyError, TypeError) as exc:
            reason = getattr(exc, "reason", None) or exc
            if isinstance(reason, ConnectionRefusedError):
                break
    raise InputError(
        f"{endpoint}: did not answer icx_getLastBlock ({reason}); is it a JSON-RPC v3 URL?"
    )


def run(test: LoadTest, *, on_line=None) -> Report:  # noqa: ANN001
    """Run the load test and return the analysed report (thresholds are judged, not raised);
    with ``html`` set, the HTML report is written there too."""
    test.check()
    if importlib.util.find_spec("locust") is None:
        raise ToolNotFound(tool="locust", hint="install it with: pip install 'iconctl[loadtest]'")
    height = preflight(test.endpoint)
    with tempfile.TemporaryDirectory(prefix="iconctl-loadtest-") as work:
        result_file = Path(work) / "result.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}
        env.update(
            HOME=work,
            ICONCTL_LOADTEST_ENDPOINT=test.endpoint,
            ICONCTL_LOADTEST_RESULT=str(result_file),
            ICONCTL_LOADTEST_HEIGHT=str(height),
            ICONCTL_LOADTEST_BUCKET_S=str(test.latency_bucket_s),
        )
        argv = [
            sys.executable, "-m", "locust",
            "--locustfile", str(LOCUSTFILE),
            "--headless", "--only-summary",
            "--users", str(test.users),
            "--spawn-rate", f"{test.spawn_rate:g}",
            "--run-time", f"{test.duration_s}s",
            "--stop-timeout", "5",
            "--exit-code-on-error", "0",
            "--loglevel", "WARNING",
        ]  # fmt: skip
        result = process.run(
            argv, step="locust", env=env, cwd=work, on_line=on_line, check=False,
            timeout=test.duration_s + 120,
        )  # fmt: skip
        if result.returncode != 0 or not result_file.exists():
            raise ToolFailed(
                step="locust", argv=argv, returncode=result.returncode, tail=result.tail
            )
        raw = json.loads(result_file.read_text(encoding="utf-8"))
    report = analyse(
        raw,
        endpoint=test.endpoint,
        users=test.users,
        duration_s=test.duration_s,
        thresholds=test.thresholds,
    )
    if test.html is not None:
        write_atomic(test.html, html_report(report))
    return report
