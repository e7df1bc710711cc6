"""node_exporter textfile metrics for snapshot and restore runs.

The alert rules rely on these exact names. Each run updates the series of its own operation
and outcome and keeps every other series as it was, so one file can serve both operations.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from iconctl.files import write_atomic

METRICS = {
    "icon_sync_last_success_timestamp_seconds": "Unix time of the last successful sync operation.",
    "icon_sync_last_failure_timestamp_seconds": "Unix time of the last failed sync operation.",
    "icon_sync_last_duration_seconds": "Duration of the last sync operation, in seconds.",
    "icon_sync_last_bytes_transferred": "Bytes uploaded or downloaded by the last sync operation.",
}
_LINE = re.compile(r'^(icon_sync_[a-z_]+)\{operation="([a-z]+)"\}\s+(\S+)\s*$')


def _read(path: Path) -> dict[tuple[str, str], str]:
    values: dict[tuple[str, str], str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return values
    for line in text.splitlines():
        m = _LINE.match(line)
        if m and m.group(1) in METRICS:
            values[(m.group(1), m.group(2))] = m.group(3)
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
    stamp = (
        "icon_sync_last_success_timestamp_seconds"
        if ok
        else "icon_sync_last_failure_timestamp_seconds"
    )
    values[(stamp, operation)] = f"{now:.3f}"
    values[("icon_sync_last_duration_seconds", operation)] = f"{duration:.3f}"
    values[("icon_sync_last_bytes_transferred", operation)] = str(int(bytes_transferred))
    lines = []
    for name, help_text in METRICS.items():
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} gauge")
        for (metric, op), value in sorted(values.items()):
            if metric == name:
                lines.append(f'{name}{{operation="{op}"}} {value}')
    write_atomic(path, "\n".join(lines) + "\n")
