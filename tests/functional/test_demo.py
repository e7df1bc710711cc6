"""`iconctl demo`, the README's first command: the whole local flow, then a clean machine."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import need_module, run_iconctl


@pytest.mark.timeout(180)
def test_demo_runs_the_whole_flow_and_cleans_up(tmp_path) -> None:
    need_module("moto")
    keep = tmp_path / "demo"
    result = run_iconctl("demo", "--json", "--keep", str(keep), timeout=170)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [s["step"] for s in report["steps"]] == [
        "validate and render", "S3 server", "source node", "snapshot", "restore", "readiness",
        "status", "clean up",
    ]  # fmt: skip
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


@pytest.mark.timeout(180)
def test_demo_default_removes_its_work_directory(tmp_path) -> None:
    need_module("moto")
    result = run_iconctl("demo", timeout=170, env={"TMPDIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "every node ready" in result.stdout and "demo finished" in result.stdout
    assert list(tmp_path.iterdir()) == []
