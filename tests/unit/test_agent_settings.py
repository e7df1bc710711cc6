"""The agent's configuration from its options: built-in defaults, a spec's health section, and
options that override it (AgentConfig.resolve)."""

from __future__ import annotations

import pytest

from iconctl.agent import AgentConfig
from iconctl.errors import InputError, SpecError
from iconctl.health import Thresholds
from tests.helpers import EXAMPLES


def resolve(**options):
    return AgentConfig.resolve(node="http://127.0.0.1:9000", listen="127.0.0.1:9900", **options)


def test_builtin_defaults():
    config = resolve()
    assert config.limits == Thresholds(30, 60.0)
    assert config.references == []
    assert (config.host, config.port) == ("127.0.0.1", 9900)


def test_multi_region_example():
    config = resolve(spec_path=EXAMPLES / "multi-region.yaml")
    assert config.max_lag_blocks == 30 and config.max_block_age_seconds == 60.0
    assert config.references == [
        "https://ctz.solidwallet.io/api/v3",
        "https://api.icon.community/api/v3",
    ]


def test_single_node_example_uses_the_networks_references():
    config = resolve(spec_path=EXAMPLES / "single-node.yaml")
    assert config.max_lag_blocks == 30
    assert config.references  # the network's public endpoints when the spec lists none
    assert all(url.startswith("https://") for url in config.references)


def test_options_override_the_spec():
    config = resolve(
        spec_path=EXAMPLES / "multi-region.yaml",
        max_lag_blocks=9,
        max_block_age_seconds=15.0,
        references=["http://127.0.0.1:1/api/v3"],
        rise=2,
    )
    assert config.limits == Thresholds(9, 15.0)
    assert config.references == ["http://127.0.0.1:1/api/v3"] and config.rise == 2


def test_invalid_spec_is_a_spec_error(tmp_path):
    bad = tmp_path / "iconctl.yaml"
    bad.write_text("health: {max_lag_blocks: -1}\n")
    with pytest.raises(SpecError):
        resolve(spec_path=bad)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"listen": "9900"}, "--listen: expected HOST:PORT"),
        ({"max_block_age_seconds": 0.0}, "--max-block-age must be > 0"),
        ({"max_lag_blocks": -1}, "--max-lag-blocks must be >= 0"),
    ],
)
def test_bad_options_are_input_errors(options, message):
    with pytest.raises(InputError, match=message):
        AgentConfig.resolve(**{"node": "http://n", "listen": "127.0.0.1:0", **options})
