import errno
import os

from iconctl.errors import ExitCode, InputError, RemoteFailed, ToolFailed, from_os_error


def test_an_unusable_path_is_bad_input() -> None:
    error = from_os_error(FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), "/nope"))
    assert isinstance(error, InputError) and error.exit_code == ExitCode.INVALID_INPUT
    assert error.lines() == ["/nope: No such file or directory"]


def test_a_full_disk_is_the_machine_failing() -> None:
    error = from_os_error(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/data/x.ldb"))
    assert not isinstance(error, InputError) and error.exit_code == ExitCode.INTERNAL
    assert error.lines() == ["/data/x.ldb: No space left on device"]
    assert from_os_error(OSError(errno.EIO, "Input/output error")).lines() == ["Input/output error"]


def test_a_remote_failure_names_the_request_not_a_tool() -> None:
    exc = RemoteFailed(
        step="goloop admin POST /stop",
        target="http://127.0.0.1:9/admin/chain/0x1/stop",
        status=500,
        detail="boom\x1b[2J" + "x" * 1000,
    )
    assert exc.exit_code == ExitCode.TOOL_FAILED and not isinstance(exc, ToolFailed)
    (line,) = exc.lines()
    assert line.startswith(
        "goloop admin POST /stop failed: http://127.0.0.1:9/admin/chain/0x1/stop "
        "answered HTTP 500: boom\\x1b[2J"
    )
    assert len(line) < 450  # the peer's words are cut short
    assert exc.to_json()["status"] == 500 and "argv" not in exc.to_json()
    unanswered = RemoteFailed(step="s", target="http://h/x", detail="connection refused")
    assert unanswered.message == "s failed: http://h/x: connection refused"
