"""The page's memory: probe history (for uptime) and incidents (from Alertmanager webhooks).

Both are JSON files beside the site, bounded in size, always replaced atomically. Webhook
content is untrusted: only known fields are kept, strings are cut short, and the page
escapes everything it shows.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from iconctl.errors import InputError
from iconctl.files import write_atomic

MAX_SAMPLES = 20_000  # ~70 days at one build every 5 minutes
MAX_INCIDENTS = 500
MAX_TEXT = 300
DAY = 86_400


def _read(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default
    except ValueError as exc:
        raise InputError(f"{path}: not valid JSON ({exc}); move it away to start afresh") from None


def append_sample(path: Path, t: float, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    samples = _read(path, [])
    # milliseconds, rounded down: a sample is never later than the build that shows it
    samples.append(
        {"t": math.floor(t * 1000) / 1000, "s": {r["name"]: r["status"] for r in results}}
    )
    samples = samples[-MAX_SAMPLES:]
    write_atomic(path, json.dumps(samples, separators=(",", ":")))
    return samples


STATUSES = ("operational", "degraded", "down")


def shares(
    samples: list[dict[str, Any]], name: str, now: float, window_s: float
) -> dict[str, float] | None:
    """Share of the samples in the window with each status; the uptime is the operational
    share alone (degraded time is counted apart, not as up). None when there is no sample."""
    seen = [s["s"][name] for s in samples if now - s["t"] <= window_s and name in s["s"]]
    seen = [status for status in seen if status in STATUSES]
    if not seen:
        return None
    return {status: seen.count(status) / len(seen) for status in STATUSES}


def hourly(samples: list[dict[str, Any]], name: str, now: float, hours: int = 24) -> list[str]:
    """The worst status of each of the last ``hours`` hours, oldest first ('none' if no data)."""
    rank = {"none": 0, "operational": 1, "degraded": 2, "down": 3}
    bars = ["none"] * hours
    for sample in samples:
        age = now - sample["t"]
        if -1.0 < age < 0.0:  # taken within the build's own second: it belongs to "now"
            age = 0.0
        status = sample["s"].get(name)
        if status not in rank or not 0 <= age < hours * 3600:
            continue
        slot = hours - 1 - int(age // 3600)
        if rank[status] > rank[bars[slot]]:
            bars[slot] = status
    return bars


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return str(value)[:MAX_TEXT] if isinstance(value, (str, int, float)) else ""


def record_alerts(path: Path, payload: Any, now: float | None = None) -> int:
    """Merge an Alertmanager webhook payload (version 4) into the incidents file.

    Returns how many alerts it carried. Incidents are keyed by the alert's fingerprint (or
    name and labels), so repeated notifications update one incident instead of adding more.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("alerts"), list):
        raise InputError("not an Alertmanager webhook payload (no alerts list)")
    alerts = payload["alerts"][:1000]
    now = time.time() if now is None else now
    incidents = {i["id"]: i for i in _read(path, [])}
    for alert in alerts:
        if not isinstance(alert, dict):
            continue
        labels = _mapping(alert.get("labels"))
        notes = _mapping(alert.get("annotations"))
        key = _text(alert.get("fingerprint")) or json.dumps(labels, sort_keys=True)[:MAX_TEXT]
        status = "resolved" if alert.get("status") == "resolved" else "firing"
        incident = incidents.get(key, {"id": key, "started": _text(alert.get("startsAt"))})
        incident.update(
            title=_text(notes.get("summary")) or _text(labels.get("alertname")) or "alert",
            detail=_text(notes.get("description")),
            region=_text(labels.get("region")),
            severity=_text(labels.get("severity")) or "warning",
            status=status,
            ended=_text(alert.get("endsAt")) if status == "resolved" else "",
            updated=round(now, 3),
        )
        incidents[key] = incident
    kept = sorted(incidents.values(), key=lambda i: i["updated"])[-MAX_INCIDENTS:]
    write_atomic(path, json.dumps(kept, indent=1, sort_keys=True))
    return len(alerts)


def incidents(path: Path, now: float, days: int = 14) -> list[dict[str, Any]]:
    """Firing incidents first, then those resolved within ``days``, newest first."""
    items = [i for i in _read(path, []) if isinstance(i, dict) and "status" in i]
    recent = [i for i in items if i["status"] == "firing" or now - i["updated"] <= days * DAY]
    return sorted(recent, key=lambda i: (i["status"] != "firing", -i["updated"]))
