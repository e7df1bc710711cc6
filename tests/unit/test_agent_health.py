"""The readiness rules and hysteresis, without I/O."""

from __future__ import annotations

import pytest

from iconctl.agent.health import ChainRate, Hysteresis
from iconctl.health import (
    NodeSample,
    Thresholds,
    Verdict,
    corroborate,
    height_ceiling,
    judge,
)

NOW = 1_800_000_000.0
LIMITS = Thresholds(max_lag_blocks=30, max_block_age_seconds=60)


def node(height=1000, age=2.0, state="started", answered=True, error=""):
    return NodeSample(
        answered=answered,
        height=height,
        block_time=None if height is None else NOW - age,
        state=state,
        error=error,
    )


@pytest.mark.parametrize(
    ("sample", "best", "ok", "reason"),
    [
        (node(), 1010, True, ""),
        (node(), 1030, True, ""),  # exactly at the limit is still in sync
        (node(), 1031, False, "lag 31 blocks > 30 (node 1000, reference 1031)"),
        (node(), 990, True, ""),  # ahead of the references
        (node(age=61), 1000, False, "last block 61s old > 60s (height 1000)"),
        (node(age=61), None, False, "last block 61s old > 60s (height 1000, references down)"),
        (node(), None, True, ""),  # references down: own progress decides
        (node(state="stopped"), 1000, False, "admin state stopped"),
        (
            node(height=None, answered=False, error="connection refused"),
            1000,
            False,
            "node not answering: connection refused",
        ),
        (
            node(height=None, state=None, error="timeout"),
            None,
            False,
            "node not answering: timeout",
        ),
    ],
)
def test_judge(sample, best, ok, reason):
    assert judge(sample, best, NOW, LIMITS) == Verdict(ok, reason)


def test_admin_state_is_unknown_when_admin_is_unavailable():
    assert judge(node(state=None), 1000, NOW, LIMITS).ok


def feed(h: Hysteresis, results: str) -> str:
    """Feed 'g'ood/'b'ad verdicts; return the reported state after each as '+'/'-'."""
    out = ""
    for r in results:
        h.update(Verdict(True) if r == "g" else Verdict(False, "lag"))
        out += "+" if h.ok else "-"
    return out


def test_hysteresis_needs_consecutive_results():
    h = Hysteresis(rise=3, fall=2, name="readiness")
    assert h.ok is None and h.reason.startswith("starting")
    assert feed(h, "g") == "+"  # the first result is taken as is
    assert feed(h, "bgbgbg") == "++++++"  # alternating results never flip
    assert feed(h, "bb") == "+-"  # fall=2: the second bad result in a row flips
    assert h.transitions == 1
    assert feed(h, "ggbgg") == "-----"  # a bad result restarts the count
    assert h.reason.startswith("recovering: 2/3 good polls")
    assert feed(h, "g") == "+"
    assert h.transitions == 2 and h.reason == ""


def test_hysteresis_of_one_follows_every_result():
    h = Hysteresis(rise=1, fall=1, name="readiness")
    assert feed(h, "gbgb") == "+-+-"


def test_hysteresis_rejects_zero():
    with pytest.raises(ValueError):
        Hysteresis(rise=0, fall=1, name="x")


@pytest.mark.parametrize(
    ("heights", "ceiling", "best", "ignored"),
    [
        ({"a": 1000, "b": 1002, "c": 10**9}, None, 1002, {"c"}),  # the majority decides
        ({"a": 1000, "b": 10**9}, None, 1000, {"b"}),  # of two that disagree, the lower
        ({"a": 1000, "b": 1005}, None, 1005, set()),  # within tolerance: the best counts
        ({"a": 10**9}, 1100, None, {"a"}),  # alone and beyond the chain's possible progress
        ({"a": 1090}, 1100, 1090, set()),
        ({"a": 1200, "b": 1201, "c": 10**9}, 1100, 1201, {"c"}),  # two agreeing outweigh it
        ({"a": 900, "b": 1000, "c": 1001}, None, 1001, {"a"}),  # a reference stuck behind
        ({}, 1100, None, set()),
    ],
)
def test_corroborate(heights, ceiling, best, ignored):
    view = corroborate(heights, ceiling=ceiling, tolerance=30)
    assert view.height == best and set(view.ignored) == ignored


def test_chain_rate_and_ceiling():
    rate = ChainRate()
    assert rate.blocks_per_second() is None
    rate.observe(node(height=1000, age=40))
    rate.observe(node(height=1000, age=40))  # the same block again: no new information
    assert rate.blocks_per_second() is None
    rate.observe(node(height=1040, age=0))  # 40 blocks in 40 s of chain time
    assert rate.blocks_per_second() == 1.0
    # the tip can be at most age x rate x 2 + margin ahead of the node's last block
    assert height_ceiling(node(height=1040, age=10), 1.0, NOW) == 1040 + 20 + 30
    assert height_ceiling(node(height=1040, age=10), None, NOW) is None
    slow = ChainRate()
    slow.observe(node(height=1000, age=100))
    slow.observe(node(height=1001, age=0))
    assert slow.blocks_per_second() == 0.5  # never below ICON's nominal rate
