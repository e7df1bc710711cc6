"""Probing what a visitor's wallet would use: each region's JSON-RPC endpoint, and its agent.

Every probe is bounded in time and size and runs in parallel, so one dead or hostile region
cannot hold the page back. A region is *operational* when it answers and is in sync,
*degraded* when it answers but lags, has a stale last block, is slow or its agent reports it
unready, and *down* when it does not answer. Each result carries a ``reason`` in words a
visitor understands and a ``detail`` with the probe's own findings, for operators.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from iconctl import probes
from iconctl.errors import InputError
from iconctl.health import (
    BLOCK_SECONDS,
    NodeSample,
    ReferenceView,
    Thresholds,
    Verdict,
    judge,
    parse_target,
    reference_view,
)
from iconctl.http import client
from iconctl.spec import Spec

TIMEOUT_S = 5.0
SLOW_MS = 2000.0


@dataclass(frozen=True)
class Target:
    name: str
    endpoint: str | None  # JSON-RPC v3 URL; None: the agent alone tells
    agent: str | None = None  # the agent's base URL (/readyz, /metrics)


@dataclass
class Result:
    name: str
    endpoint: str | None
    status: str  # operational | degraded | down
    reason: str  # for visitors: "Behind the network by 50 blocks (about 2 minutes)"
    latency_ms: float | None = None
    height: int | None = None
    block_age_s: float | None = None
    lag_blocks: int | None = None
    agent_ready: bool | None = None
    detail: str = ""  # for operators: the probe's own findings, escaped

    def to_json(self) -> dict:
        return asdict(self)


def targets_from(
    spec: Spec | None, endpoints: list[str], agents: list[str]
) -> tuple[list[Target], Thresholds]:
    """The targets: the spec's regions (their own hostnames) and each --endpoint [NAME=]URL;
    --agent [NAME=]URL attaches an agent to the target of that name, or is a target of its own
    (the agent alone tells the region's state, as for `iconctl status`)."""
    from iconctl.render.common import region_hostname

    found: dict[str, Target] = {}
    if spec is not None:
        for region in spec.regions:
            url = f"https://{region_hostname(spec, region)}/api/v3"
            found[region.name] = Target(region.name, url)
    for value in endpoints:
        parsed = parse_target(value, "--endpoint")
        name, url = parsed.name or urlsplit(parsed.url).netloc, parsed.url
        found[name] = Target(name, url)
    for value in agents:
        parsed = parse_target(value, "--agent")
        name, url = parsed.name or urlsplit(parsed.url).netloc, parsed.url
        endpoint = found[name].endpoint if name in found else None
        found[name] = Target(name, endpoint, url.rstrip("/"))
    if not found:
        raise InputError("nothing to watch: give a SPEC, an --endpoint or an --agent")
    return list(found.values()), Thresholds.from_spec(spec)


def references_from(spec: Spec | None, references: list[str]) -> list[str]:
    """The URLs that give the network's height: each --reference, else the spec's
    ``references``; none: the regions' own heights stand in."""
    urls = []
    for value in references:
        parsed = parse_target(value, "--reference", metavar="URL")
        if parsed.name is not None:
            raise InputError(f"--reference {value!r}: expected a URL, without a name")
        urls.append(parsed.url)
    return urls or (list(spec.references) if spec is not None else [])


def _probe_one(target: Target, now: float, rules: Thresholds) -> Result:
    result = Result(target.name, target.endpoint, "down", "Not responding")
    if target.endpoint is not None:
        try:
            block = probes.last_block(target.endpoint, TIMEOUT_S)
            result.latency_ms = round(block.latency_ms, 1)
            result.height = block.height
            result.block_age_s = round(block.age(now), 1)
            result.status, result.reason = "operational", ""
        except probes.InvalidAnswer as exc:
            result.reason = "Not responding correctly"
            result.detail = f"invalid answer: {probes.short_reason(exc)}"
        except OSError as exc:
            result.detail = f"not answering: {probes.short_reason(exc)}"
    if target.agent:
        _ask_agent(target, result, now, rules)
    return result


def _ask_agent(target: Target, result: Result, now: float, rules: Thresholds) -> None:
    """The agent's verdict and gauges. Its answers are untrusted: an impossible number or a
    non-HTTP answer makes an operational region degraded ("cannot be confirmed"), and its
    words reach only ``detail``, escaped and bounded."""
    alone = target.endpoint is None
    try:
        code, body = client.get_text(f"{target.agent}/readyz", TIMEOUT_S)
        metrics_code, metrics = client.get_text(f"{target.agent}/metrics", TIMEOUT_S)
        gauges = probes.agent_gauges(metrics) if metrics_code == 200 else {}
    except probes.InvalidAnswer as exc:
        result.agent_ready = None
        result.detail = _join(result.detail, f"agent answer unusable: {probes.short_reason(exc)}")
        if alone or result.status == "operational":
            result.status, result.reason = "degraded", "Health cannot be confirmed"
        return
    except OSError as exc:
        result.agent_ready = None
        result.detail = _join(result.detail, f"agent unreachable: {probes.short_reason(exc)}")
        return  # alone: stays down; else the endpoint's own answer decides
    result.agent_ready = code == 200
    if "icon_node_lag_blocks" in gauges:  # polls are not simultaneous: a node may look "ahead"
        result.lag_blocks = max(0, int(gauges["icon_node_lag_blocks"]))
    if alone:
        result.status, result.reason = "operational", ""
        if "icon_node_block_height" in gauges:
            result.height = int(gauges["icon_node_block_height"])
        if "icon_node_last_block_age_seconds" in gauges:
            result.block_age_s = round(max(0.0, gauges["icon_node_last_block_age_seconds"]), 1)
    if code != 200:
        words, detail = agent_words(code, body, gauges, rules)
        result.detail = _join(result.detail, detail)
        if result.status == "operational":
            result.status, result.reason = "degraded", words


def agent_words(
    code: int, body: str, gauges: dict[str, float], rules: Thresholds
) -> tuple[str, str]:
    """An agent's "not ready" in a visitor's words, and in its own (escaped) for operators."""
    said = probes.agent_reason(body) if code == 503 else f"HTTP {code}"
    detail = f"agent: {said}"
    lag = gauges.get("icon_node_lag_blocks")
    age = gauges.get("icon_node_last_block_age_seconds")
    if code != 503:
        return "Failing its health check", detail
    if gauges.get("icon_agent_draining") == 1:
        return "Under planned maintenance", detail
    if lag is not None and rules.too_far(lag):
        return _behind(int(lag)), detail
    if age is not None and rules.too_old(age):
        return _stalled(age), detail
    if said.startswith(("starting", "recovering")):
        return "Recovering", detail
    if said.startswith(("admin state", "node not answering")):
        return "Not serving requests", detail
    return "Failing its health check", detail


def _minutes(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def _behind(blocks: int) -> str:
    return f"Behind the network by {blocks} blocks (about {_minutes(blocks * BLOCK_SECONDS)})"


def _stalled(age_s: float) -> str:
    return f"No new blocks for {_minutes(age_s)}"


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _failed(target: Target, exc: Exception) -> Result:
    """A probe that ran out of time or failed in a way nobody foresaw: the region says so
    (the rest of the page is built as usual)."""
    if isinstance(exc, TimeoutError):
        return Result(target.name, target.endpoint, "down", "Not responding",
                      detail=probes.short_reason(exc))  # fmt: skip
    return Result(target.name, target.endpoint, "degraded", "Health cannot be confirmed",
                  detail=f"probe failed: {probes.short_reason(exc)}")  # fmt: skip


def probe(
    targets: list[Target],
    rules: Thresholds,
    now: float | None = None,
    *,
    references: list[str] | tuple[str, ...] = (),
) -> list[Result]:
    """Probe every target (and reference) in parallel, then judge lag against the network's
    height: the references' (the spec's ``references`` or ``--reference``), or without any
    the regions' own, by the reference rule of the agent and ``iconctl status``."""
    now = time.time() if now is None else now
    # a reference is probed as a target with an endpoint alone; only its height is used
    everything = [*targets, *(Target(url, url) for url in references)]
    # an endpoint and two agent requests, each bounded by TIMEOUT_S
    answers = probes.parallel(
        lambda t: _probe_one(t, now, rules), everything, deadline_s=3 * TIMEOUT_S + 1
    )
    probed = [
        answer if isinstance(answer, Result) else _failed(target, answer)
        for target, answer in zip(everything, answers, strict=True)
    ]
    results = probed[: len(targets)]
    heights = {r.name: r.height for r in probed[len(targets) :] if r.height is not None}
    view = _reference(results, heights if references else None, now, rules)
    for result in results:
        if result.height is not None and result.lag_blocks is None and view.height is not None:
            # polls are not simultaneous, and a region ahead of the reference is not behind
            result.lag_blocks = max(0, view.height - result.height)
        why = view.ignored.get(result.name)
        ahead = view.height is not None and (result.height or 0) > view.height
        if why and ahead:  # those below the network's height are reported as behind
            result.detail = _join(result.detail, f"not counted as the network's height: {why}")
        if result.status != "operational":
            continue
        lag, age, latency = result.lag_blocks, result.block_age_s, result.latency_ms
        verdict = _judged(result, now, rules)
        if not verdict.ok and rules.too_far(lag):
            result.status, result.reason = "degraded", _behind(lag or 0)
            finding = verdict.reason
        elif not verdict.ok:
            result.status, result.reason = "degraded", _stalled(age or 0.0)
            finding = verdict.reason
        elif latency is not None and latency > SLOW_MS:
            result.status = "degraded"
            result.reason = f"Responding slowly ({latency / 1000:.1f} s)"
            finding = f"latency {latency:.0f} ms > {SLOW_MS:.0f} ms"
        else:
            continue
        result.detail = _join(finding, result.detail)
    return results


def _reference(
    results: list[Result], references: dict[str, int] | None, now: float, rules: Thresholds
) -> ReferenceView:
    """The network's height, which lag is measured against, by the reference rule of the
    agent and ``iconctl status`` (``health.reference_view``): the references that answered,
    under the ceiling the regions' own blocks set; without references (None), the regions'
    heights themselves, so one region answering an impossible height cannot make every other
    region "behind"."""
    nodes = [NodeSample(True, height=r.height, block_age=r.block_age_s) for r in results]
    if references is None:
        references = {r.name: r.height for r in results if r.height is not None}
    return reference_view(references, nodes, now, tolerance=rules.max_lag_blocks)


def _judged(result: Result, now: float, rules: Thresholds) -> Verdict:
    """The shared readiness rule on what the probes found: lag against the best height (or
    the agent's own lag), and the age of the last block. What was not found is not judged."""
    if result.height is None or result.block_age_s is None:
        return Verdict(True)
    best = None if result.lag_blocks is None else result.height + result.lag_blocks
    sample = NodeSample(True, height=result.height, block_age=result.block_age_s)
    return judge(sample, best, now, rules)
