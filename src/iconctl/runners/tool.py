"""What every command-line runner shares: the step it serves (named in its errors), the log
that keeps the tool's whole output, the tool's environment, and the live-line callback."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from iconctl import process


@dataclass(kw_only=True)
class ToolRunner:
    tool: ClassVar[str]

    step: str
    log_path: Path
    env: Mapping[str, str] | None = None  # replaces the process environment when given
    on_line: Callable[[str], None] | None = None

    def tool_env(self) -> dict[str, str]:
        """What the runner sets on top of ``env`` (machine-readable output, no prompts)."""
        return {}

    def environment(self) -> dict[str, str]:
        return {**(self.env if self.env is not None else os.environ), **self.tool_env()}

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
            step=f"{self.step}: {self.tool} {verb}",
            env=self.environment(),
            log_path=None if capture else self.log_path,
            on_line=None if capture else self.on_line,
            capture=capture,
            translate=translate,
        )
