"""The readiness rules and the hysteresis around them, free of I/O so they are easy to test.

One poll of the node gives a NodeSample; ``judge`` turns it (with the best reference height
and the clock) into a raw verdict; ``Hysteresis`` turns raw verdicts into the state the probes
report, flipping only after ``rise`` consecutive good or ``fall`` consecutive bad polls.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    sample: NodeSample, best_reference: int | None, now: float, limits: Thresholds
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
        suffix = "" if best_reference is not None else ", references down"
        return Verdict(
            False,
            f"last block {age:.0f}s old > {limits.max_block_age:g}s "
            f"(height {sample.height}{suffix})",
        )
    return Verdict(True)


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
