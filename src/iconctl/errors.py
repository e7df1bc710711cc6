"""Every error iconctl reports to a user, with the exit code the CLI contract gives it.

Library code raises these; only the CLI turns them into exit codes (see ``cli.run``).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    INTERNAL = 1
    USAGE = 2
    INVALID_INPUT = 3
    TOOL_MISSING = 4
    TOOL_FAILED = 5
    INTEGRITY = 6
    CHECK_FAILED = 7
    INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


class IconctlError(Exception):
    """Base class: a message a user can act on and the exit code it maps to."""

    exit_code: ExitCode = ExitCode.INTERNAL
    prefix = "error: "  # printed before each line; spec problems carry their own location

    def __init__(self, message: str, *, exit_code: ExitCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code

    def lines(self) -> list[str]:
        """The lines printed to the user, one problem per line."""
        return [self.message]

    def to_json(self) -> dict[str, object]:
        """What ``--json`` prints on stdout when the command fails."""
        return {"error": self.message, "exit_code": int(self.exit_code)}


class UsageError(IconctlError):
    exit_code = ExitCode.USAGE


class InputError(IconctlError):
    """Invalid input that is not a spec file: a bad flag value, a malformed URL, ..."""

    exit_code = ExitCode.INVALID_INPUT


# A path the user gave that cannot be used is bad input; anything else (a full disk, an I/O
# error) is the machine's failure, reported as plainly but with exit 1.
_PATH_ERRNOS = frozenset(
    {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.EACCES, errno.EPERM,
     errno.EROFS, errno.ENAMETOOLONG, errno.ELOOP}
)  # fmt: skip


def from_os_error(exc: OSError) -> IconctlError:
    """A one-line error for an ``OSError`` no command turned into a message of its own."""
    where = f"{exc.filename}: " if exc.filename is not None else ""
    message = f"{where}{exc.strerror or exc}"
    if exc.errno in _PATH_ERRNOS:
        return InputError(message)
    return IconctlError(message)


@dataclass(frozen=True)
class SpecProblem:
    """One problem in a spec file, located by file, line and dotted field path."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class SpecError(IconctlError):
    """One or more problems in a spec; each is printed on its own line."""

    exit_code = ExitCode.INVALID_INPUT
    prefix = ""

    def __init__(self, *, problems: list[SpecProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]

    def to_json(self) -> dict[str, object]:
        return {
            **super().to_json(),
            "problems": [
                {"file": p.file, "line": p.line, "path": p.path, "message": p.message}
                for p in self.problems
            ],
        }


class ToolNotFound(IconctlError):
    exit_code = ExitCode.TOOL_MISSING

    def __init__(self, *, tool: str, hint: str) -> None:
        self.tool = tool
        self.hint = hint
        super().__init__(f"{tool} is required but was not found on PATH; {hint}")


class Interrupted(IconctlError):
    """Ctrl-C during a run: children were stopped; the message says how to continue."""

    exit_code = ExitCode.INTERRUPTED


class ToolFailed(IconctlError):
    exit_code = ExitCode.TOOL_FAILED

    def __init__(
        self,
        *,
        step: str,
        argv: list[str],
        returncode: int,
        tail: str,
        log_path: str | None = None,
    ) -> None:
        self.step = step
        self.argv = argv
        self.returncode = returncode
        self.tail = tail
        self.log_path = log_path
        tool = argv[0].rsplit("/", 1)[-1] if argv else "the tool"
        message = f"{step} failed: {tool} exited {returncode}"
        said = tool_errors(tail)
        if said:
            message += "\n" + said
        if log_path:
            message += f"\nfull output: {log_path}"
        super().__init__(message)

    def to_json(self) -> dict[str, object]:
        return {**super().to_json(), "step": self.step, "argv": self.argv, "log": self.log_path}


class RemoteFailed(IconctlError):
    """A remote service failed a request: a node's admin API, a store, an endpoint. Exit 5,
    like a failed tool (the contract's "an external tool failed"), but described as what it
    was: the step, the URL or object, the HTTP status when there was one, and what came back
    (escaped and cut short: it is the peer's text)."""

    exit_code = ExitCode.TOOL_FAILED

    def __init__(self, *, step: str, target: str, detail: str, status: int | None = None) -> None:
        from iconctl.console import printable

        self.step = step
        self.target = target
        self.status = status
        self.detail = printable(detail, 300)
        answered = f" answered HTTP {status}" if status is not None else ""
        said = f": {self.detail}" if self.detail else ""
        super().__init__(f"{step} failed: {target}{answered}{said}")

    def to_json(self) -> dict[str, object]:
        return {
            **super().to_json(),
            "step": self.step,
            "target": self.target,
            "status": self.status,
        }


# The first line of what a tool says when it fails: Terraform's and Packer's "Error: ...",
# Ansible's "fatal: [...]" and "ERROR! ...", Packer's "Build '...' errored".
_ERROR_START = ("Error:", "Error ", "fatal:", "ERROR!", "ERROR:", "error:")


def tool_errors(tail: str, limit: int = 25) -> str:
    """The tool's own error lines from the end of its output: from the first line that starts
    an error (Terraform's `Error:` blocks, Ansible's `fatal:`), else the last few lines."""
    lines = [line.rstrip() for line in tail.splitlines()]
    for index, line in enumerate(lines):
        stripped = line.lstrip("│╷╵ ").lstrip()
        if stripped.startswith(_ERROR_START) or "errored" in stripped:
            chosen = [ln for ln in lines[index:] if ln.strip(" │╷╵")]
            return "\n".join(chosen[:limit])
    return "\n".join([ln for ln in lines if ln.strip()][-8:])


class IntegrityError(IconctlError):
    """Sync verification failed, or a snapshot or manifest was refused."""

    exit_code = ExitCode.INTEGRITY

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class CheckFailed(IconctlError):
    """What was checked is unhealthy: a region with no ready node, a broken load-test threshold.

    Not in the original contract's list (0-6), which has no code for "the command worked and the
    answer is no"; see docs/cli.md.
    """

    exit_code = ExitCode.CHECK_FAILED
