"""The subprocess choke point: lookups, streaming, tails, failures."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from iconctl import process
from iconctl.errors import ExitCode, IconctlError, ToolFailed, ToolNotFound


def test_missing_tool_names_it_and_how_to_install() -> None:
    with pytest.raises(ToolNotFound) as caught:
        process.which("terraform-does-not-exist")
    assert caught.value.exit_code == ExitCode.TOOL_MISSING
    assert "terraform-does-not-exist is required" in caught.value.message


def test_known_tool_hint_names_the_version(monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ToolNotFound, match=r"Terraform >= 1\.6"):
        process.which("terraform")


def test_streams_to_log_and_callback(tmp_path: Path) -> None:
    seen: list[str] = []
    log = tmp_path / "out.log"
    code = "import sys; print('one'); print('two', file=sys.stderr)"
    result = process.run(
        [sys.executable, "-c", code], step="demo", log_path=log, on_line=seen.append
    )
    assert result.returncode == 0
    assert seen == ["one", "two"] or sorted(seen) == ["one", "two"]
    assert log.read_text().split() in (["one", "two"], ["two", "one"])


def test_translate_rewrites_what_the_log_tail_and_callback_get(tmp_path: Path) -> None:
    seen: list[str] = []
    log = tmp_path / "out.log"
    code = (
        'import sys\nprint(\'{"m": "one"}\'); print(\'drop\')\nprint(\'{"m": "two"}\')\nsys.exit(2)'
    )

    def translate(line: str) -> str | None:
        return None if line == "drop" else line.split('"')[3].upper()

    with pytest.raises(ToolFailed) as caught:
        process.run([sys.executable, "-c", code], step="demo", log_path=log,
                    on_line=seen.append, translate=translate)  # fmt: skip
    assert seen == ["ONE", "TWO"]
    assert log.read_text() == "ONE\nTWO\n"
    assert caught.value.tail == "ONE\nTWO\n"


def test_failure_carries_step_code_and_tail() -> None:
    code = "import sys\nfor i in range(100): print(f'line {i}')\nsys.exit(3)"
    with pytest.raises(ToolFailed) as caught:
        process.run([sys.executable, "-c", code], step="unit: tool verb")
    error = caught.value
    assert error.exit_code == ExitCode.TOOL_FAILED and error.returncode == 3
    assert error.message.startswith("unit: tool verb failed:")
    assert "line 99" in error.tail and "line 0\n" not in error.tail


def test_capture_keeps_stdout_whole_and_stderr_as_tail() -> None:
    code = "import sys; print('{\"a\": 1}'); print('warn', file=sys.stderr)"
    result = process.run([sys.executable, "-c", code], step="json", capture=True)
    assert result.stdout.strip() == '{"a": 1}' and result.tail.strip() == "warn"


def test_check_false_returns_the_code() -> None:
    result = process.run([sys.executable, "-c", "raise SystemExit(7)"], step="x", check=False)
    assert result.returncode == 7


# --- Service: a long-running child with a JSON ready line ---------------------------------------

READY = (
    "import json, sys, time; {before}"
    "print(json.dumps({{'url': 'http://127.0.0.1:1'}}), flush=True); time.sleep(60)"
)


def _child(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_service_reads_the_ready_line_after_other_output(tmp_path: Path) -> None:
    code = READY.format(before="print('starting', flush=True); ")
    with process.Service("sim", _child(code), stderr=tmp_path / "sim.log") as service:
        assert service.info == {"url": "http://127.0.0.1:1"}
        assert service.proc.poll() is None
    assert service.proc.returncode is not None  # stopped on leaving the block


def test_service_that_exits_first_is_reported_with_its_log(tmp_path: Path) -> None:
    code = "import sys; print('bad option --foo', file=sys.stderr); sys.exit(2)"
    with pytest.raises(IconctlError) as caught:
        process.Service("agent", _child(code), stderr=tmp_path / "agent.log")
    message = caught.value.message
    assert message.startswith("agent exited with 2 before it was ready")
    assert "bad option --foo" in message and str(tmp_path / "agent.log") in message


def test_silent_service_times_out_and_is_stopped() -> None:
    started = time.monotonic()
    with pytest.raises(IconctlError, match=r"sim was not ready within 0.5s") as caught:
        process.Service("sim", _child("import time; time.sleep(60)"), ready_timeout=0.5,
                        stderr=subprocess.PIPE)  # fmt: skip
    assert time.monotonic() - started < 10
    assert "Traceback" not in caught.value.message


def test_endless_output_without_a_ready_line_is_bounded() -> None:
    code = "import sys, time; sys.stdout.write('x' * 200000); sys.stdout.flush(); time.sleep(60)"
    with pytest.raises(IconctlError, match="without a ready line"):
        process.Service("sim", _child(code), ready_timeout=20)


def test_cancel_stops_the_child_group(tmp_path: Path) -> None:
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(ToolFailed):
        process.run(
            [sys.executable, "-c", "import time; time.sleep(60)"],
            step="demo",
            log_path=tmp_path / "out.log",
            cancel=cancel,
        )
    assert time.monotonic() - started < 15


def test_cancel_left_unset_changes_nothing(tmp_path: Path) -> None:
    result = process.run(
        [sys.executable, "-c", "print('done')"], step="demo", cancel=threading.Event()
    )
    assert result.returncode == 0 and "done" in result.tail
