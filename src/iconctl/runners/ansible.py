"""Ansible through ansible-runner: a private_data_dir, a playbook, events streamed as they come.

The step, log, environment, live line and cancel switch are the ``ToolRunner``'s, as for
Terraform, Packer and kubectl. ansible-runner drives ``ansible-playbook`` itself (in this
process, through pexpect) and hands over its events: their output goes to the log, task
starts to the live line, failed and unreachable hosts to the error.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from iconctl.assets import assets_root
from iconctl.runners.tool import ToolRunner

# ansible-runner event types that fail a host.
_FAILED = {"runner_on_failed", "runner_on_unreachable"}
TAIL_EVENTS = 10


@dataclass
class Ansible(ToolRunner):
    """Runs playbooks against one ansible-runner private data directory.

    ansible-runner starts from this process's environment and lays ``environment()`` over it
    (it cannot be given a whole environment of its own)."""

    tool = "ansible-playbook"

    private_data_dir: Path

    def tool_env(self) -> dict[str, str]:
        """Plain output, and the shipped ansible.cfg (pipelining, the interpreter) unless the
        caller names a config of its own: the config steps run with the settings that
        ``make e2e`` and the image build run with."""
        env = {"ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
        if "ANSIBLE_CONFIG" not in (self.env if self.env is not None else os.environ):
            env["ANSIBLE_CONFIG"] = str(assets_root() / "ansible" / "ansible.cfg")
        return env

    def run(self, playbook: Path, *, limit: str | None = None) -> dict[str, Any]:
        """Run the playbook; return per-host stats; raise ToolFailed when any host failed."""
        binary = self.executable()
        import ansible_runner  # heavy: only when a play actually runs

        # ansible-runner's artifacts record the whole environment (secrets included): they go to
        # a private temporary directory that is removed after the run; the log keeps the output.
        with (
            self.log_path.open("a", encoding="utf-8") as log,
            tempfile.TemporaryDirectory(prefix="iconctl-ansible-") as artifacts,
        ):
            events = _PlayEvents(log, self.on_line)
            # never None: ansible-runner would install its own SIGINT/SIGTERM handlers
            cancel = self.cancel.is_set if self.cancel is not None else _never
            runner = ansible_runner.run(
                private_data_dir=str(self.private_data_dir),
                playbook=str(playbook),
                limit=limit,
                envvars=self.environment(),
                event_handler=events.feed,
                cancel_callback=cancel,
                quiet=True,
                artifact_dir=artifacts,
                suppress_env_files=True,
            )
            status, rc, stats = runner.status, runner.rc, runner.stats or {}
        if status != "successful":
            tail = "\n".join(events.failures[-TAIL_EVENTS:]) or f"ansible-runner status {status}"
            returncode = rc if isinstance(rc, int) and rc != 0 else 1
            raise self.failed(playbook.name, [binary, str(playbook)], returncode, tail)
        return dict(stats)


def _never() -> bool:
    return False


@dataclass
class _PlayEvents:
    """ansible-runner's events: their output to the log, task starts to the live line, and
    what failed on which host."""

    log: IO[str]
    on_line: Callable[[str], None] | None
    failures: list[str] = field(default_factory=list)

    def feed(self, event: dict[str, Any]) -> bool:
        if event.get("stdout"):
            self.log.write(event["stdout"] + "\n")
            self.log.flush()
        data = event.get("event_data", {})
        kind = event.get("event", "")
        if kind == "playbook_on_task_start" and self.on_line:
            self.on_line(f"task: {data.get('task', '')}")
        elif kind in _FAILED:
            result = data.get("res", {})
            message = result.get("msg") or result.get("stderr") or kind
            self.failures.append(f"{data.get('host', '?')}: {data.get('task', '')}: {message}")
        return True  # keep the event in ansible-runner's (temporary) artifacts
