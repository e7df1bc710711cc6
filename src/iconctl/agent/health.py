"""The agent's state around the shared readiness rules (``iconctl.health``), free of I/O.

``ChainRate`` follows the chain's block rate from the node's own blocks (for the reference
ceiling); ``Hysteresis`` turns raw verdicts into the state the probes report, flipping only
after ``rise`` consecutive good or ``fall`` consecutive bad polls.
"""

from __future__ import annotations

from collections import deque

from iconctl.health import BLOCK_SECONDS, NodeSample, Verdict

_RATE_POINTS = 64


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
