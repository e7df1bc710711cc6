"""The monitoring unit kind (pipeline/units.py ``MonitoringHost``): its steps, what preflight
checks for it, the region's network it takes from the region's recorded outputs, where it
runs in the order (after its region, before the global layer; destroyed before its region),
and its config step's inventory, variables and secrets, with a stand-in for ansible-runner."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from iconctl.pipeline import Pipeline
from iconctl.pipeline.results import Report, StepResult
from iconctl.pipeline.units import MonitoringHost, Retiring, Unit
from iconctl.spec import parse_spec
from tests.helpers import EXAMPLES

NETWORK = {
    "vpc_id": "vpc-1",
    "vpc_cidr_block": "10.42.0.0/16",
    "subnet_ids": ["subnet-1"],
    "node_security_group_ids": ["sg-1"],
}


def _pipeline(tmp_path: Path, example: str = "multi-region", **options: Any) -> Pipeline:
    path = tmp_path / "iconctl.yaml"
    text = (EXAMPLES / f"{example}.yaml").read_text()
    path.write_text(text)
    spec = parse_spec(text, filename=str(path))
    return Pipeline(spec, path, say=lambda _: None, **options)


def _unit(pipeline: Pipeline, name: str) -> MonitoringHost:
    unit = next(u for u in pipeline.units if u.name == name)
    assert isinstance(unit, MonitoringHost)
    return unit


def _record_region(pipeline: Pipeline, region: str, outputs: dict[str, Any]) -> None:
    entry = {"fingerprint": "-", "at": "-", "outputs": {"terraform_outputs": outputs}}
    pipeline.ws.record(f"{region}/infra", entry)


def test_tools_for_apply_with_configure_include_the_session_tooling(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path)
    aws = _unit(pipeline, "us-east-1-monitoring")
    gcp = _unit(pipeline, "asia-northeast1-monitoring")
    assert aws.tools("apply") == {"terraform", "ansible-playbook", "aws", "session-manager-plugin"}
    assert gcp.tools("apply") == {"terraform", "ansible-playbook", "gcloud"}
    assert aws.tools("plan") == aws.tools("destroy") == {"terraform"}
    assert aws.clouds() == {"aws"} and gcp.clouds() == {"gcp", "aws"}  # the state bucket: s3


def test_without_configure_only_terraform(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path, configure=False)
    unit = _unit(pipeline, "us-east-1-monitoring")
    assert [s.name for s in unit.steps()] == ["infra"]
    assert unit.tools("apply") == {"terraform"}
    assert unit.secrets("apply") == []


def test_only_the_global_hosts_config_resolves_secrets(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path)
    assert _unit(pipeline, "us-east-1-monitoring").secrets("apply") == [
        ("monitoring.alerts.slack_webhook", "env:SLACK_WEBHOOK_URL"),
        ("monitoring.alerts.telegram_bot_token", "env:TELEGRAM_BOT_TOKEN"),
        ("logging.elasticsearch_password", "env:ELASTICSEARCH_PASSWORD"),
    ]
    assert _unit(pipeline, "us-east-1-monitoring").secrets("plan") == []
    assert _unit(pipeline, "eu-central-1-monitoring").secrets("apply") == []


def test_preflight_of_apply_needs_the_session_manager_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from iconctl import preflight

    pipeline = _pipeline(tmp_path, "single-node")
    asked: list[set[str]] = []
    monkeypatch.setattr(preflight, "check_tools", lambda tools, env: asked.append(set(tools)))
    monkeypatch.setattr(preflight, "check_credentials", lambda clouds, env: None)
    pipeline._preflight("apply")
    pipeline._preflight("plan")
    assert asked[0] >= {"session-manager-plugin", "aws", "ansible-playbook", "terraform"}
    assert "session-manager-plugin" not in asked[1]


def test_the_region_network_comes_from_the_regions_recorded_outputs(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path)
    unit = _unit(pipeline, "eu-central-1-monitoring")
    assert unit.runtime_inputs() == {}
    _record_region(pipeline, "us-east-1", {"monitoring_network": {**NETWORK, "vpc_id": "other"}})
    _record_region(pipeline, "eu-central-1", {"monitoring_network": NETWORK, "vpc_id": "x"})
    assert unit.runtime_inputs() == {"region_network": NETWORK}


def test_plan_before_the_region_exists_is_deferred(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path, "single-node")
    [result] = _unit(pipeline, "us-east-2-monitoring").plan(tmp_path)
    assert (result.step, result.status) == ("infra", "deferred")
    assert "us-east-2's network" in (result.note or "")


def test_destroy_without_a_recorded_region_runs_nothing(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path, "single-node")
    [result] = _unit(pipeline, "us-east-2-monitoring").destroy(tmp_path)
    assert result.status == "skipped"


def _ran(pipeline: Pipeline, command: str) -> list[list[str]]:
    """The stages the pipeline runs, in order: unit names run side by side."""
    stages: list[list[str]] = []
    lock = threading.Lock()

    def work(unit: Unit, run_dir: Path) -> list[StepResult]:
        with lock:
            stages.append([unit.name])
        return [StepResult(unit.name, "infra", "done")]

    pipeline._in_order(Report(command, pipeline.ws.root), work, pipeline.order(command))
    return stages


def test_order_regions_then_their_monitoring_hosts_then_global(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path)
    names = [name for [name] in _ran(pipeline, "apply")]
    position = {name: i for i, name in enumerate(names)}
    for region in ("us-east-1", "eu-central-1", "asia-northeast1"):
        assert position[region] < position[f"{region}-monitoring"] < position["global"]
        assert position["state-backend"] < position[region]
    # Destroy: the monitoring hosts go before the regions whose firewall they opened.
    names = [name for [name] in _ran(pipeline, "destroy")]
    position = {name: i for i, name in enumerate(names)}
    for region in ("us-east-1", "eu-central-1", "asia-northeast1"):
        assert position["global"] < position[f"{region}-monitoring"] < position[region]


def test_region_filter_keeps_the_regions_monitoring_host(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path, regions=["eu-central-1"])
    assert [u.name for u in pipeline.units] == ["eu-central-1", "eu-central-1-monitoring"]


def test_config_step_runs_the_monitoring_playbook_with_the_contract(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The config step writes the inventory from Terraform's outputs, adds the files tree's
    absolute path to the role's variables, and hands the secrets to ansible-runner's
    environment only (never a file)."""
    from iconctl.pipeline import units

    monkeypatch.setenv("SLACK_WEBHOOK_URL", "sentinel-slack")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "sentinel-telegram")
    monkeypatch.setenv("ELASTICSEARCH_PASSWORD", "sentinel-es")
    runs: list[dict[str, Any]] = []

    class StandIn:
        def __init__(self, private: Path, **kwargs: Any) -> None:
            self.private, self.env = private, kwargs["env"]

        def run(self, playbook: Path) -> dict[str, Any]:
            runs.append({"private": self.private, "env": self.env, "playbook": playbook})
            return {}

    monkeypatch.setattr(units, "Ansible", StandIn)
    from iconctl import secrets

    resolved: list[str] = []
    real_resolve = secrets.resolve

    def counting(ref: str, **kwargs: Any) -> str:
        resolved.append(ref)
        return real_resolve(ref, **kwargs)

    monkeypatch.setattr(secrets, "resolve", counting)
    pipeline = _pipeline(tmp_path)
    unit = _unit(pipeline, "us-east-1-monitoring")
    # the step's fingerprint and the step itself resolve the secrets once between them
    unit.fingerprint(next(s for s in unit.steps() if s.name == "config"), {})
    # the render wrote the host's files tree; the step copies it beside the run
    files = pipeline.ws.build / "us-east-1" / "monitoring" / "files" / "prometheus"
    assert (files / "prometheus.yml").is_file()
    outputs = {
        "ansible_hosts": {"icon_monitoring": ["i-0abc"]},
        "ansible_vars": {"ansible_ssh_common_args": "-o ProxyCommand=...",
                         "icon_monitoring_listen_address": "10.42.255.200"},
    }  # fmt: skip
    assert unit._config(tmp_path, {"terraform_outputs": outputs}) == {}
    [run] = runs
    assert run["playbook"] == pipeline.ctx.assets / "ansible" / "playbooks" / "monitoring.yml"
    private: Path = run["private"]
    inventory = yaml.safe_load((private / "inventory" / "hosts.yml").read_text())
    assert inventory["all"]["children"] == {"icon_monitoring": {"hosts": {"i-0abc": {}}}}
    assert inventory["all"]["vars"]["icon_monitoring_listen_address"] == "10.42.255.200"
    extravars = yaml.safe_load((private / "env" / "extravars").read_text())
    files_dir = Path(extravars["icon_monitoring_files_dir"])
    assert files_dir.is_absolute() and (files_dir / "prometheus" / "prometheus.yml").is_file()
    assert extravars["icon_monitoring_global"] is True
    assert run["env"]["ICON_MONITORING_SLACK_WEBHOOK_URL"] == "sentinel-slack"
    assert run["env"]["ICON_MONITORING_TELEGRAM_BOT_TOKEN"] == "sentinel-telegram"
    assert run["env"]["ICON_MONITORING_ELASTICSEARCH_PASSWORD"] == "sentinel-es"
    assert len(resolved) == 3
    for path in pipeline.ws.root.rglob("*"):
        if path.is_file():
            assert "sentinel-" not in path.read_text(errors="replace"), path


