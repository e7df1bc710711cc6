"""`iconctl demo`, the README's first command: the whole local flow, then a clean machine."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from iconctl.rehearsal import provider_mirror
from tests.helpers import need_module, run_iconctl


def _without_terraform() -> str:
    """PATH without the folders that hold terraform: the demo then skips its AWS stage."""
    return os.pathsep.join(
        folder for folder in os.environ["PATH"].split(os.pathsep)
        if not os.path.exists(os.path.join(folder, "terraform"))
    )  # fmt: skip


@pytest.mark.timeout(400)
def test_demo_runs_the_whole_flow_and_cleans_up(tmp_path) -> None:
    need_module("moto")
    keep = tmp_path / "demo"
    result = run_iconctl("demo", "--json", "--keep", str(keep), timeout=390)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    # With Terraform and the AWS provider (CI has both), the AWS region is rehearsed for real.
    rehearsal = "AWS rehearsal" if provider_mirror() else "AWS rehearsal skipped"
    assert [s["step"] for s in report["steps"]] == [
        "validate and render", "S3 server", "source node", "snapshot", "restore", "readiness",
        "status", rehearsal, "clean up",
    ]  # fmt: skip
    if provider_mirror():
        [stage] = [s for s in report["steps"] if s["step"] == rehearsal]
        assert "1 instance running; destroyed, nothing left" in stage["detail"]
    assert report["status"]["regions"] == {"us-east-1": "ready"}
    targets = report["status"]["targets"]
    assert len(targets) == 4 and all(t["ready"] for t in targets)
    # The restored node really serves the restored chain: it starts near the source's height.
    heights = [t["height"] for t in targets if t["kind"] == "endpoint"]
    assert min(heights) > 1000 and max(heights) - min(heights) < 30
    assert (keep / "restored" / "data" / "1").is_dir()
    assert (keep / "build" / "us-east-1" / "terraform" / "terraform.tfvars.json").is_file()
    # Nothing keeps running after the demo.
    left = subprocess.run(["pgrep", "-f", str(keep)], capture_output=True, text=True)
    assert left.stdout.strip() == ""


@pytest.mark.timeout(400)
def test_demo_default_removes_its_work_directory(tmp_path) -> None:
    need_module("moto")
    # The AWS rehearsal is covered above; here only the clean-up matters.
    env = {"TMPDIR": str(tmp_path), "ICONCTL_TF_PLUGIN_MIRROR": "", "PATH": _without_terraform()}
    result = run_iconctl("demo", timeout=390, env=env)
    assert result.returncode == 0, result.stderr
    assert "every node ready" in result.stdout and "demo finished" in result.stdout
    assert "AWS rehearsal skipped" in result.stdout and "terraform is not on PATH" in result.stdout
    assert list(tmp_path.iterdir()) == []
