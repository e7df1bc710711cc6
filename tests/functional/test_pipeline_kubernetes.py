"""k8s regions in plan / apply / destroy: kubectl is driven with the rendered overlay.

No cluster runs here, so `kubectl` on PATH is a stand-in script that records its arguments and
answers `kustomize` by delegating to the real kubectl (offline). The overlays themselves are
built and schema-checked for real in tests/integration/test_kustomize*.py.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest

from tests.helpers import need_tool, run_iconctl

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "tests" / "fixtures" / "specs" / "kubernetes.yaml"

FAKE = """#!/bin/sh
echo "$*" >> "{log}"
for arg in "$@"; do
  if [ "$arg" = kustomize ]; then exec "{real}" "$@"; fi
done
exit 0
"""
# helm stays absent (as on this machine): the monitoring step is left to the operator; the
# step with helm is tested in tests/integration/test_pipeline_k8s_monitoring.py.


@pytest.fixture
def k8s(tmp_path: Path):
    real = need_tool("kubectl")["kubectl"]
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "kubectl.log"
    fake = bindir / "kubectl"
    fake.write_text(FAKE.format(log=log, real=real))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    spec = tmp_path / "iconctl.yaml"
    shutil.copy(SPEC, spec)
    env = {"PATH": f"{bindir}:{os.environ['PATH']}"}
    return spec, env, log


def test_apply_plan_destroy_drive_kubectl(k8s) -> None:
    spec, env, log = k8s
    plan = run_iconctl("plan", str(spec), "--region", "us-east-1", "--json", env=env)
    assert plan.returncode == 0, plan.stderr
    steps = json.loads(plan.stdout)["steps"]
    assert steps[0]["unit"] == "us-east-1" and steps[0]["plan"]["change"] > 5
    # no helm here: plan lists the monitoring step with the command left to the operator
    assert steps[1]["step"] == "monitoring" and "helm upgrade --install" in steps[1]["note"]
    apply = run_iconctl("apply", str(spec), "--region", "us-east-1", "--auto-approve", "--json",
                        env=env)  # fmt: skip
    assert apply.returncode == 0, apply.stderr
    assert [(s["step"], s["status"]) for s in json.loads(apply.stdout)["steps"]] == [
        ("deploy", "done"), ("monitoring", "manual")
    ]  # fmt: skip
    calls = log.read_text().splitlines()
    overlay = spec.parent / ".iconctl" / "build" / "us-east-1" / "k8s"
    assert any(c.startswith("apply --server-side") and c.endswith(f"-k {overlay}") for c in calls)
    again = run_iconctl("apply", str(spec), "--region", "us-east-1", "--auto-approve", "--json",
                        env=env)  # fmt: skip
    assert json.loads(again.stdout)["steps"][0]["status"] == "skipped"
    gone = run_iconctl("destroy", str(spec), "--region", "us-east-1", "--auto-approve", env=env)
    assert gone.returncode == 0, gone.stderr
    assert any(c.startswith("delete --ignore-not-found") for c in log.read_text().splitlines())


def test_kubectl_context_from_the_spec(k8s) -> None:
    spec, env, log = k8s
    text = spec.read_text().replace(
        "      cluster_issuer: letsencrypt",
        "      cluster_issuer: letsencrypt\n      context: eks-use1",
    )
    spec.write_text(text)
    result = run_iconctl("apply", str(spec), "--region", "us-east-1", "--auto-approve", env=env)
    assert result.returncode == 0, result.stderr
    assert any(c.startswith("--context=eks-use1 apply") for c in log.read_text().splitlines())
    assert any(c.startswith("--context=eks-use1 get crd") for c in log.read_text().splitlines())
    # the command left to the operator, printed whole on one line after the run
    line = next(x for x in result.stdout.splitlines() if x.startswith("us-east-1 monitoring: "))
    assert "helm --kube-context=eks-use1 upgrade --install kube-prometheus-stack" in line
    assert line.endswith("-k " + str(spec.parent / ".iconctl/build/us-east-1/k8s/monitoring"))


def test_missing_kubectl_is_exit_4(tmp_path: Path) -> None:
    spec = tmp_path / "iconctl.yaml"
    shutil.copy(SPEC, spec)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python3").symlink_to(Path(sys.executable))
    result = run_iconctl("plan", str(spec), "--region", "us-east-1", env={"PATH": str(bindir)})
    assert result.returncode == 4 and "kubectl is required" in result.stderr
