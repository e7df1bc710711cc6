"""The agent's defaults, built in and from the canonical example specs."""

from __future__ import annotations

import pytest

from iconctl.agent.settings import HealthDefaults, health_defaults
from iconctl.errors import SpecError
from tests.helpers import EXAMPLES


def test_builtin_defaults():
    assert health_defaults(None) == HealthDefaults(30, 60.0, ())


def test_multi_region_example():
    defaults = health_defaults(EXAMPLES / "multi-region.yaml")
    assert defaults.max_lag_blocks == 30 and defaults.max_block_age == 60.0
    assert defaults.references == (
        "https://ctz.solidwallet.io/api/v3",
        "https://api.icon.community/api/v3",
    )


def test_single_node_example_uses_the_networks_references():
    defaults = health_defaults(EXAMPLES / "single-node.yaml")
    assert defaults.max_lag_blocks == 30
    assert defaults.references  # the network's public endpoints when the spec lists none
    assert all(url.startswith("https://") for url in defaults.references)


def test_invalid_spec_is_a_spec_error(tmp_path):
    bad = tmp_path / "iconctl.yaml"
    bad.write_text("health: {max_lag_blocks: -1}\n")
    with pytest.raises(SpecError):
        health_defaults(bad)
