"""`iconctl status`: height, lag, readiness and latency of every endpoint and agent given.

Targets are JSON-RPC endpoints (``icx_getLastBlock``) and health agents (``/readyz`` and
``/metrics``), each optionally tagged with its region as ``REGION=URL``. All are probed in
parallel with a timeout; lag is measured against the best height among the references.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from iconctl import probes
from iconctl.errors import CheckFailed, InputError
from iconctl.spec import Spec

UNTAGGED = "-"


@dataclass(frozen=True)
class Target:
    kind: str  # endpoint | agent | reference
    url: str
    region: str = UNTAGGED


@dataclass
class Observation:
    kind: str
    url: str
    region: str
    up: bool = False
    ready: bool = False
    height: int | None = None
    lag: int | None = None
    block_age: float | None = None
    latency_ms: float | None = None
    reason: str = ""


@dataclass
class StatusReport:
    observations: list[Observation]
    references: list[Observation]
    regions: dict[str, str] = field(default_factory=dict)  # region -> ready | not ready | unknown

    def to_json(self) -> dict[str, Any]:
        return {
            "targets": [asdict(o) for o in self.observations],
            "references": [asdict(o) for o in self.references],
            "regions": self.regions,
        }


def parse_target(kind: str, value: str) -> Target:
    region, sep, url = value.partition("=")
    if not sep:
        region, url = UNTAGGED, value
    if not url.startswith(("http://", "https://")):
        raise InputError(f"--{kind} {value}: expected [REGION=]http(s)://host[:port][/path]")
    return Target(kind, url.rstrip("/"), region or UNTAGGED)


def collect(
    targets: list[Target],
    *,
    references: list[str],
    max_lag_blocks: int,
    max_block_age: float,
    timeout: float = 5.0,
) -> StatusReport:
    refs = [Target("reference", url) for url in references]
    everything = refs + targets
    with ThreadPoolExecutor(max_workers=min(32, max(1, len(everything)))) as pool:
        results = list(pool.map(lambda t: _probe(t, timeout), everything))
    ref_obs, observations = results[: len(refs)], results[len(refs) :]
    best = max((o.height for o in ref_obs if o.height is not None), default=None)
    for obs in observations:
        if obs.height is not None and best is not None:
            obs.lag = max(0, best - obs.height)
        if obs.kind == "endpoint" and obs.up:
            too_far = obs.lag is not None and obs.lag > max_lag_blocks
            too_old = obs.block_age is not None and obs.block_age > max_block_age
            obs.ready = not (too_far or too_old)
            obs.reason = (
                f"{obs.lag} blocks behind" if too_far
                else f"last block {obs.block_age:.0f}s old" if too_old else ""
            )  # fmt: skip
    regions: dict[str, str] = {}
    for obs in observations:
        state = regions.get(obs.region, "not ready")
        regions[obs.region] = "ready" if obs.ready or state == "ready" else "not ready"
    return StatusReport(observations, ref_obs, regions)


def check(report: StatusReport, spec: Spec | None) -> None:
    """Raise CheckFailed when a region that was probed has no ready node."""
    if spec is not None:
        for region in spec.regions:
            report.regions.setdefault(region.name, "unknown")
    failing = sorted(r for r, state in report.regions.items() if state == "not ready")
    if failing:
        raise CheckFailed(f"no ready node in: {', '.join(failing)}")


def _probe(target: Target, timeout: float) -> Observation:
    obs = Observation(target.kind, target.url, target.region)
    started = time.monotonic()
    try:
        if target.kind == "agent":
            _probe_agent(obs, timeout)
        else:
            _probe_rpc(obs, timeout)
    except (OSError, ValueError, KeyError) as exc:
        obs.up = False
        obs.reason = probes.short_reason(exc)
    obs.latency_ms = round((time.monotonic() - started) * 1000, 1)
    return obs


def _probe_rpc(obs: Observation, timeout: float) -> None:
    url = obs.url if "/api/v3" in obs.url else obs.url + "/api/v3"
    block = probes.last_block(url, timeout)
    obs.up = True
    obs.height = block.height
    obs.block_age = block.age()


def _probe_agent(obs: Observation, timeout: float) -> None:
    code, text = probes.get_text(obs.url + "/readyz", timeout)
    obs.up = True
    obs.ready = code == 200 and text.strip() == "OK"
    obs.reason = "" if obs.ready else text.strip().removeprefix("UNHEALTHY").strip()
    code, text = probes.get_text(obs.url + "/metrics", timeout)
    if code != 200:
        obs.up, obs.reason = False, f"HTTP {code}"
        return
    metrics = probes.gauges(text)
    if "icon_node_block_height" in metrics:
        obs.height = int(metrics["icon_node_block_height"])
    if "icon_node_last_block_age_seconds" in metrics:
        obs.block_age = metrics["icon_node_last_block_age_seconds"]


def table(report: StatusReport):  # noqa: ANN201 - rich is imported lazily
    from rich import box
    from rich.table import Table

    grid = Table(title="status", title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1))
    for column, justify in (("region", "left"), ("kind", "left"), ("target", "left"),
                            ("height", "right"), ("lag", "right"), ("age", "right"),
                            ("ms", "right"), ("ready", "left")):  # fmt: skip
        grid.add_column(
            column, justify=justify, overflow="fold", no_wrap=column in ("region", "kind", "target")
        )

    def cell(value: float | None, unit: str = "") -> str:
        return "-" if value is None else f"{value:.0f}{unit}"

    for obs in report.references + report.observations:
        if obs.kind == "reference":
            ready = "[green]up[/]" if obs.up else f"[yellow]down[/] {obs.reason}"
        elif obs.ready:
            ready = "[green]ready[/]"
        else:
            ready = f"[red]not ready[/] {obs.reason}".rstrip()
        grid.add_row(
            obs.region, obs.kind, _short_url(obs.url), cell(obs.height), cell(obs.lag),
            cell(obs.block_age, "s"), cell(obs.latency_ms), ready,
        )  # fmt: skip
    return grid


def _short_url(url: str) -> str:
    """Host, port and any path but the usual /api/v3: what tells targets apart in a table."""
    short = url.split("://", 1)[-1]
    return short[: -len("/api/v3")] if short.endswith("/api/v3") else short
