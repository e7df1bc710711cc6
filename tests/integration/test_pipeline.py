"""plan / apply / destroy through the real pipeline: real terraform, packer and ansible-runner
against provider-less stand-in stacks (tests/fixtures/assets), with a local state backend."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import free_port, need_tool, run_iconctl
from tests.helpers.sync import moto_process

ROOT = Path(__file__).resolve().parents[2]
REGIONS = ("us-east-1", "eu-central-1", "asia-northeast1")
ASSETS = ROOT / "tests" / "fixtures" / "assets"
SPEC = ROOT / "tests" / "fixtures" / "specs" / "pipeline.yaml"


@pytest.fixture
def deployment(tmp_path: Path):
    need_tool("terraform", "packer", "ansible-playbook")
    spec = tmp_path / "iconctl.yaml"
    shutil.copy(SPEC, spec)
    (tmp_path / "out").mkdir()
    # Preflight asks each cloud who the credentials belong to: AWS through moto's STS on
    # loopback; GCP's application default credentials are a key file (never used here).
    key = tmp_path / "gcp-key.json"
    key.write_text('{"type": "service_account", "project_id": "pipeline-test"}')
    with moto_process("us-east-1") as (aws, _):
        yield spec, {**aws, "GOOGLE_APPLICATION_CREDENTIALS": str(key), **_stand_in_env(tmp_path)}


def _stand_in_env(tmp_path: Path) -> dict[str, str]:
    # The monitoring hosts' session tooling, which preflight of apply asks for: stand-ins the
    # stand-in play (local connection) never calls.
    stubs = tmp_path / "session-tools"
    stubs.mkdir(exist_ok=True)
    for tool in ("aws", "session-manager-plugin", "gcloud"):
        (stubs / tool).write_text("#!/bin/sh\necho 'stand-in: never called' >&2\nexit 1\n")
        (stubs / tool).chmod(0o755)
    return {
        "PATH": f"{stubs}{os.pathsep}{os.environ.get('PATH', '')}",
        "ICONCTL_ASSETS": str(ASSETS),
        "ICONCTL_TEST_ROOT": str(tmp_path / "out"),
        "ICONCTL_TEST_CF_TOKEN": "sentinel-token-4411",
        "TF_VAR_python": sys.executable,
        "TF_VAR_fail_unit": "",
        "TF_VAR_sleep_unit": "",
    }


def _run(spec: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_iconctl(*args, str(spec), cwd=spec.parent, env=env, timeout=300)


def _steps(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    report = json.loads(result.stdout)
    return {f"{s['unit']}/{s['step']}": s["status"] for s in report["steps"]}


def _state_resources(spec: Path, unit: str) -> list:
    state = spec.parent / ".iconctl" / "state" / f"{unit}.tfstate"
    return json.loads(state.read_text())["resources"]


def test_apply_configures_and_rerun_skips(deployment) -> None:
    spec, env = deployment
    result = _run(spec, env, "apply", "--auto-approve", "--json")
    assert result.returncode == 0, result.stderr
    assert _steps(result) == {
        "us-east-1/zone": "done", "us-east-1/image": "done", "us-east-1/infra": "done",
        "us-east-1/config": "done", "eu-central-1/zone": "done", "eu-central-1/infra": "done",
        "eu-central-1/config": "done", "asia-northeast1/image": "done",
        "asia-northeast1/infra": "done", "asia-northeast1/config": "done",
        "us-east-1-monitoring/infra": "done", "us-east-1-monitoring/config": "done",
        "eu-central-1-monitoring/infra": "done", "eu-central-1-monitoring/config": "done",
        "asia-northeast1-monitoring/infra": "done", "asia-northeast1-monitoring/config": "done",
        "global/infra": "done",
    }  # fmt: skip
    # An AWS region's zone comes first, and its ID reaches the region's stack.
    steps = json.loads(result.stdout)["steps"]
    assert [s["step"] for s in steps if s["unit"] == "us-east-1"] == [
        "zone", "image", "infra", "config",
    ]  # fmt: skip
    zone = _state_resources(spec, "us-east-1-zone")[0]["instances"][0]["attributes"]["output"]
    assert zone["value"] == {"domain": "us-east-1.api.example.org", "zone": "example.org"}
    # Ansible ran against the single node Terraform reported, with the rendered extravars.
    assert (
        spec.parent / "out" / "eu-central-1.txt"
    ).read_text().strip() == "iconloop/icon2-node:v1.4.4"
    # The image Packer built reached Terraform.
    recorded = _state_resources(spec, "us-east-1")[0]["instances"][0]["attributes"]["output"]
    assert recorded["value"]["image_id"] == "Null"
    assert recorded["value"]["route53_zone_id"] == "Z-us-east-1.api.example.org"
    single = _state_resources(spec, "eu-central-1")[0]["instances"][0]["attributes"]["output"]
    assert single["value"]["route53_zone_id"] == "Z-eu-central-1.api.example.org"
    gcp = _state_resources(spec, "asia-northeast1")[0]["instances"][0]["attributes"]["output"]
    assert gcp["value"]["route53_zone_id"] is None
    assert not (spec.parent / ".iconctl" / "state" / "asia-northeast1-zone.tfstate").exists()
    # The GCP region's load balancer address reached the global stack as its hostname's record.
    recorded = _state_resources(spec, "global")[0]["instances"][0]["attributes"]["output"]
    assert recorded["value"]["records"] == {
        "asia-northeast1.api.example.org": {"type": "A", "value": "192.0.2.15"}
    }
    # Each monitoring host ran after its region, with the network the region reported, and
    # before the global layer; its config step got the files tree and the global flag.
    units = [s["unit"] for s in steps]
    for region in ("us-east-1", "eu-central-1", "asia-northeast1"):
        monitoring = f"{region}-monitoring"
        assert units.index(region) < units.index(monitoring) < units.index("global")
        state = _state_resources(spec, monitoring)[0]["instances"][0]["attributes"]["output"]
        assert state["value"]["region_network"]["network"] == f"net-{region}"
        given = json.loads((spec.parent / "out" / f"monitoring-{region}.json").read_text())
        assert given["region"] == region and given["global"] is (region == "us-east-1")
        assert given["files_dir"] == str(spec.parent / ".iconctl" / "work" / monitoring / "files")
    # Every tool's full output is kept in the run folder.
    run_dir = Path(json.loads(result.stdout)["run_dir"])
    assert "Apply complete" in (run_dir / "global-infra.log").read_text()
    again = _run(spec, env, "apply", "--auto-approve", "--json")
    assert again.returncode == 0, again.stderr
    assert set(_steps(again).values()) == {"skipped"}
    # No secret value lands in what iconctl keeps.
    for path in (spec.parent / ".iconctl").rglob("*"):
        if path.is_file() and path.suffix != ".tfplan":
            assert "sentinel-token-4411" not in path.read_text(errors="replace"), path


def test_plan_changes_nothing(deployment) -> None:
    spec, env = deployment
    result = _run(spec, env, "plan")
    assert result.returncode == 0, result.stderr
    assert "planned changes" in result.stdout and "us-east-1" in result.stdout
    assert not (spec.parent / ".iconctl" / "progress.json").exists()
    state_dir = spec.parent / ".iconctl" / "state"
    assert all(_state_resources(spec, p.stem) == [] for p in state_dir.glob("*.tfstate"))
    plan = json.loads(_run(spec, env, "plan", "--json").stdout)
    planned = {f"{s['unit']}/{s['step']}": (s["status"], (s["plan"] or {}).get("add"))
               for s in plan["steps"]}  # fmt: skip
    # The AWS regions' stacks need their zone's ID: they are planned once apply created it.
    assert planned == {
        "us-east-1/zone": ("planned", 1), "us-east-1/infra": ("deferred", None),
        "eu-central-1/zone": ("planned", 1), "eu-central-1/infra": ("deferred", None),
        "asia-northeast1/infra": ("planned", 1), "global/infra": ("planned", 1),
        # Each monitoring host joins its region's network: planned once the region exists.
        "us-east-1-monitoring/infra": ("deferred", None),
        "eu-central-1-monitoring/infra": ("deferred", None),
        "asia-northeast1-monitoring/infra": ("deferred", None),
    }  # fmt: skip


def test_failed_step_stops_and_rerun_resumes(deployment) -> None:
    spec, env = deployment
    failing = {**env, "TF_VAR_fail_unit": "eu-central-1"}
    result = _run(spec, failing, "apply", "--auto-approve", "--json")
    assert result.returncode == 5
    assert "eu-central-1 infra: terraform plan failed" in result.stderr
    # The failure is said once, with the tool's own error lines and where its output is.
    assert result.stderr.count("injected failure for eu-central-1") == 1
    assert "Error:" in result.stderr and "eu-central-1-infra.log" in result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    [failed] = [s for s in report["steps"] if s["status"] == "failed"]
    assert failed["step"] == "infra" and failed["seconds"] > 0
    steps = _steps(result)
    assert steps["eu-central-1/infra"] == "failed"
    assert steps["us-east-1/infra"] == "done"
    assert "global/infra" not in steps  # global waits for every region
    resumed = _run(spec, env, "apply", "--auto-approve", "--json")
    assert resumed.returncode == 0, resumed.stderr
    steps = _steps(resumed)
    assert steps["us-east-1/image"] == steps["us-east-1/infra"] == "skipped"
    assert steps["eu-central-1/zone"] == "skipped"
    assert steps["eu-central-1/infra"] == "done" and steps["global/infra"] == "done"


def test_missing_terraform_is_exit_4(deployment, tmp_path: Path) -> None:
    spec, env = deployment
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "python3").symlink_to(sys.executable)
    result = _run(spec, {**env, "PATH": str(bare)}, "plan")
    assert result.returncode == 4
    assert "terraform is required" in result.stderr and "install Terraform" in result.stderr


def _without(env: dict[str, str], *prefixes: str) -> dict[str, str]:
    """The whole environment for a child, without the variables starting with prefixes."""
    full = {**os.environ, **env}
    return {k: v for k, v in full.items() if not k.startswith(prefixes)}


def _preflight_refused(spec: Path, env: dict[str, str], code: int, *expected: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "iconctl", "plan", str(spec)], cwd=spec.parent, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == code, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and all(e in errors[0] for e in expected), result.stderr
    assert "Traceback" not in result.stderr
    # Refused before anything ran: no run folder, no tool output.
    assert not list((spec.parent / ".iconctl").glob("runs/*/*.log"))


def test_preflight_without_aws_credentials(deployment, tmp_path: Path) -> None:
    spec, env = deployment
    bare = _without(env, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE")
    bare["HOME"] = str(tmp_path)  # no ~/.aws either
    bare["AWS_EC2_METADATA_DISABLED"] = "true"  # and no instance role to ask for
    _preflight_refused(spec, bare, 3, "AWS credentials not found")


def test_preflight_with_refused_aws_credentials(deployment) -> None:
    spec, env = deployment
    # moto answers GetCallerIdentity for any key; a closed port stands for an unreachable STS.
    closed = {**env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    _preflight_refused(spec, _without(closed), 3, "AWS credentials could not be checked")


def test_preflight_without_gcp_credentials(deployment, tmp_path: Path) -> None:
    spec, env = deployment
    bare = _without(env, "GOOGLE_")
    bare["HOME"] = str(tmp_path)
    _preflight_refused(spec, bare, 3, "GCP credentials not found")


def test_preflight_unresolvable_secret(deployment) -> None:
    spec, env = deployment
    _preflight_refused(spec, _without(env, "ICONCTL_TEST_CF_TOKEN"), 3,
                       "geo.api_token", "ICONCTL_TEST_CF_TOKEN is not set")  # fmt: skip


def test_preflight_terraform_too_old(deployment, tmp_path: Path) -> None:
    spec, env = deployment
    old = tmp_path / "old-bin"
    old.mkdir()
    fake = old / "terraform"  # an old install's answer to `terraform version -json`
    fake.write_text('#!/bin/sh\necho \'{"terraform_version": "1.5.7"}\'\n')
    fake.chmod(0o755)
    full = _without(env)
    full["PATH"] = f"{old}:{full['PATH']}"
    _preflight_refused(spec, full, 4, "terraform", "found 1.5.7, need >= 1.10")


def test_validate_check_secrets(deployment) -> None:
    spec, env = deployment
    ok = _run(spec, env, "validate", "--check-secrets")
    assert ok.returncode == 0, ok.stderr
    assert "sentinel-token-4411" not in ok.stdout + ok.stderr
    missing = run_iconctl("validate", "--check-secrets", str(spec),
                          env=_without(env, "ICONCTL_TEST_CF_TOKEN"))  # fmt: skip
    assert missing.returncode == 3 and "ICONCTL_TEST_CF_TOKEN is not set" in missing.stderr


def test_apply_needs_a_terminal_or_auto_approve(deployment) -> None:
    spec, env = deployment
    result = _run(spec, env, "apply")
    assert result.returncode == 2 and "--auto-approve" in result.stderr
    assert not (spec.parent / ".iconctl" / "progress.json").exists()


def test_declined_confirmation_changes_nothing(deployment) -> None:
    """Answering no at the prompt is exit 2 with "nothing was changed", and no run folder."""
    import pty

    spec, env = deployment
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "iconctl", "apply", str(spec)], cwd=spec.parent,
        env={**os.environ, **env}, stdin=secondary, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    os.close(secondary)
    os.write(primary, b"n\n")
    _, stderr = proc.communicate(timeout=120)
    os.close(primary)
    assert proc.returncode == 2, stderr
    assert "nothing was changed" in stderr
    assert not (spec.parent / ".iconctl" / "runs").exists()
    assert not (spec.parent / ".iconctl" / "progress.json").exists()


def test_region_filter(deployment) -> None:
    spec, env = deployment
    result = _run(spec, env, "apply", "--auto-approve", "--json", "--region", "eu-central-1")
    assert result.returncode == 0, result.stderr
    # The region's zone step and monitoring host belong to the region; the global layer is
    # left alone.
    assert set(_steps(result)) == {
        "eu-central-1/zone", "eu-central-1/infra", "eu-central-1/config",
        "eu-central-1-monitoring/infra", "eu-central-1-monitoring/config",
    }  # fmt: skip
    unknown = _run(spec, env, "plan", "--region", "mars-west-1")
    assert unknown.returncode == 3 and "not in the spec" in unknown.stderr


def test_destroy_reverse_order_and_protection(deployment) -> None:
    spec, env = deployment
    assert _run(spec, env, "apply", "--auto-approve").returncode == 0
    # Once applied, a plan passes every earlier output on (images, the regions' records, and
    # the zone IDs read from the zones' state, not from this machine's progress) and finds
    # nothing to change.
    progress_file = spec.parent / ".iconctl" / "progress.json"
    progress = json.loads(progress_file.read_text())
    del progress["us-east-1/zone"], progress["eu-central-1/zone"]
    progress_file.write_text(json.dumps(progress))
    plan = _run(spec, env, "plan", "--json")
    assert plan.returncode == 0, plan.stderr
    assert {f"{s['unit']}/{s['step']}": (s["status"], s["plan"]["add"] + s["plan"]["change"])
            for s in json.loads(plan.stdout)["steps"]} == {
        "us-east-1/zone": ("planned", 0), "us-east-1/infra": ("planned", 0),
        "eu-central-1/zone": ("planned", 0), "eu-central-1/infra": ("planned", 0),
        "asia-northeast1/infra": ("planned", 0), "global/infra": ("planned", 0),
        "us-east-1-monitoring/infra": ("planned", 0),
        "eu-central-1-monitoring/infra": ("planned", 0),
        "asia-northeast1-monitoring/infra": ("planned", 0),
    }  # fmt: skip
    spec.write_text(spec.read_text() + "protect: true\n")
    refused = _run(spec, env, "destroy", "--auto-approve")
    assert refused.returncode == 3 and "protect" in refused.stderr
    assert _state_resources(spec, "global")
    spec.write_text(spec.read_text().replace("protect: true\n", ""))
    result = _run(spec, env, "destroy", "--auto-approve", "--json")
    assert result.returncode == 0, result.stderr
    units = [s["unit"] for s in json.loads(result.stdout)["steps"]]
    # Global first, then the monitoring hosts (their rules live in the regions' firewalls),
    # then the regions.
    assert units[0] == "global"
    assert set(units[1:4]) == {f"{r}-monitoring" for r in REGIONS}
    assert set(units[4:]) == set(REGIONS)
    for unit in units:
        assert _state_resources(spec, unit) == []
    # Each AWS region's zone went after the region itself (its records live in the zone).
    assert _state_resources(spec, "us-east-1-zone") == []
    assert _state_resources(spec, "eu-central-1-zone") == []
    run_dir = Path(json.loads(result.stdout)["run_dir"])
    for region in ["us-east-1", "eu-central-1"]:
        region_log = run_dir / f"{region}-destroy.log"
        zone_log = run_dir / f"{region}-zone-destroy.log"
        assert "Destroy complete" in zone_log.read_text()
        assert zone_log.stat().st_mtime_ns > region_log.stat().st_mtime_ns


def test_interrupt_stops_children_and_keeps_state_consistent(deployment) -> None:
    spec, env = deployment
    slow = {**os.environ, **env, "TF_VAR_sleep_unit": "eu-central-1", "COLUMNS": "200"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "iconctl", "apply", "--auto-approve", str(spec)],
        cwd=spec.parent, env=slow, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    log = None
    while time.monotonic() < deadline and log is None:
        logs = list((spec.parent / ".iconctl" / "runs").glob("*/eu-central-1-infra.log"))
        if logs and "local-exec" in logs[0].read_text():
            log = logs[0]
        time.sleep(0.2)
    assert log is not None, "terraform never reached the slow provisioner"
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert time.monotonic() - started < 30
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "apply interrupted" in stderr and "iconctl apply` again to continue" in stderr
    assert "infra failed" not in stderr
    # Nothing left running, and the state is usable: a plain re-run finishes the work.
    leftover = subprocess.run(["pgrep", "-f", "sleep 60"], capture_output=True, text=True)
    assert leftover.stdout.strip() == ""
    resumed = _run(spec, env, "apply", "--auto-approve", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert _steps(resumed)["eu-central-1/infra"] == "done"


def test_plan_of_the_multi_region_example_lists_the_monitoring_hosts(tmp_path: Path) -> None:
    """The bundled multi-region example, planned (stand-in stacks, moto's STS): one
    monitoring unit per region, after the regions and before the global layer."""
    from tests.helpers import EXAMPLES

    need_tool("terraform")
    spec = tmp_path / "iconctl.yaml"
    shutil.copy(EXAMPLES / "multi-region.yaml", spec)
    key = tmp_path / "gcp-key.json"
    key.write_text('{"type": "service_account", "project_id": "pipeline-test"}')
    (tmp_path / "out").mkdir()
    with moto_process("us-east-1") as (aws, _):
        env = {**aws, "GOOGLE_APPLICATION_CREDENTIALS": str(key), **_stand_in_env(tmp_path),
               "CLOUDFLARE_API_TOKEN": "sentinel-cf"}  # fmt: skip
        result = _run(spec, env, "plan", "--json")
        table = _run(spec, env, "plan")
    assert result.returncode == 0, result.stderr
    units = [s["unit"] for s in json.loads(result.stdout)["steps"]]
    monitoring = [f"{r}-monitoring" for r in REGIONS]
    assert [u for u in units if u.endswith("-monitoring")] == monitoring
    assert max(units.index(r) for r in REGIONS) < units.index(monitoring[0])
    assert units.index(monitoring[-1]) < units.index("global")
    assert table.returncode == 0, table.stderr
    assert "us-east-1-monitoring" in table.stdout and "eu-central-1-monitoring" in table.stdout
