"""Building the site: probe, remember, render `index.html` and `status.json` into one directory.

The HTML is self-contained (inline CSS, no scripts, no external fonts), so it can be served
from any static host or bucket and reads well on a phone.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from iconctl.errors import InputError
from iconctl.files import write_atomic
from iconctl.health import Thresholds
from iconctl.statuspage import history
from iconctl.statuspage.probe import Result, Target, probe

HISTORY_FILE = "history.json"
INCIDENTS_FILE = "incidents.json"
SITE_FILES = ("index.html", "status.json")
HEADLINES = {
    "operational": "All regions operational",
    "degraded": "Some regions degraded",
    "down": "Major outage",
}


@dataclass(frozen=True)
class BuildResult:
    out_dir: Path
    overall: str
    regions: list[dict[str, Any]]  # each region's result with its uptime and hours
    incidents: list[dict[str, Any]]
    results: list[Result] = field(default_factory=list)  # the same regions' probe results

    def to_json(self) -> dict[str, Any]:
        return {
            "out": str(self.out_dir),
            "overall": self.overall,
            "regions": self.regions,
            "incidents": self.incidents,
        }


def _overall(results: list[Result], incidents: list[dict[str, Any]]) -> str:
    statuses = {r.status for r in results}
    if statuses == {"down"}:
        return "down"
    if statuses != {"operational"} or any(i["status"] == "firing" for i in incidents):
        return "degraded"
    return "operational"


STATUS_WORDS = {
    "operational": "Operational",
    "degraded": "Degraded",
    "down": "Down",
    "none": "No data",
}


def _hour_labels(now: float, hours: int) -> list[str]:
    """What each hourly bar covers, oldest first: "06:41–07:41 UTC"."""

    def clock(t: float) -> str:
        return datetime.fromtimestamp(t, UTC).strftime("%H:%M")

    return [
        f"{clock(now - (hours - i) * 3600)}–{clock(now - (hours - 1 - i) * 3600)} UTC"
        for i in range(hours)
    ]


def _percent(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 1 or value <= 0:
        return f"{value * 100:.0f}%"
    return f"{min(max(value * 100, 0.01), 99.99):.2f}%"


def _environment():  # noqa: ANN202 - jinja2 is imported lazily
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("iconctl.statuspage", "templates"),
        autoescape=True,  # alert texts come from webhooks: never trusted as HTML
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = _percent
    return env


def _prepare(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out {out_dir}: exists and is not a directory")
    out_dir.mkdir(parents=True, exist_ok=True)


def build(
    targets: list[Target],
    rules: Thresholds,
    out_dir: Path,
    *,
    title: str = "ICON API status",
    now: float | None = None,
    results: list[Result] | None = None,
    record: bool = True,
    notice: str = "",
    references: list[str] | tuple[str, ...] = (),
) -> BuildResult:
    """Write the site from ``results`` (probing first when none are given); ``record`` adds
    them to the uptime history (off when only re-rendering, e.g. after a webhook); ``notice``
    is a line shown above the regions (e.g. that the latest check failed); ``references``
    give the network's height (``probe``)."""
    _prepare(out_dir)
    now = time.time() if now is None else now
    if results is None:
        results = probe(targets, rules, now, references=references)
    if record:
        samples = history.append_sample(out_dir / HISTORY_FILE, now, [r.to_json() for r in results])
    else:
        samples = history._read(out_dir / HISTORY_FILE, [])
    incidents = history.incidents(out_dir / INCIDENTS_FILE, now)
    regions = []
    for result in results:
        day = history.shares(samples, result.name, now, 86_400) or {}
        month = history.shares(samples, result.name, now, 30 * 86_400) or {}
        regions.append(
            {
                **result.to_json(),
                "uptime_24h": day.get("operational"),  # operational only
                "uptime_30d": month.get("operational"),
                "degraded_24h": day.get("degraded"),
                "degraded_30d": month.get("degraded"),
                "hours": history.hourly(samples, result.name, now),
            }
        )
    overall = _overall(results, incidents)
    updated = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = (
        _environment()
        .get_template("index.html.j2")
        .render(
            title=title,
            overall=overall,
            headline=HEADLINES[overall],
            regions=regions,
            incidents=incidents,
            updated=updated,
            rules=rules,
            notice=notice,
            hour_labels=_hour_labels(now, 24),
            words=STATUS_WORDS,
        )
    )
    status = {
        "updated": now,
        "overall": overall,
        "regions": regions,
        "incidents": incidents,
        "notice": notice,
    }
    write_atomic(out_dir / "status.json", json.dumps(status, indent=1, sort_keys=True) + "\n")
    write_atomic(out_dir / "index.html", page)
    return BuildResult(out_dir, overall, regions, incidents, results)


def last_results(out_dir: Path) -> list[Result] | None:
    """The results of the latest build, to re-render after a webhook without probing."""
    try:
        data = json.loads((out_dir / "status.json").read_text(encoding="utf-8"))
        fields = Result.__dataclass_fields__
        return [Result(**{k: v for k, v in r.items() if k in fields}) for r in data["regions"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
