"""`iconctl status`: height, lag, readiness and latency of every endpoint and agent given.

Targets are JSON-RPC endpoints (``icx_getLastBlock``) and health agents (``/readyz`` and
``/metrics``), each optionally tagged with its region as ``REGION=URL``. All are probed in
parallel, each within a deadline. Lag is measured against the best height the references
corroborate (the agent's rule, so one lying reference cannot mislead it), and every answer is
untrusted: impossible numbers make an ``invalid`` row, agents' words are shown as plain text.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from iconctl import probes
from iconctl.console import printable
from iconctl.errors import CheckFailed, UsageError
from iconctl.health import (
    NodeSample,
    Thresholds,
    judge,
    parse_target,
    reference_view,
)
from iconctl.http import client
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
    # endpoints and agents: ready | not ready | down | invalid (an answer no node sends);
    # references: up | down | invalid | ignored (contradicted, see _corroborated)
    state: str = "down"


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


def target_from(kind: str, value: str) -> Target:
    """A ``--endpoint`` or ``--agent`` value, ``[REGION=]URL``."""
    parsed = parse_target(value, f"--{kind}", metavar="REGION")
    return Target(kind, parsed.url.rstrip("/"), parsed.name or UNTAGGED)


@dataclass(frozen=True)
class StatusQuery:
    """What `iconctl status` probes, and by which rules: resolved from its options."""

    targets: list[Target]
    references: list[str]
    limits: Thresholds
    spec: Spec | None = None
    timeout: float = 5.0

    @classmethod
    def resolve(
        cls,
        *,
        spec_path: Path | None,
        endpoints: list[str],
        agents: list[str],
        references: list[str],
        timeout: float = 5.0,
        default_spec: Path | None = None,
    ) -> StatusQuery:
        """The spec (given, or ``default_spec`` when that file exists) supplies the readiness
        rules, the references and, without targets, its domain's endpoint."""
        spec = None
        if spec_path is None and default_spec is not None and default_spec.exists():
            spec_path = default_spec
        if spec_path is not None:
            from iconctl.spec import load_spec

            spec = load_spec(spec_path)
        targets = [target_from("endpoint", e) for e in endpoints]
        targets += [target_from("agent", a) for a in agents]
        if not targets and spec is not None:
            targets = [target_from("endpoint", f"https://{spec.domain}/api/v3")]
        if not targets:
            raise UsageError("nothing to check: give --endpoint or --agent, or a spec")
        return cls(
            targets=targets,
            references=list(references or (spec.references if spec else [])),
            limits=Thresholds.from_spec(spec),
            spec=spec,
            timeout=timeout,
        )

    def run(self) -> StatusReport:
        return collect(
            self.targets, references=self.references, limits=self.limits, timeout=self.timeout
        )


def collect(
    targets: list[Target],
    *,
    references: list[str],
    limits: Thresholds,
    timeout: float = 5.0,
    now: float | None = None,
) -> StatusReport:
    refs = [Target("reference", url) for url in references]
    everything = refs + targets
    # an agent takes two requests, each bounded by the timeout; a little more for the threads
    answers = probes.parallel(lambda t: _probe(t, timeout), everything, deadline_s=2 * timeout + 1)
    results = [
        answer if isinstance(answer, Observation) else _failed(target, answer)
        for target, answer in zip(everything, answers, strict=True)
    ]
    ref_obs, observations = results[: len(refs)], results[len(refs) :]
    now = time.time() if now is None else now
    best = _corroborated(ref_obs, observations, limits.max_lag_blocks, now)
    for obs in observations:
        if obs.height is not None and best is not None:
            obs.lag = max(0, best - obs.height)
        if obs.kind == "endpoint" and obs.state == "ready":
            sample = NodeSample(True, height=obs.height, block_age=obs.block_age)
            verdict = judge(sample, best, now, limits)
            obs.ready, obs.reason = verdict.ok, verdict.reason
            obs.state = "ready" if obs.ready else "not ready"
    regions: dict[str, str] = {}
    for obs in observations:
        state = regions.get(obs.region, "not ready")
        regions[obs.region] = "ready" if obs.ready or state == "ready" else "not ready"
    return StatusReport(observations, ref_obs, regions)


