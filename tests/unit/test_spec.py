"""The spec: both canonical examples validate; every class of bad input is located and refused."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from iconctl.errors import SpecError
from iconctl.spec import load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "specs"
BUNDLED = ROOT / "src" / "iconctl" / "examples"
LINKED = ROOT / "examples"  # the repository's top-level examples/ (links to the bundled ones)
MULTI = (FIXTURES / "multi-region.yaml").read_text()
SINGLE = (FIXTURES / "single-node.yaml").read_text()


@pytest.mark.parametrize("name", ["multi-region.yaml", "single-node.yaml"])
def test_examples_validate_unchanged(name: str) -> None:
    assert (BUNDLED / name).read_bytes() == (FIXTURES / name).read_bytes()
    assert (LINKED / name).read_bytes() == (FIXTURES / name).read_bytes()
    spec = load_spec(FIXTURES / name)
    assert spec.version == 1


def test_multi_region_example_content() -> None:
    spec = parse_spec(MULTI)
    assert [(r.name, r.cloud, r.flavour) for r in spec.regions] == [
        ("us-east-1", "aws", "asg"),
        ("eu-central-1", "aws", "asg"),
        ("asia-northeast1", "gcp", "asg"),
    ]
    assert spec.geo is not None and spec.geo.api_token == "env:CLOUDFLARE_API_TOKEN"
    assert spec.snapshot_bucket(spec.regions[2]) == "icon-api-snapshots-asia-northeast1"
    assert spec.references == (
        "https://ctz.solidwallet.io/api/v3",
        "https://api.icon.community/api/v3",
    )


def test_single_node_defaults() -> None:
    spec = parse_spec(SINGLE)
    region = spec.regions[0]
    assert (region.nodes_min, region.nodes_max) == (1, 1)
    assert spec.node.rpc_port == 9000 and spec.node.p2p_port == 7100
    assert spec.references == ("https://lisbon.net.solidwallet.io/api/v3",)
    assert spec.snapshot_bucket(region) is None


def test_boot_grace_is_derived_from_the_restore_a_region_needs() -> None:
    spec = parse_spec(MULTI)  # sync on, data volumes of the default 2500 GiB
    # 10 + ceil(2500 GiB * 1024 / 478 MiB/s / 60 * 2) = 10 + ceil(178.5)
    assert [spec.boot_grace_minutes(r) for r in spec.regions] == [189, 189, 189]
    small = parse_spec(
        MULTI.replace("    instance_type: i4i.xlarge # local NVMe\n",
                      "    instance_type: i4i.xlarge # local NVMe\n    data_volume_gib: 100\n", 1)
    )  # fmt: skip
    assert small.boot_grace_minutes(small.regions[0]) == 10 + 8  # ceil(7.14)
    no_sync = parse_spec(MULTI.replace("  enabled: true", "  enabled: false", 1))
    assert no_sync.boot_grace_minutes(no_sync.regions[0]) == 10  # the node starts empty
    fixed = parse_spec(MULTI.replace("health:\n", "health:\n  boot_grace_minutes: 45\n", 1))
    assert [fixed.boot_grace_minutes(r) for r in fixed.regions] == [45, 45, 45]


@pytest.mark.parametrize("minutes", [4, 1441])
def test_boot_grace_is_bounded(minutes: int) -> None:
    text = MULTI.replace("health:\n", f"health:\n  boot_grace_minutes: {minutes}\n", 1)
    assert any("health.boot_grace_minutes" in line for line in _errors(text))


def test_spec_is_immutable() -> None:
    spec = parse_spec(SINGLE)
    with pytest.raises(Exception, match="frozen"):
        spec.name = "other"  # type: ignore[misc]


def _errors(text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, filename="spec.yaml")
    return caught.value.lines()


# (case id, how to break the multi-region example, expected "LINE: path: message" fragment)
INVALID = [
    ("unknown-key", ("    flavour: asg              # single | asg", "    flavor: asg"),
     "spec.yaml:21: regions[0].flavor: unknown field (did you mean 'flavour'?)"),
    ("unknown-top-key", ("network: mainnet", "netwrok: mainnet"),
     "spec.yaml:4: netwrok: unknown field (did you mean 'network'?)"),
    ("literal-secret", ("api_token: env:CLOUDFLARE_API_TOKEN", "api_token: s3cr3t-t0ken-value"),
     "spec.yaml:58: geo.api_token: literal secrets are not allowed"),
    ("literal-webhook", ("slack_webhook: env:SLACK_WEBHOOK_URL",
                         "slack_webhook: https://hooks.example/T000/B000"),
     "spec.yaml:63: monitoring.alerts.slack_webhook: literal secrets are not allowed"),
    ("aws-name-on-gcp", ("  - name: asia-northeast1", "  - name: ap-northeast-1"),
     "spec.yaml:31: regions[2].name: 'ap-northeast-1' is an AWS region name"),
    ("gcp-name-on-aws", ("  - name: eu-central-1", "  - name: europe-west3"),
     "spec.yaml:25: regions[1].name: 'europe-west3' is a GCP region name"),
    ("min-over-max", ("    min_size: 2\n    max_size: 6\n  - name: eu",
                      "    min_size: 9\n    max_size: 6\n  - name: eu"),
     "spec.yaml:23: regions[0].min_size: min_size (9) is larger than max_size (6)"),
    ("duplicate-region", ("  - name: eu-central-1", "  - name: us-east-1"),
     "spec.yaml:25: regions[1].name: region us-east-1 is repeated"),
    ("port-range", ("rpc_port: 9000", "rpc_port: 90000"),
     "spec.yaml:9: node.rpc_port: Input should be less than or equal to 65535 (got 90000)"),
    ("same-ports", ("rpc_port: 9000", "rpc_port: 7100"),
     "spec.yaml:10: node.p2p_port: rpc_port and p2p_port must differ"),
    ("name-not-dns-label", ("name: icon-api", "name: Icon_API"),
     "spec.yaml:3: name: 'Icon_API' is not a DNS label"),
    ("domain-not-hostname", ("domain: api.example.org ", "domain: api..example "),
     "spec.yaml:5: domain: 'api..example' is not a fully qualified lowercase hostname"),
    ("version", ("version: 1", "version: 2"), "spec.yaml:2: version: Input should be 1 (got 2)"),
    ("network", ("network: mainnet", "network: testnet"),
     "spec.yaml:4: network: Input should be 'mainnet', 'lisbon' or 'berlin' (got 'testnet')"),
    ("missing-field", ("    instance_type: i4i.xlarge # local NVMe\n", ""),
     "spec.yaml:19: regions[0].instance_type: required field is missing"),
    ("yaml-syntax", ("  steering: geo", "   steering: [geo"), "spec.yaml:57: YAML syntax error"),
    ("duplicate-key", ("network: mainnet ", "network: mainnet\nnetwork: lisbon "),
     "spec.yaml:5: network: duplicate key"),
    ("gcp-without-project", ("gcp:\n  project: my-icon-project\n", ""),
     "spec.yaml:32: regions[2].cloud: a gcp region needs gcp.project"),
    ("domain-outside-zone", ("  zone: example.org", "  zone: example.net"),
     "spec.yaml:5: domain: api.example.org is not inside geo.zone example.net"),
    ("sync-without-bucket", ("  bucket_prefix: icon-api-snapshots", "  #"),
     "spec.yaml:41: sync.bucket_prefix: required when sync is enabled"),
    ("telegram-half", ('  telegram_chat_id: "-1001234567890"', ""),
     "monitoring.alerts.telegram_chat_id: telegram_bot_token and telegram_chat_id go together"),
    ("bad-instance-type", ("    instance_type: n2-standard-8", "    instance_type: n2.standard"),
     "spec.yaml:34: regions[2].instance_type: 'n2.standard' is not a gcp machine type"),
    ("min-ready-over-min-size", ("  steering: geo", "  steering: geo\n  min_ready_nodes: 3"),
     "geo.min_ready_nodes: 3 is more than regions[0] (us-east-1) keeps running (min_size 2)"),
    ("s3-state-without-region", ("  region: us-east-1\n\nregions", "\nregions"),
     "spec.yaml:13: state.region: required with backend s3"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("old_new", "expected"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_input_is_located(old_new: tuple[str, str], expected: str) -> None:
    old, new = old_new
    assert old in MULTI, f"test case no longer applies: {old!r}"
    lines = _errors(MULTI.replace(old, new, 1))
    assert any(expected in line for line in lines), lines


def test_literal_secret_value_is_never_echoed() -> None:
    lines = _errors(MULTI.replace("env:ELASTICSEARCH_PASSWORD", "hunter2-sentinel"))
    assert lines and not any("hunter2-sentinel" in line for line in lines)


def test_several_problems_reported_together() -> None:
    text = MULTI.replace("rpc_port: 9000", "rpc_port: 0").replace("keep: 24", "keep: 0")
    lines = _errors(text)
    assert any("node.rpc_port" in line for line in lines)
    assert any("sync.keep" in line for line in lines)


@pytest.mark.timeout(10)
def test_alias_bomb_rejected_quickly() -> None:
    levels = ["a: &a [" + ",".join(['"lol"'] * 9) + "]"]
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        levels.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    started = time.monotonic()
    lines = _errors("\n".join(levels) + "\n")
    assert time.monotonic() - started < 5
    assert any("alias bomb" in line for line in lines)


def test_oversized_file_rejected(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("# padding\n" * 200_000)
    with pytest.raises(SpecError, match="at most 1048576 bytes"):
        load_spec(big)


def test_deep_nesting_rejected() -> None:
    lines = _errors("version: 1\nx: " + "[" * 100 + "]" * 100 + "\n")
    assert any("nested deeper" in line for line in lines)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("", "the file is empty"), ("- a\n- b\n", "the top level must be a mapping"),
     ("a: 1\n---\nb: 2\n", "YAML syntax error"),
     ("a: *zz\n", "spec.yaml:1: YAML syntax error: found undefined alias 'zz'"),
     ("version: 1\nname: !shout x\n",
      "spec.yaml:2: YAML error: could not determine a constructor")],
)  # fmt: skip
def test_document_shape(text: str, fragment: str) -> None:
    assert any(fragment in line for line in _errors(text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such file"):
        load_spec(tmp_path / "nope.yaml")


def test_not_utf8(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(SpecError, match="not UTF-8"):
        load_spec(bad)
