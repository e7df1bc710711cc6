"""Ansible through ansible-runner: a private_data_dir, a playbook, events streamed as they come."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from iconctl import process
from iconctl.errors import ToolFailed

# ansible-runner event types worth showing while a play runs.
_FAILED = {"runner_on_failed", "runner_on_unreachable"}


class Ansible:
    def __init__(
        self,
        private_data_dir: Path,
        *,
        step: str,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        on_line: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.private_data_dir = private_data_dir
        self.step = step
        self.log_path = log_path
        self.env = dict(env or {})
        self.on_line = on_line
        self.cancel = cancel or threading.Event()

    def run(self, playbook: Path, *, limit: str | None = None) -> dict[str, Any]:
        """Run the playbook; return per-host stats; raise ToolFailed when any host failed."""
        process.which("ansible-playbook")
        import ansible_runner  # heavy: only when a play actually runs

        failures: list[str] = []

        def on_event(event: dict[str, Any]) -> bool:
            if event.get("stdout"):
                log.write(event["stdout"] + "\n")
                log.flush()
            data = event.get("event_data", {})
            kind = event.get("event", "")
            if kind == "playbook_on_task_start" and self.on_line:
                self.on_line(f"task: {data.get('task', '')}")
            elif kind in _FAILED:
                result = data.get("res", {})
                message = result.get("msg") or result.get("stderr") or kind
                failures.append(f"{data.get('host', '?')}: {data.get('task', '')}: {message}")
            return True

        # ansible-runner's artifacts record the whole environment (secrets included): they go to
        # a private temporary directory that is removed after the run; the log keeps the output.
        with (
            self.log_path.open("a", encoding="utf-8") as log,
            tempfile.TemporaryDirectory(prefix="iconctl-ansible-") as artifacts,
        ):
            runner = ansible_runner.run(
                private_data_dir=str(self.private_data_dir),
                playbook=str(playbook),
                limit=limit,
                envvars=self.env,
                event_handler=on_event,
                cancel_callback=self.cancel.is_set,
                quiet=True,
                artifact_dir=artifacts,
                suppress_env_files=True,
            )
            status, rc, stats = runner.status, runner.rc, runner.stats or {}
        if status != "successful":
            tail = "\n".join(failures[-10:]) or f"ansible-runner status {status}"
            raise ToolFailed(
                step=f"{self.step}: ansible-playbook {playbook.name}",
                argv=["ansible-playbook", str(playbook)],
                returncode=rc if isinstance(rc, int) else 1,
                tail=tail,
            )
        return stats