def test_config_step_of_a_regional_host_gets_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from iconctl.pipeline import units

    envs: list[dict[str, str]] = []

    class StandIn:
        def __init__(self, private: Path, **kwargs: Any) -> None:
            envs.append(kwargs["env"])

        def run(self, playbook: Path) -> dict[str, Any]:
            return {}

    monkeypatch.setattr(units, "Ansible", StandIn)
    pipeline = _pipeline(tmp_path)
    unit = _unit(pipeline, "eu-central-1-monitoring")
    unit._config(tmp_path, {"terraform_outputs": {"ansible_hosts": {"icon_monitoring": ["i-1"]}}})
    assert [k for k in envs[0] if k.startswith("ICON_MONITORING_")] == []


def test_config_without_a_reported_host_fails_the_step(tmp_path: Path) -> None:
    from iconctl.errors import IconctlError

    pipeline = _pipeline(tmp_path)
    unit = _unit(pipeline, "us-east-1-monitoring")
    with pytest.raises(IconctlError, match="reported no monitoring host") as caught:
        unit._config(tmp_path, {"terraform_outputs": {"ansible_hosts": {"icon_monitoring": []}}})
    assert int(caught.value.exit_code) == 5


def test_a_rotated_secret_changes_the_config_fingerprint_and_never_shows_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rotated Slack webhook must re-run the global host's config step (the old one stays
    on the host otherwise); progress.json holds a keyed digest, never the value."""
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.example/one")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:first")
    monkeypatch.setenv("ELASTICSEARCH_PASSWORD", "pw")
    pipeline = _pipeline(tmp_path)
    unit = _unit(pipeline, "us-east-1-monitoring")
    config = next(s for s in unit.steps() if s.name == "config")
    first = unit.fingerprint(config, {})
    assert unit.fingerprint(config, {}) == first  # stable while nothing changes
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.example/two")
    assert unit.fingerprint(config, {}) == first  # resolved once per run
    unit = _unit(_pipeline(tmp_path), "us-east-1-monitoring")  # the next run
    config = next(s for s in unit.steps() if s.name == "config")
    second = unit.fingerprint(config, {})
    assert second != first
    key = pipeline.ws.root / "fingerprint.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert config.pinned is not None and "hooks.example" not in config.pinned()
    # a regional host reads no secret: its fingerprint does not move with them
    regional = _unit(pipeline, "eu-central-1-monitoring")
    step = next(s for s in regional.steps() if s.name == "config")
    before = regional.fingerprint(step, {})
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.example/three")
    assert regional.fingerprint(step, {}) == before


def _without(tmp_path: Path, old: str, new: str, say: Callable[[str], None]) -> Pipeline:
    """The multi-region example with ``old`` replaced, beside the same progress.json."""
    text = (EXAMPLES / "multi-region.yaml").read_text()
    assert old in text
    path = tmp_path / "iconctl.yaml"
    path.write_text(text.replace(old, new, 1))
    return Pipeline(parse_spec(path.read_text(), filename=str(path)), path, say=say)


def test_monitoring_turned_off_removes_the_hosts_first(tmp_path: Path) -> None:
    """monitoring.prometheus: false after an apply: the hosts that were applied are removed
    (planned as a destroy), before the regions change, and first of all by destroy; from
    inputs rendered beside the build, not from the spec's (which has none)."""
    said: list[str] = []
    on = _pipeline(tmp_path)
    on.ws.record("us-east-1-monitoring/infra", {"fingerprint": "-", "at": "-"})
    off = _without(tmp_path, "  prometheus: true\n", "  prometheus: false\n", said.append)
    assert off.left_behind == []
    [retiring] = [u for u in off.units if isinstance(u, Retiring)]
    assert retiring.name == "us-east-1-monitoring"
    assert [u.name for u in off.units][:2] == ["state-backend", "us-east-1-monitoring"]
    assert [u.name for u in off.order("destroy")][0] == "us-east-1-monitoring"
    assert not any(u.name.endswith("-monitoring") for u in off.units[2:])
    rendered = off.ws.build / retiring.dir / "terraform"
    assert json.loads((rendered / "terraform.tfvars.json").read_text())["region"] == "us-east-1"
    assert "us-east-1-monitoring" in (rendered / "backend.hcl").read_text()
    assert retiring.tools("apply") == {"terraform"} and retiring.secrets("apply") == []
    # its removal needs the region's network, as its destroy does
    [result] = retiring.plan(tmp_path)
    assert result.status == "skipped"
    # A region filter keeps a region's host being removed.
    path = tmp_path / "iconctl.yaml"
    spec = parse_spec(path.read_text(), filename=str(path))
    only = Pipeline(spec, path, regions=["us-east-1"], say=said.append)
    assert [u.name for u in only.units] == ["us-east-1-monitoring", "us-east-1"]


