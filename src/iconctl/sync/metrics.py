"""node_exporter textfile metrics for snapshot and restore runs.

The alert rules rely on these exact names (the metric catalogue holds them and their help
texts). Each run updates the series of its own operation and outcome and keeps every other
series as it was, so one file can serve both operations.
"""

from __future__ import annotations

import time
from pathlib import Path

from iconctl.exposition import Exposition, samples
from iconctl.files import write_atomic

NAMES = (
    "icon_sync_last_success_timestamp_seconds",
    "icon_sync_last_failure_timestamp_seconds",
    "icon_sync_last_duration_seconds",
    "icon_sync_last_bytes_transferred",
)


def _read(path: Path) -> dict[tuple[str, str], float]:
    """The series of an earlier run, by (name, operation); nothing from an unreadable file."""
    values: dict[tuple[str, str], float] = {}
    try:
        for name, labels, value in samples(path.read_text(encoding="utf-8")):
            operation = labels.get("operation")
            if name in NAMES and operation is not None and operation.isalpha():
                values[(name, operation)] = value
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return values


def write_metrics(
    path: Path,
    operation: str,
    *,
    ok: bool,
    duration: float,
    bytes_transferred: int,
    now: float | None = None,
) -> None:
    """Update ``operation``'s series in the textfile at ``path`` (atomically: temp + rename)."""
    now = time.time() if now is None else now
    values = _read(path)
    stamp = NAMES[0] if ok else NAMES[1]
    values[(stamp, operation)] = round(now, 3)
    values[(NAMES[2], operation)] = round(duration, 3)
    values[(NAMES[3], operation)] = int(bytes_transferred)
    exp = Exposition()
    for name in NAMES:
        exp.family(
            name,
            [([("operation", op)], value) for (metric, op), value in sorted(values.items())
             if metric == name],
        )  # fmt: skip
    write_atomic(path, exp.render(), mode=0o644)
