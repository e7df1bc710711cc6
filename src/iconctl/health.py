"""Readiness, in one place: the thresholds, the ``[NAME=]URL`` targets and the judgement that
the agent, ``iconctl status`` and the status page share (docs/agent.md).

``Thresholds`` holds the two limits under the spec's spelling (``max_lag_blocks``,
``max_block_age_seconds``); ``judge`` turns one reading of a node (a ``NodeSample``), the best
reference height and the clock into a ``Verdict``; ``reference_view`` (``corroborate`` under a
``height_ceiling``) picks the reference height lag is measured against, so one lying reference
cannot mislead anyone.
Everything here is free of I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from iconctl.errors import InputError

if TYPE_CHECKING:
    from iconctl.spec import Spec

# The defaults, written once: the spec's `health` section, the agent's options and every
# report fall back to these.
DEFAULT_MAX_LAG_BLOCKS = 30
DEFAULT_MAX_BLOCK_AGE_SECONDS = 60

# The reference rule (docs/agent.md, "Which reference height counts"). ICON makes a block
# about every 2 s; the chain cannot run faster than RATE_SLACK times its observed rate.
BLOCK_SECONDS = 2.0
RATE_SLACK = 2.0
REFERENCE_MARGIN_BLOCKS = 30  # clock skew between this host and the proposers; poll timing
MIN_AGREEMENT_BLOCKS = 10  # references polled a few seconds apart differ by a few blocks


@dataclass(frozen=True)
class Thresholds:
    """How far behind, and how stale, a node may be and still serve."""

    max_lag_blocks: int = DEFAULT_MAX_LAG_BLOCKS
    max_block_age_seconds: float = float(DEFAULT_MAX_BLOCK_AGE_SECONDS)

    @classmethod
    def from_spec(cls, spec: Spec | None) -> Thresholds:
        """The spec's `health` section, or the defaults without a spec."""
        if spec is None:
            return cls()
        return cls(spec.health.max_lag_blocks, float(spec.health.max_block_age_seconds))

    def with_overrides(
        self, *, max_lag_blocks: int | None = None, max_block_age_seconds: float | None = None
    ) -> Thresholds:
        """These limits with any given value in place of its own (command-line options)."""
        return Thresholds(
            self.max_lag_blocks if max_lag_blocks is None else max_lag_blocks,
            self.max_block_age_seconds if max_block_age_seconds is None else max_block_age_seconds,
        )

    def too_far(self, lag: float | None) -> bool:
        return lag is not None and lag > self.max_lag_blocks

    def too_old(self, age: float | None) -> bool:
        return age is not None and age > self.max_block_age_seconds


@dataclass(frozen=True)
class NodeSample:
    """What one reading of a node found. ``answered``: the node spoke HTTP/JSON-RPC at all."""

    answered: bool
    height: int | None = None
    block_time: float | None = None  # seconds since the epoch, from the block's time_stamp
    state: str | None = None  # the chain state from /admin/chain, None when unknown
    error: str = ""
    # the last block's age as a probe measured it (`status`, the status page), for readers
    # that have an age rather than a time stamp
    block_age: float | None = None

    def age(self, now: float) -> float | None:
        """Seconds since the last block, or None when unknown."""
        if self.block_age is not None:
            return self.block_age
        return None if self.block_time is None else now - self.block_time


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
    """Readiness from one reading. With no reference answering, the node's own progress
    (the age of its last block) decides, so an outage of the public references cannot take a
    whole fleet out of service. The reason is what `/readyz` says after ``UNHEALTHY``."""
    if sample.state is not None and sample.state != "started":
        return Verdict(False, f"admin state {sample.state}")
    age = sample.age(now)
    if sample.height is None or age is None:
        error = sample.error or "no answer"
        return Verdict(False, f"node not answering: {error}")
    if best_reference is not None:
        lag = best_reference - sample.height
        if limits.too_far(lag):
            return Verdict(
                False,
                f"lag {lag} blocks > {limits.max_lag_blocks} "
                f"(node {sample.height}, reference {best_reference})",
            )
    if limits.too_old(age):
        suffix = "" if best_reference is not None else f", {no_reference}"
        return Verdict(
            False,
            f"last block {age:.0f}s old > {limits.max_block_age_seconds:g}s "
            f"(height {sample.height}{suffix})",
        )
    return Verdict(True)


def height_ceiling(sample: NodeSample, rate: float | None, now: float) -> int | None:
    """The highest the chain's tip can be now, given the node's last block and the chain's
    rate: ``height + age x rate x RATE_SLACK + margin``. None when it cannot be known."""
    age = sample.age(now)
    if rate is None or sample.height is None or age is None:
        return None
    age = max(0.0, age)
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
    import statistics  # here, not at the top: the spec model imports this module for its defaults

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


def reference_view(
    heights: Mapping[str, int],
    nodes: Iterable[NodeSample],
    now: float,
    *,
    tolerance: int,
    rate: float | None = 1 / BLOCK_SECONDS,
) -> ReferenceView:
    """The reference height lag is measured against: the one rule of the agent, ``iconctl
    status`` and the status page (docs/agent.md, "Which reference height counts").

    ``heights`` are the references' answers by label; the ceiling comes from the nodes' own
    readings (the highest any of them allows) at ``rate`` blocks per second: the agent passes
    the rate its node's blocks show (None until known: no ceiling yet), one-shot probes keep
    ICON's nominal rate. ``tolerance`` is ``max_lag_blocks``."""
    ceilings = [height_ceiling(node, rate, now) for node in nodes]
    ceiling = max((c for c in ceilings if c is not None), default=None)
    return corroborate(dict(heights), ceiling=ceiling, tolerance=tolerance)


# --- targets: [NAME=]URL ---------------------------------------------------------------------

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


@dataclass(frozen=True)
class NamedUrl:
    """One ``[NAME=]URL`` option value: the name (a region, a label) or None, and the URL."""

    name: str | None
    url: str


def parse_target(value: str, option: str, *, metavar: str = "NAME") -> NamedUrl:
    """``NAME=URL`` or ``URL``. The name is letters, digits, '.', '-', '_'; the URL is http(s)
    with a host, and may carry a query string (``=`` inside it is not a name separator)."""
    name, sep, url = value.partition("=")
    if not sep or "://" in name:
        name, url = "", value
    elif not _NAME.match(name):
        raise InputError(
            f"{option} {value!r}: the {metavar.lower()} must be letters, digits, '.', '-', '_' "
            f"(expected [{metavar}=]URL)"
        )
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        _ = parts.port  # raises ValueError for a port out of range
    except ValueError:
        valid = False
    if not valid:
        raise InputError(
            f"{option} {value!r}: not an http(s) URL; "
            f"expected [{metavar}=]http(s)://host[:port][/path]"
        )
    return NamedUrl(name or None, url)