def test_a_region_the_spec_no_longer_has_is_named_in_a_warning(tmp_path: Path) -> None:
    """A removed region's units are left alone, and every run says so instead of silently
    forgetting them (docs/orchestration.md says how to remove them)."""
    said: list[str] = []
    pipeline = _pipeline(tmp_path)
    for unit in ("eu-central-1", "eu-central-1-monitoring"):
        pipeline.ws.record(f"{unit}/infra", {"fingerprint": "-", "at": "-"})
    gone = _without(tmp_path, "  - name: eu-central-1\n", "  - name: eu-west-1\n", said.append)
    assert gone.left_behind == ["eu-central-1", "eu-central-1-monitoring"]
    assert not any(isinstance(u, Retiring) for u in gone.units)
    gone._new_report("plan")
    assert any("eu-central-1 was applied" in line for line in said)
    assert pipeline.left_behind == []


def _off(tmp_path: Path, **options: Any) -> Pipeline:
    """The multi-region example applied with monitoring on (us-east-1's and eu-central-1's
    hosts recorded, a config step included), then turned off."""
    on = _pipeline(tmp_path)
    for unit in ("us-east-1-monitoring", "eu-central-1-monitoring"):
        for step in ("infra", "config"):
            on.ws.record(f"{unit}/{step}", {"fingerprint": "-", "at": "-"})
    text = (tmp_path / "iconctl.yaml").read_text()
    for old, new in options.pop("replace", {}).items():
        assert old in text
        text = text.replace(old, new, 1)
    text += options.pop("extra", "")
    path = tmp_path / "iconctl.yaml"
    path.write_text(text)
    return Pipeline(parse_spec(text, filename=str(path)), path, say=lambda _: None, **options)


