"""A live view of a pipeline run: one spinner line per unit with its current step or task.

On a terminal the view updates in place and milestone lines scroll above it; elsewhere (CI,
pipes, --json) every message is printed as a plain line.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any


class PipelineView:
    def __init__(self, console: Any, units: list[str]) -> None:
        self.console = console
        self.units = units
        self.live = bool(getattr(console, "is_terminal", False)) and bool(units)
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}
        self._lock = threading.Lock()  # units run in parallel threads

    def __enter__(self) -> PipelineView:
        return self

    def _start(self) -> None:
        """Start on the first message, so confirmation prompts come before the live display."""
        if self.live and self._progress is None:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("[bold]{task.fields[unit]:<18}"),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=self.console,
            )
            self._progress.__enter__()
            for unit in self.units:
                self._tasks[unit] = self._progress.add_task("waiting", unit=unit, total=None)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            for task in self._tasks.values():
                self._progress.stop_task(task)
            self._progress.__exit__(exc_type, exc, tb)

    def say(self, message: str) -> None:
        with self._lock:
            self._start()
            unit, _, rest = message.partition(": ")
            task = self._tasks.get(unit)
            if task is None:
                self.console.print(message)
                return
            self._progress.update(task, description=rest)
            if not rest.startswith("task: "):  # ansible task names only update the unit's line
                self._progress.console.print(message)
