"""Probing what a visitor's wallet would use: each region's JSON-RPC endpoint, and its agent.

Every probe is bounded by a timeout and runs in parallel, so one dead region cannot hold the
page back. A region is *operational* when it answers and is in sync, *degraded* when it
answers but lags, has a stale last block, is slow or its agent reports it unready, and
*down* when it does not answer.
"""

from __future__ import annotations

import re
import time
import urllib.error
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from iconctl import probes
from iconctl.errors import InputError
from iconctl.spec import Spec

TIMEOUT_S = 5.0
SLOW_MS = 2000.0
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


@dataclass(frozen=True)
class Target:
    name: str
    endpoint: str  # JSON-RPC v3 URL
    agent: str | None = None  # the agent's base URL (/readyz, /metrics)


@dataclass(frozen=True)
class Rules:
    max_lag_blocks: int = 30
    max_block_age_s: float = 60.0


@dataclass
class Result:
    name: str
    endpoint: str
    status: str  # operational | degraded | down
    reason: str
    latency_ms: float | None = None
    height: int | None = None
    block_age_s: float | None = None
    lag_blocks: int | None = None
    agent_ready: bool | None = None
    detail: str = ""  # for operators: the probe's own findings, escaped

    def to_json(self) -> dict:
        return asdict(self)


def _check_url(value: str, option: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{option} {value!r}: not an http(s) URL")
    return value


def _named(value: str, option: str) -> tuple[str | None, str]:
    """``NAME=URL`` or ``URL``."""
    name, sep, url = value.partition("=")
    if sep and "://" not in name:
        if not _NAME.match(name):
            raise InputError(f"{option} {value!r}: the name must be letters, digits, '.', '-', '_'")
        return name, _check_url(url, option)
    return None, _check_url(value, option)


def targets_from(
    spec: Spec | None, endpoints: list[str], agents: list[str]
) -> tuple[list[Target], Rules]:
    """The targets: the spec's regions (their own hostnames) and each --endpoint [NAME=]URL;
    --agent NAME=URL attaches an agent to the target of that name."""
    from iconctl.render.common import region_hostname

    found: dict[str, Target] = {}
    if spec is not None:
        for region in spec.regions:
            url = f"https://{region_hostname(spec, region)}/api/v3"
            found[region.name] = Target(region.name, url)
    for value in endpoints:
        name, url = _named(value, "--endpoint")
        name = name or urlsplit(url).netloc
        found[name] = Target(name, url)
    for value in agents:
        name, url = _named(value, "--agent")
        if name is None or name not in found:
            known = ", ".join(sorted(found)) or "none"
            raise InputError(f"--agent {value!r}: expected NAME=URL with NAME one of: {known}")
        found[name] = Target(name, found[name].endpoint, url.rstrip("/"))
    if not found:
        raise InputError("nothing to watch: give a SPEC or at least one --endpoint URL")
    rules = Rules()
    if spec is not None:
        rules = Rules(spec.health.max_lag_blocks, float(spec.health.max_block_age_seconds))
    return list(found.values()), rules


def _probe_one(target: Target, now: float) -> Result:
    result = Result(target.name, target.endpoint, "down", "no answer")
    try:
        block = probes.last_block(target.endpoint, TIMEOUT_S)
        result.latency_ms = round(block.latency_ms, 1)
        result.height = block.height
        result.block_age_s = round(block.age(now), 1)
        result.status, result.reason = "operational", ""
    except urllib.error.HTTPError as exc:
        result.reason = f"HTTP {exc.code}"
    except probes.InvalidAnswer as exc:
        result.reason = "invalid answer"
        result.detail = f"invalid answer: {probes.short_reason(exc)}"
    except OSError as exc:
        result.reason = f"not answering: {probes.short_reason(exc)}"[:120].lower()
    if target.agent:
        _ask_agent(target.agent, result)
    return result


def _ask_agent(agent: str, result: Result) -> None:
    """The agent's verdict and gauges. Its answers are untrusted: an impossible number or a
    non-HTTP answer makes an operational region degraded ("cannot be confirmed"), and its
    words are kept for operators only after escaping."""
    try:
        code, body = probes.get_text(agent + "/readyz", TIMEOUT_S)
        result.agent_ready = code == 200
        if code != 200:
            result.detail = f"agent: {probes.agent_reason(body) or f'HTTP {code}'}"
            if result.status == "operational":
                result.status = "degraded"
                result.reason = probes.agent_reason(body)[:120] or f"agent: HTTP {code}"
        code, metrics = probes.get_text(agent + "/metrics", TIMEOUT_S)
        lag = probes.agent_gauges(metrics).get("icon_node_lag_blocks") if code == 200 else None
        if lag is not None:  # polls are not simultaneous: a node may look "ahead"
            result.lag_blocks = max(0, int(lag))
    except probes.InvalidAnswer as exc:
        result.agent_ready = None
        result.detail = f"agent answer unusable: {probes.short_reason(exc)}"
        if result.status == "operational":
            result.status, result.reason = "degraded", "health cannot be confirmed"
    except OSError as exc:
        result.agent_ready = None
        result.detail = f"agent unreachable ({probes.short_reason(exc)})"
        if result.status == "operational":
            result.reason = result.detail[:120]


def _failed(target: Target, exc: Exception) -> Result:
    """A probe that ran out of time or failed in a way nobody foresaw: the region says so
    (the rest of the page is built as usual)."""
    if isinstance(exc, TimeoutError):
        return Result(target.name, target.endpoint, "down", "no answer in time",
                      detail=probes.short_reason(exc))  # fmt: skip
    return Result(target.name, target.endpoint, "degraded", "health cannot be confirmed",
                  detail=f"probe failed: {probes.short_reason(exc)}")  # fmt: skip


def probe(targets: list[Target], rules: Rules, now: float | None = None) -> list[Result]:
    """Probe every target in parallel, then judge lag against the best height seen."""
    now = time.time() if now is None else now
    # an endpoint and two agent requests, each bounded by TIMEOUT_S
    answers = probes.parallel(lambda t: _probe_one(t, now), targets, deadline_s=3 * TIMEOUT_S + 1)
    results = [
        answer if isinstance(answer, Result) else _failed(target, answer)
        for target, answer in zip(targets, answers, strict=True)
    ]
    best = max((r.height for r in results if r.height is not None), default=None)
    for result in results:
        if result.height is not None and result.lag_blocks is None and best is not None:
            result.lag_blocks = best - result.height
        if result.status != "operational":
            continue
        if result.lag_blocks is not None and result.lag_blocks > rules.max_lag_blocks:
            result.status, result.reason = "degraded", f"{result.lag_blocks} blocks behind"
        elif result.block_age_s is not None and result.block_age_s > rules.max_block_age_s:
            result.status = "degraded"
            result.reason = f"last block {result.block_age_s:.0f}s old"
        elif result.latency_ms is not None and result.latency_ms > SLOW_MS:
            result.status, result.reason = "degraded", f"slow ({result.latency_ms:.0f} ms)"
    return results
