"""The one readiness model the agent, `iconctl status` and the status page share."""

from __future__ import annotations

import pytest
import yaml

from iconctl import health
from iconctl.errors import InputError
from iconctl.health import (
    NamedUrl,
    NodeSample,
    Thresholds,
    Verdict,
    judge,
    parse_target,
    reference_view,
)
from iconctl.spec import load_spec, parse_spec
from tests.helpers import EXAMPLES

NOW = 1_800_000_000.0


def test_the_defaults_are_the_specs_defaults():
    spec = load_spec(EXAMPLES / "single-node.yaml")
    assert Thresholds() == Thresholds(30, 60.0)
    assert Thresholds.from_spec(None) == Thresholds()
    field = type(spec.health).model_fields
    assert field["max_lag_blocks"].default == health.DEFAULT_MAX_LAG_BLOCKS == 30
    assert field["max_block_age_seconds"].default == health.DEFAULT_MAX_BLOCK_AGE_SECONDS == 60


def test_from_spec_reads_the_health_section():
    data = yaml.safe_load((EXAMPLES / "single-node.yaml").read_text())
    data["health"] = {"max_lag_blocks": 7, "max_block_age_seconds": 45}
    spec = parse_spec(yaml.safe_dump(data))
    assert Thresholds.from_spec(spec) == Thresholds(7, 45.0)


def test_overrides_replace_only_what_is_given():
    limits = Thresholds(7, 45.0)
    assert limits.with_overrides() == limits
    assert limits.with_overrides(max_lag_blocks=0) == Thresholds(0, 45.0)
    assert limits.with_overrides(max_block_age_seconds=5.0) == Thresholds(7, 5.0)


@pytest.mark.parametrize(
    ("sample", "best", "verdict"),
    [
        # a probe's measured age is judged exactly: 60 s old is still in time at 60 s
        (NodeSample(True, height=1000, block_age=60.0), 1030, Verdict(True)),
        (
            NodeSample(True, height=1000, block_age=60.5),
            1030,
            Verdict(False, "last block 60s old > 60s (height 1000)"),
        ),
        (
            NodeSample(True, height=1000, block_age=1.0),
            1031,
            Verdict(False, "lag 31 blocks > 30 (node 1000, reference 1031)"),
        ),
        (
            NodeSample(True, height=1000, block_age=None),
            1000,
            Verdict(False, "node not answering: no answer"),
        ),
    ],
)
def test_judge_on_a_measured_age(sample, best, verdict):
    assert judge(sample, best, NOW, Thresholds()) == verdict


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://127.0.0.1:9000/api/v3", NamedUrl(None, "http://127.0.0.1:9000/api/v3")),
        ("us-east-1=https://h/api/v3", NamedUrl("us-east-1", "https://h/api/v3")),
        # a query string carries '=': it is part of the URL, not a name separator
        ("https://h/api/v3?key=abc", NamedUrl(None, "https://h/api/v3?key=abc")),
        ("eu=https://h/api/v3?key=abc&x=1", NamedUrl("eu", "https://h/api/v3?key=abc&x=1")),
        ("a_b.c=http://[::1]:9900/", NamedUrl("a_b.c", "http://[::1]:9900/")),
    ],
)
def test_parse_target(value, expected):
    assert parse_target(value, "--endpoint") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ftp://example", "not an http(s) URL; expected [REGION=]http(s)://"),
        ("example.org:9000", "not an http(s) URL"),
        ("http:///api/v3", "not an http(s) URL"),  # no host
        ("http://h:99999/api/v3", "not an http(s) URL"),  # port out of range
        ("http://[::1/api/v3", "not an http(s) URL"),  # broken IPv6 literal
        ("r=file:///etc/passwd", "not an http(s) URL"),
        ("=http://h/api/v3", "the region must be letters"),
        ("bad name=http://h/api/v3", "the region must be letters"),
        ("-x=http://h/api/v3", "the region must be letters"),
    ],
)
def test_parse_target_refuses(value, message):
    with pytest.raises(InputError, match=None) as caught:
        parse_target(value, "--endpoint", metavar="REGION")
    assert message in caught.value.message
    assert caught.value.message.startswith(f"--endpoint {value!r}: ")


def test_reference_view_takes_the_ceiling_from_the_most_advanced_node():
    # nodes at 1000 (10 s old) and 990: the tip is at most 1000 + 10 s x 0.5/s x 2 + 30 = 1040
    nodes = [
        NodeSample(True, height=990, block_age=1.0),
        NodeSample(True, height=1000, block_age=10.0),
    ]
    view = reference_view({"r1": 1040, "r2": 1041}, nodes, 0.0, tolerance=0)
    assert view.height == 1041, "two references that agree are believed above the ceiling"
    view = reference_view({"lone": 1041}, nodes, 0.0, tolerance=30)
    assert view.height is None and "at most 1040" in view.ignored["lone"]
    assert reference_view({"lone": 1040}, nodes, 0.0, tolerance=30).height == 1040


def test_reference_view_without_a_rate_has_no_ceiling():
    nodes = [NodeSample(True, height=1000, block_age=0.0)]
    view = reference_view({"far": 10**9}, nodes, 0.0, tolerance=30, rate=None)
    assert view.height == 10**9 and not view.ignored
    assert reference_view({"far": 10**9}, nodes, 0.0, tolerance=30).height is None
