"""`iconctl status` options resolved into a StatusQuery (no probing here)."""

from __future__ import annotations

import pytest

from iconctl.errors import InputError, UsageError
from iconctl.health import Thresholds
from iconctl.status import StatusQuery, Target, target_from
from tests.helpers import EXAMPLES

ENDPOINT = "http://127.0.0.1:9000/api/v3"
AGENT = "http://10.0.1.5:9900"
KEYED = "https://h/api/v3?key=abc"  # a query string (an API key) is part of the URL


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("endpoint", ENDPOINT + "/", Target("endpoint", ENDPOINT)),
        ("agent", f"us-east-1={AGENT}", Target("agent", AGENT, "us-east-1")),
        ("endpoint", KEYED, Target("endpoint", KEYED)),
        ("endpoint", f"eu={KEYED}", Target("endpoint", KEYED, "eu")),
    ],
)
def test_targets(kind, value, expected):
    assert target_from(kind, value) == expected


def test_a_bad_target_names_the_option():
    with pytest.raises(
        InputError, match=r"^--agent 'ftp://x': not an http\(s\) URL; expected \[REGION="
    ):
        target_from("agent", "ftp://x")


def test_the_spec_gives_rules_references_and_the_default_target(tmp_path):
    query = StatusQuery.resolve(
        spec_path=None, endpoints=[], agents=[], references=[],
        default_spec=EXAMPLES / "multi-region.yaml",
    )  # fmt: skip
    assert query.spec is not None and query.limits == Thresholds.from_spec(query.spec)
    assert query.targets == [Target("endpoint", f"https://{query.spec.domain}/api/v3")]
    assert query.references == list(query.spec.references)


def test_without_spec_or_targets_there_is_nothing_to_check(tmp_path):
    with pytest.raises(UsageError, match="nothing to check"):
        StatusQuery.resolve(
            spec_path=None, endpoints=[], agents=[], references=[],
            default_spec=tmp_path / "iconctl.yaml",  # absent: not read
        )  # fmt: skip
    query = StatusQuery.resolve(
        spec_path=None, endpoints=["http://127.0.0.1:1"], agents=[], references=["http://r"],
        default_spec=tmp_path / "iconctl.yaml",
    )  # fmt: skip
    assert query.limits == Thresholds() and query.references == ["http://r"]
