"""What plan / apply / destroy report: one result per step, gathered in a report."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from iconctl.errors import ExitCode, IconctlError, UsageError


@dataclass
class StepResult:
    unit: str
    step: str
    status: str  # done | skipped | failed | planned | deferred | destroyed | interrupted
    seconds: float = 0.0
    plan: dict[str, int] | None = None
    error: str | None = None
    exit_code: int = 0
    note: str | None = None  # why a step is deferred


@dataclass
class Report:
    command: str
    run_dir: Path | None  # None when the operator declined and nothing ran
    steps: list[StepResult] = field(default_factory=list)
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return all(s.status not in ("failed", "interrupted") for s in self.steps)

    def failure(self) -> IconctlError | None:
        """The first failed step as an error carrying its exit code, or None. A run the
        operator declined at the prompt is a usage outcome (exit 2): nothing was changed."""
        if self.cancelled:
            return UsageError(f"{self.command} cancelled at the prompt; nothing was changed")
        for step in self.steps:
            if step.status == "failed":
                where = f"{step.unit} {step.step}" if step.step != "-" else step.unit
                message = step.error or "failed"
                if not message.startswith(where):
                    message = f"{where}: {message}"
                return IconctlError(message, exit_code=ExitCode(step.exit_code))
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "run_dir": str(self.run_dir) if self.run_dir else None,
            "ok": self.ok,
            "cancelled": self.cancelled,
            "steps": [asdict(s) for s in self.steps],
        }
