"""The Ansible runner for real: ansible-runner driving ansible-playbook on localhost, with the
plumbing every runner shares (environment, log, live line, errors, cancel)."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest

from iconctl.errors import ExitCode, ToolFailed
from iconctl.runners.ansible import Ansible
from tests.helpers import need_tool

pytestmark = pytest.mark.timeout(300)

PLAY = """
- name: Runner check
  hosts: all
  gather_facts: false
  tasks:
    - name: Write the marker from the environment
      ansible.builtin.copy:
        content: "{{ lookup('ansible.builtin.env', 'ICONCTL_RUNNER_MARK') }}"
        dest: "{{ out }}"
        mode: "0600"
    - name: Write the pipelining setting in force
      ansible.builtin.copy:
        content: "{{ lookup('ansible.builtin.config', 'ANSIBLE_PIPELINING') }}"
        dest: "{{ out }}.pipelining"
        mode: "0600"
    - name: Fail on purpose
      ansible.builtin.fail:
        msg: broken on purpose
      when: fail | bool
    - name: Wait a long time
      ansible.builtin.command: sleep 30
      changed_when: false
      when: wait | bool
"""


def _runner(tmp_path: Path, seen: list[str], **extra: object) -> Ansible:
    need_tool("ansible-playbook")
    private = tmp_path / "private"
    (private / "inventory").mkdir(parents=True)
    hosts = {"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
    }}}}  # fmt: skip
    (private / "inventory" / "hosts.yml").write_text(json.dumps(hosts))
    return Ansible(
        private,
        step="demo config",
        log_path=tmp_path / "config.log",
        env={"ICONCTL_RUNNER_MARK": "from-the-runner-env"},
        on_line=seen.append,
        **extra,  # type: ignore[arg-type]
    )


def _playbook(tmp_path: Path, *, fail: bool = False, wait: bool = False) -> Path:
    path = tmp_path / ("fail.yml" if fail else "wait.yml" if wait else "site.yml")
    path.write_text(PLAY)
    (tmp_path / "private" / "env").mkdir(exist_ok=True)
    extravars = {"out": str(tmp_path / "marker"), "fail": fail, "wait": wait}
    (tmp_path / "private" / "env" / "extravars").write_text(json.dumps(extravars))
    return path


def test_a_play_gets_the_environment_logs_its_output_and_reports_tasks(tmp_path: Path) -> None:
    seen: list[str] = []
    runner = _runner(tmp_path, seen)
    stats = runner.run(_playbook(tmp_path))
    assert (tmp_path / "marker").read_text() == "from-the-runner-env"
    assert "task: Write the marker from the environment" in seen
    log = (tmp_path / "config.log").read_text()
    assert "TASK [Write the marker from the environment]" in log
    assert "\x1b[" not in log, "the log carries colour codes"
    assert stats["changed"] == {"localhost": 2}
    # the shipped ansible.cfg is in force, as in make e2e and the image build
    assert (tmp_path / "marker.pipelining").read_text() == "True"


def test_a_config_the_caller_names_wins_over_the_shipped_one(tmp_path: Path) -> None:
    runner = _runner(tmp_path, [])
    assert runner.environment()["ANSIBLE_CONFIG"].endswith("/ansible/ansible.cfg")
    runner.env = {"ANSIBLE_CONFIG": str(tmp_path / "mine.cfg")}
    assert runner.environment()["ANSIBLE_CONFIG"] == str(tmp_path / "mine.cfg")


def test_a_failed_host_is_a_tool_failure_naming_the_step_and_the_log(tmp_path: Path) -> None:
    runner = _runner(tmp_path, [])
    with pytest.raises(ToolFailed) as caught:
        runner.run(_playbook(tmp_path, fail=True))
    error = caught.value
    assert error.exit_code == ExitCode.TOOL_FAILED
    assert error.step == "demo config: ansible-playbook fail.yml"
    assert error.argv[0].endswith("/ansible-playbook") and Path(error.argv[0]).is_absolute()
    assert "localhost: Fail on purpose: broken on purpose" in error.tail
    assert error.log_path == str(tmp_path / "config.log")
    assert f"full output: {tmp_path / 'config.log'}" in error.message


def test_cancel_stops_a_running_play(tmp_path: Path) -> None:
    cancel = threading.Event()
    seen: list[str] = []

    def on_line(line: str) -> None:
        seen.append(line)
        if line == "task: Wait a long time":
            threading.Timer(1.0, cancel.set).start()

    runner = _runner(tmp_path, seen, cancel=cancel)
    runner.on_line = on_line
    started = time.monotonic()
    with pytest.raises(ToolFailed, match="ansible-runner status canceled"):
        runner.run(_playbook(tmp_path, wait=True))
    assert time.monotonic() - started < 60, "the play ran on after cancel was set"
