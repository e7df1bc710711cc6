"""The one place iconctl starts external programs.

argv lists only (never a shell), the tool looked up on PATH first, an explicit environment,
output streamed line by line (to a log file and an optional callback) while the last lines
are kept for the error message, and the whole process group stopped on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from iconctl.errors import IconctlError, ToolFailed, ToolNotFound

# How to get each external tool iconctl drives, shown when one is missing.
INSTALL_HINTS: dict[str, str] = {
    "terraform": "install Terraform >= 1.6 from HashiCorp's releases or your package manager",
    "packer": "install Packer >= 1.6 (Debian: apt-get install packer)",
    "gcloud": "install the Google Cloud CLI",
    "ansible-playbook": "install ansible-core >= 2.15 (pip install ansible)",
    "ansible-runner": "install ansible-runner (pip install ansible-runner)",
    "promtool": "install Prometheus (Debian: apt-get install prometheus)",
    "amtool": "install Alertmanager (Debian: apt-get install prometheus-alertmanager)",
    "nginx": "install nginx with njs (Debian: apt-get install nginx libnginx-mod-http-js)",
    "aria2c": "install aria2 (Debian: apt-get install aria2)",
    "kubectl": "install kubectl (Debian: apt-get install kubernetes-client)",
    "docker": "install Docker Engine with the compose plugin",
}

TAIL_LINES = 40
# A service's ready line is one JSON object; what comes before it is bounded too.
READY_LINE_LIMIT = 64 * 1024

# Children still running, so an interrupt in the main thread can stop those that worker
# threads started (they run in their own sessions and do not see the terminal's Ctrl-C).
_live: set[subprocess.Popen[str]] = set()
_live_lock = threading.Lock()


def stop_all(grace: float = 10.0) -> None:
    """SIGINT every running child's process group, then SIGKILL what is left after ``grace``."""
    with _live_lock:
        procs = list(_live)
    for proc in procs:
        _stop_group(proc, grace)


def _track(proc: subprocess.Popen[str], alive: bool) -> None:
    with _live_lock:
        (_live.add if alive else _live.discard)(proc)


@dataclass(frozen=True)
class Result:
    argv: list[str]
    returncode: int
    tail: str
    stdout: str = ""  # only with capture=True


def which(tool: str) -> str:
    """The absolute path of ``tool``, or ToolNotFound with an install hint."""
    path = shutil.which(tool)
    if path is None:
        raise ToolNotFound(tool=tool, hint=INSTALL_HINTS.get(tool, f"install {tool}"))
    return path


def run(
    argv: Sequence[str],
    *,
    step: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    log_path: Path | None = None,
    on_line: Callable[[str], None] | None = None,
    translate: Callable[[str], str | None] | None = None,
    check: bool = True,
    timeout: float | None = None,
    capture: bool = False,
    cancel: threading.Event | None = None,
) -> Result:
    """Run ``argv`` to completion; raise ToolFailed (with the output's tail) on a non-zero exit.

    ``env`` replaces the environment when given (callers start from ``os.environ`` on purpose);
    ``log_path`` receives the full combined output. With ``capture`` the standard output is
    returned whole in ``Result.stdout`` (for machine-readable output) and only the standard
    error is streamed. ``translate`` turns each output line (machine-readable, say) into the
    text the log, the tail and ``on_line`` get; None drops the line. Once ``cancel`` is set,
    the child's process group is stopped (the run then fails as an interrupted one does).
    """
    argv = [which(argv[0]), *argv[1:]]
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if capture else subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,  # Ctrl-C is handled here, for the whole group
    )
    _track(proc, True)
    if cancel is not None:
        threading.Thread(target=_stop_on, args=(proc, cancel), daemon=True).start()
    try:
        if capture:
            stdout, stderr = proc.communicate(timeout=timeout)
            tail = "".join(stderr.splitlines(keepends=True)[-TAIL_LINES:])
        else:
            stdout, tail = "", _stream(proc, log_path, on_line, translate)
            proc.wait(timeout=timeout)
    except (KeyboardInterrupt, subprocess.TimeoutExpired):
        _stop_group(proc)
        raise
    finally:
        _track(proc, False)
    result = Result(argv=argv, returncode=proc.returncode, tail=tail, stdout=stdout)
    if check and proc.returncode != 0:
        raise ToolFailed(
            step=step,
            argv=argv,
            returncode=proc.returncode,
            tail=tail,
            log_path=str(log_path) if log_path else None,
        )
    return result