OFF = {"  prometheus: true\n": "  prometheus: false\n"}


def test_protect_keeps_the_hosts_and_names_them(tmp_path: Path) -> None:
    off = _off(tmp_path, replace=OFF, extra="protect: true\n")
    assert not any(isinstance(u, Retiring) for u in off.units)
    assert off.left_behind == ["eu-central-1-monitoring", "us-east-1-monitoring"]


def test_a_region_filter_removes_its_host_and_names_the_others(tmp_path: Path) -> None:
    off = _off(tmp_path, replace=OFF, regions=["us-east-1"])
    assert [u.name for u in off.units] == ["us-east-1-monitoring", "us-east-1"]
    assert off.left_behind == ["eu-central-1-monitoring"]


def test_removal_waits_for_a_pending_state_bucket(tmp_path: Path) -> None:
    off = _off(tmp_path, replace=OFF)
    off.ctx.state_bucket_pending = True
    [retiring, *_] = [u for u in off.units if isinstance(u, Retiring)]
    [result] = retiring.plan(tmp_path)
    assert result.status == "deferred"


def test_removal_forgets_every_recorded_step(tmp_path: Path) -> None:
    """A rehearsal (configure=False) gives the host no config step; its recorded one goes
    too, or the host would come back as a removal every run."""
    off = _off(tmp_path, replace=OFF, configure=False)
    retiring = next(u for u in off.units if u.name == "us-east-1-monitoring")
    [result] = retiring.apply(tmp_path)  # no recorded network: nothing to destroy
    assert result.status == "skipped"
    assert not [k for k in off.ws.progress() if k.startswith("us-east-1-monitoring/")]
    path = tmp_path / "iconctl.yaml"
    again = Pipeline(parse_spec(path.read_text(), filename=str(path)), path, configure=False)
    assert "us-east-1-monitoring" not in {u.name for u in again.units}
