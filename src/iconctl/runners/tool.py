"""What every command-line runner shares: the step it serves (named in its errors), the log
that keeps the tool's whole output, the tool's environment, the live-line callback and the
cancel switch."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from iconctl import process
from iconctl.errors import ToolFailed


@dataclass(kw_only=True)
class ToolRunner:
    tool: ClassVar[str]

    step: str
    log_path: Path
    env: Mapping[str, str] | None = None  # replaces the process environment when given
    on_line: Callable[[str], None] | None = None
    cancel: threading.Event | None = None  # once set, the running tool is stopped

    def tool_env(self) -> dict[str, str]:
        """What the runner sets on top of ``env`` (machine-readable output, no prompts)."""
        return {}

    def environment(self) -> dict[str, str]:
        return {**(self.env if self.env is not None else os.environ), **self.tool_env()}

    def executable(self) -> str:
        """The tool's absolute path, or ToolNotFound with an install hint."""
        return process.which(self.tool)

    def step_name(self, verb: str) -> str:
        """How errors name the step: ``<step>: <tool> <verb>``."""
        return f"{self.step}: {self.tool} {verb}"

    def failed(self, verb: str, argv: Sequence[str], returncode: int, tail: str) -> ToolFailed:
        """The error for a run of ``verb`` that went wrong, pointing at the runner's log."""
        return ToolFailed(
            step=self.step_name(verb),
            argv=list(argv),
            returncode=returncode,
            tail=tail,
            log_path=str(self.log_path),
        )

    def _run(
        self,
        verb: str,
        args: Sequence[str],
        *,
        capture: bool = False,
        translate: Callable[[str], str | None] | None = None,
    ) -> process.Result:
        """``<tool> <args>``: streamed to the log and the live line (each line through
        ``translate`` first, when given), or with ``capture`` its standard output returned
        whole (machine output, kept out of the log)."""
        return process.run(
            [self.tool, *args],
            step=self.step_name(verb),
            env=self.environment(),
            log_path=None if capture else self.log_path,
            on_line=None if capture else self.on_line,
            capture=capture,
            translate=translate,
            cancel=self.cancel,
        )
