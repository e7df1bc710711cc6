"""The readiness rules and the hysteresis around them, free of I/O so they are easy to test.

One poll of the node gives a NodeSample; ``judge`` turns it (with the best reference height
and the clock) into a raw verdict; ``Hysteresis`` turns raw verdicts into the state the probes
report, flipping only after ``rise`` consecutive good or ``fall`` consecutive bad polls.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass, field

# The reference rule (docs/agent.md, "Which reference height counts"). ICON makes a block
# about every 2 s; the chain cannot run faster than RATE_SLACK times its observed rate.
BLOCK_SECONDS = 2.0
RATE_SLACK = 2.0
REFERENCE_MARGIN_BLOCKS = 30  # clock skew between this host and the proposers; poll timing
MIN_AGREEMENT_BLOCKS = 10  # references polled a few seconds apart differ by a few blocks
_RATE_POINTS = 64


@dataclass(frozen=True)
class Thresholds:
    max_lag_blocks: int = 30
    max_block_age: float = 60.0


@dataclass(frozen=True)
class NodeSample:
    """What one poll of the node found. ``answered``: the node spoke HTTP/JSON-RPC at all."""

    answered: bool
    height: int | None = None
    block_time: float | None = None  # seconds since the epoch, from the block's time_stamp
    state: str | None = None  # the chain state from /admin/chain, None when unknown
    error: str = ""


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""


def judge(
    sample: NodeSample,
    best_reference: int | None,
    now: float,
    limits: Thresholds,
    *,
    no_reference: str = "references down",
) -> Verdict:
    """Raw readiness from one poll. With no reference answering, the node's own progress
    (the age of its last block) decides, so an outage of the public references cannot take a
    whole fleet out of service."""
    if sample.state is not None and sample.state != "started":
        return Verdict(False, f"admin state {sample.state}")
    if sample.height is None or sample.block_time is None:
        error = sample.error or "no answer"
        return Verdict(False, f"node not answering: {error}")
    if best_reference is not None:
        lag = best_reference - sample.height
        if lag > limits.max_lag_blocks:
            return Verdict(
                False,
                f"lag {lag} blocks > {limits.max_lag_blocks} "
                f"(node {sample.height}, reference {best_reference})",
            )
    age = now - sample.block_time
    if age > limits.max_block_age:
        suffix = "" if best_reference is not None else f", {no_reference}"
        return Verdict(
            False,
            f"last block {age:.0f}s old > {limits.max_block_age:g}s "
            f"(height {sample.height}{suffix})",
        )
    return Verdict(True)


class ChainRate:
    """The chain's block rate as the node's own blocks show it: heights against the blocks'
    time stamps (chain time, so a node catching up fast still shows the chain's rate)."""

    def __init__(self) -> None:
        self._points: deque[tuple[int, float]] = deque(maxlen=_RATE_POINTS)

    def observe(self, sample: NodeSample) -> None:
        if sample.height is None or sample.block_time is None:
            return
        if self._points:
            last_height, last_time = self._points[-1]
            if sample.height == last_height:
                return
            if sample.height < last_height or sample.block_time <= last_time:
                self._points.clear()  # a rollback or a different chain: measure afresh
        self._points.append((sample.height, sample.block_time))

    def blocks_per_second(self) -> float | None:
        """The observed rate, never below ICON's nominal one; None until two blocks were seen."""
        if len(self._points) < 2:
            return None
        (h0, t0), (h1, t1) = self._points[0], self._points[-1]
        return max((h1 - h0) / (t1 - t0), 1 / BLOCK_SECONDS)


def height_ceiling(sample: NodeSample, rate: float | None, now: float) -> int | None:
    """The highest the chain's tip can be now, given the node's last block and the chain's
    rate: ``height + age x rate x RATE_SLACK + margin``. None when it cannot be known."""
    if rate is None or sample.height is None or sample.block_time is None:
        return None
    age = max(0.0, now - sample.block_time)
    return sample.height + math.ceil(age * rate * RATE_SLACK) + REFERENCE_MARGIN_BLOCKS


@dataclass(frozen=True)
class ReferenceView:
    """The reference height lag is measured against, and the references left out of it."""

    height: int | None
    ignored: dict[str, str] = field(default_factory=dict)  # label -> why


def corroborate(heights: dict[str, int], *, ceiling: int | None, tolerance: int) -> ReferenceView:
    """The best height among the references that agree, so one lying reference cannot take
    a fleet out of service.

    1. A reference above ``ceiling`` that no other reference backs (within ``tolerance``) is
       ignored: the chain cannot be there yet.
    2. Of the rest, those further than ``tolerance`` from the lower median are ignored: with
       three or more the majority decides; of two that disagree the lower one counts, so one
       outlier can never make nodes unready on its own.
    """
    tolerance = max(tolerance, MIN_AGREEMENT_BLOCKS)
    ignored: dict[str, str] = {}
    kept = dict(heights)
    if ceiling is not None:
        for label, height in heights.items():
            backed = any(
                abs(other - height) <= tolerance for o, other in heights.items() if o != label
            )
            if height > ceiling and not backed:
                ignored[label] = (
                    f"height {height} is beyond what the chain can have made "
                    f"(at most {ceiling} from the node's own blocks)"
                )
                del kept[label]
    if len(kept) >= 2:
        median = statistics.median_low(kept.values())
        for label, height in list(kept.items()):
            if abs(height - median) > tolerance:
                ignored[label] = (
                    f"height {height} disagrees with the other references (median {median})"
                )
                del kept[label]
    return ReferenceView(max(kept.values()) if kept else None, ignored)


class Hysteresis:
    """Consecutive-result hysteresis. The first verdict is taken as is (no waiting at start)."""

    def __init__(self, *, rise: int, fall: int, name: str) -> None:
        if rise < 1 or fall < 1:
            raise ValueError("rise and fall must be >= 1")
        self.rise = rise
        self.fall = fall
        self.name = name
        self.ok: bool | None = None
        self.reason = f"starting: no {name} result yet"
        self._streak = 0
        self._last_bad = ""
        self.transitions = 0

    def update(self, verdict: Verdict) -> bool:
        """Feed one raw verdict; return whether the reported state changed."""
        if self.ok is None:
            self.ok = verdict.ok
            self.reason = verdict.reason
            self._last_bad = verdict.reason
            return True
        if verdict.ok == self.ok:
            self._streak = 0
            if not verdict.ok:
                self.reason = verdict.reason
                self._last_bad = verdict.reason
            return False
        self._streak += 1
        needed = self.rise if verdict.ok else self.fall
        if not verdict.ok:
            self._last_bad = verdict.reason
        if self._streak >= needed:
            self.ok = verdict.ok
            self.reason = verdict.reason
            self._streak = 0
            self.transitions += 1
            return True
        if not self.ok:  # still failing the probe while good results accumulate
            self.reason = f"recovering: {self._streak}/{self.rise} good polls ({self._last_bad})"
        return False