def _stream(
    proc: subprocess.Popen[str],
    log_path: Path | None,
    on_line: Callable[[str], None] | None,
    translate: Callable[[str], str | None] | None = None,
) -> str:
    """Copy the child's output line by line to the log and the callback; return its tail."""
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    assert proc.stdout is not None
    with log_path.open("a", encoding="utf-8") if log_path else contextlib.nullcontext() as log:
        for raw in proc.stdout:
            text = translate(raw.rstrip("\n")) if translate else raw
            if text is None:
                continue
            line = text if translate is None else text + "\n"
            tail.append(line)
            if log:
                log.write(line)
                log.flush()
            if on_line:
                on_line(line.rstrip("\n"))
    return "".join(tail)


def _stop_on(proc: subprocess.Popen[str], cancel: threading.Event) -> None:
    """Stop the child's process group when ``cancel`` is set while it runs."""
    while proc.poll() is None:
        if cancel.wait(0.2):
            _stop_group(proc)
            return


def _stop_group(proc: subprocess.Popen[str], grace: float = 10.0) -> None:
    """SIGINT the child's process group, then SIGKILL it if it has not exited in time."""
    for sig, wait in ((signal.SIGINT, grace), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


class Service:
    """A long-running child (``iconctl sim``, ``agent``, ``statuspage`` ... ``--json``) whose
    first JSON line on stdout says it is ready and where it listens.

    It runs in its own session and is stopped by process group. ``stderr`` is a log file (a
    path, opened here, or an open file), ``subprocess.PIPE`` (read it once the child has
    exited) or None (inherited).
    Waiting for the ready line is bounded in time and in size; a child that exits, stays
    silent or says something else is stopped and reported with the end of its log.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        stderr: Path | int | IO[Any] | None = None,
        ready_timeout: float = 20.0,
        preexec_fn: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self.log_path = stderr if isinstance(stderr, Path) else None
        self._log: IO[str] | None = None
        errors: int | IO[Any] | None = None if isinstance(stderr, Path) else stderr
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = errors = self.log_path.open("w")
        self.proc = subprocess.Popen(
            list(argv),
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            errors="replace",
            start_new_session=True,
            preexec_fn=preexec_fn,  # noqa: PLW1509 - callers pass it only before any thread
        )
        try:
            self.info: dict[str, Any] = self._ready(ready_timeout)
        except BaseException:
            self.stop()
            raise

    def _ready(self, timeout: float) -> dict[str, Any]:
        # Raw reads of the pipe: select() sees only what the text wrapper has not buffered.
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        pending = b""
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                if line.strip().startswith(b"{"):
                    try:
                        info = json.loads(line)
                    except ValueError:
                        raise self._failed(
                            f"said {line[:200]!r} instead of its ready line"
                        ) from None
                    if isinstance(info, dict):
                        return info
            if len(pending) > READY_LINE_LIMIT:
                raise self._failed(f"wrote {READY_LINE_LIMIT} bytes without a ready line")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._failed(f"was not ready within {timeout:g}s")
            readable, _, _ = select.select([fd], [], [], remaining)
            if not readable:
                continue
            chunk = os.read(fd, READY_LINE_LIMIT)
            if not chunk:
                raise self._failed(f"exited with {self.proc.wait()} before it was ready")
            pending += chunk

    def _failed(self, what: str) -> IconctlError:
        self.stop()
        detail = ""
        if self.log_path is not None:
            tail = self.log_path.read_text(errors="replace")[-2000:].strip()
            detail = f"; see {self.log_path}" + (f":\n{tail}" if tail else "")
        elif self.proc.stderr is not None:
            detail = ": " + self.proc.stderr.read(1 << 20)[-2000:].strip()
        return IconctlError(f"{self.name} {what}{detail}")

    def send(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        """Signal the child's process group, then SIGKILL it after ``timeout``; its exit code."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self._log is not None:
            self._log.close()
        return self.proc.returncode

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
