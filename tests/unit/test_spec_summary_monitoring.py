"""The spec summary says where the global view runs and which regions nothing alerts on."""

from __future__ import annotations

from pathlib import Path

from iconctl.spec import parse_spec
from iconctl.spec.summary import summary, text

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "iconctl" / "examples"


def _spec(extra: str = "", *, prometheus: bool = True):
    source = (EXAMPLES / "multi-region.yaml").read_text()
    if not prometheus:
        source = source.replace("  prometheus: true\n", "  prometheus: false\n", 1)
    if extra:
        source = source.replace("monitoring:\n", "monitoring:\n" + extra, 1)
    return parse_spec(source, filename="multi-region.yaml")


def test_regions_without_a_federation_entry_are_named():
    data = summary(_spec())
    assert data["monitoring"] == {
        "global_region": "us-east-1",
        "federated": ["us-east-1"],
        "not_federated": ["eu-central-1", "asia-northeast1"],
    }
    assert "not alerted on: eu-central-1, asia-northeast1" in text(data)


def test_federated_regions_and_the_named_global_region():
    extra = (
        "  global_region: eu-central-1\n"
        "  federation:\n"
        "    us-east-1: http://10.10.255.200:9090\n"
        "    asia-northeast1: https://10.30.0.9:9090\n"
    )
    data = summary(_spec(extra))
    assert data["monitoring"]["federated"] == ["eu-central-1", "us-east-1", "asia-northeast1"]
    assert data["monitoring"]["not_federated"] == []
    assert "not federated" not in text(data)


def test_monitoring_off_says_nothing():
    data = summary(_spec(prometheus=False))
    assert data["monitoring"] is None
    assert "monitoring:" not in text(data)