def _corroborated(
    refs: list[Observation], observations: list[Observation], tolerance: int, now: float
) -> int | None:
    """The reference height lag is measured against (``health.reference_view``): a reference
    beyond what the chain can have made since the nodes' own last blocks, or one that the
    other references contradict, is marked ignored and does not count."""
    heights = {r.url: r.height for r in refs if r.state == "up" and r.height is not None}
    nodes = [NodeSample(True, height=o.height, block_age=o.block_age) for o in observations]
    view = reference_view(heights, nodes, now, tolerance=tolerance)
    for ref in refs:
        if ref.url in view.ignored:
            ref.state, ref.reason = "ignored", view.ignored[ref.url]
    return view.height


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
    except probes.InvalidAnswer as exc:  # it answered, with something no node sends
        obs.up, obs.ready, obs.state = True, False, "invalid"
        obs.height = obs.lag = obs.block_age = None
        obs.reason = probes.short_reason(exc)
    except OSError as exc:
        obs.up, obs.ready, obs.state = False, False, "down"
        obs.reason = probes.short_reason(exc)
    obs.latency_ms = round((time.monotonic() - started) * 1000, 1)
    return obs


def _failed(target: Target, exc: Exception) -> Observation:
    """A probe that ran out of time, or failed in a way nobody foresaw: a row that says so."""
    obs = Observation(target.kind, target.url, target.region)
    if isinstance(exc, TimeoutError):
        obs.state, obs.reason = "down", probes.short_reason(exc)
    else:
        obs.state = "invalid"
        obs.reason = f"could not judge the answer ({probes.short_reason(exc)})"
    return obs


def _probe_rpc(obs: Observation, timeout: float) -> None:
    url = obs.url if "/api/v3" in obs.url else obs.url + "/api/v3"
    block = probes.last_block(url, timeout)
    obs.up = True
    obs.height = block.height
    obs.block_age = block.age()
    obs.state = "up" if obs.kind == "reference" else "ready"


def _probe_agent(obs: Observation, timeout: float) -> None:
    code, text = client.get_text(obs.url + "/readyz", timeout)
    obs.up = True
    obs.ready = code == 200 and text.strip() == "OK"
    obs.reason = "" if obs.ready else probes.agent_reason(text) or f"HTTP {code}"
    code, text = client.get_text(obs.url + "/metrics", timeout)
    if code != 200:
        obs.up, obs.ready, obs.state, obs.reason = False, False, "down", f"metrics: HTTP {code}"
        return
    metrics = probes.agent_gauges(text)
    if "icon_node_block_height" in metrics:
        obs.height = int(metrics["icon_node_block_height"])
    if "icon_node_last_block_age_seconds" in metrics:
        obs.block_age = max(0.0, metrics["icon_node_last_block_age_seconds"])
    if "icon_node_lag_blocks" in metrics:  # the agent's own, against its references
        obs.lag = max(0, int(metrics["icon_node_lag_blocks"]))
    obs.state = "ready" if obs.ready else "not ready"


STATE_STYLES = {"ready": "green", "up": "green", "not ready": "red", "down": "yellow",
                "invalid": "red", "ignored": "yellow"}  # fmt: skip


def table(report: StatusReport):  # noqa: ANN201 - rich is imported lazily
    from rich import box
    from rich.console import JustifyMethod
    from rich.table import Table
    from rich.text import Text

    grid = Table(title="status", title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1))
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("region", "left"), ("kind", "left"), ("target", "left"), ("height", "right"),
        ("lag", "right"), ("age", "right"), ("ms", "right"), ("state", "left"),
    )  # fmt: skip
    for column, justify in columns:
        # numbers never break; the target and the state (with its reason) fold instead
        grid.add_column(
            column, justify=justify, overflow="fold", no_wrap=column not in ("target", "state"),
            min_width=16 if column == "state" else None,
        )  # fmt: skip

    def cell(value: float | None, unit: str = "") -> str:
        return "-" if value is None else f"{value:.0f}{unit}"

    for obs in report.references + report.observations:
        # Text, never markup: reasons are the agents' words (and URLs the user's)
        state = Text(obs.state, style=STATE_STYLES.get(obs.state, ""))
        if obs.reason:
            state.append(" " + printable(obs.reason, probes.MAX_REASON))
        grid.add_row(
            Text(printable(obs.region)), obs.kind, Text(printable(_short_url(obs.url))),
            cell(obs.height), cell(obs.lag), cell(obs.block_age, "s"), cell(obs.latency_ms), state,
        )  # fmt: skip
    return grid


def _short_url(url: str) -> str:
    """Host, port and any path but the usual /api/v3: what tells targets apart in a table."""
    short = url.split("://", 1)[-1]
    return short[: -len("/api/v3")] if short.endswith("/api/v3") else short
