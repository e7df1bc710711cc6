import errno
import os

from iconctl.errors import ExitCode, InputError, from_os_error


def test_an_unusable_path_is_bad_input() -> None:
    error = from_os_error(FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), "/nope"))
    assert isinstance(error, InputError) and error.exit_code == ExitCode.INVALID_INPUT
    assert error.lines() == ["/nope: No such file or directory"]


def test_a_full_disk_is_the_machine_failing() -> None:
    error = from_os_error(OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/data/x.ldb"))
    assert not isinstance(error, InputError) and error.exit_code == ExitCode.INTERNAL
    assert error.lines() == ["/data/x.ldb: No space left on device"]
    assert from_os_error(OSError(errno.EIO, "Input/output error")).lines() == ["Input/output error"]
