"""A k8s region's monitoring step: helm installs the operator chart with the rendered values
and kubectl applies the ServiceMonitor and PrometheusRule; without helm the apply goes on
and the step leaves the operator the documented command.

No cluster runs here: `helm` and `kubectl` on PATH are stand-in scripts that record their
arguments (kubectl answers `get crd` from a file and hands `kustomize` to the real kubectl,
which needs no cluster). Everything between the pipeline and those executables is real.
"""

from __future__ import annotations

import dataclasses
import shlex
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from iconctl.pipeline import Pipeline
from iconctl.pipeline.units import K8sRegion
from iconctl.render import kubernetes
from iconctl.render.kubernetes import PROMETHEUS_CHART
from iconctl.spec import parse_spec
from tests.helpers import ROOT, need_tool

SPEC = ROOT / "tests" / "fixtures" / "specs" / "kubernetes.yaml"
DOC = ROOT / "docs" / "kubernetes.md"
CRDS = (
    "customresourcedefinition.apiextensions.k8s.io/servicemonitors.monitoring.coreos.com",
    "customresourcedefinition.apiextensions.k8s.io/prometheusrules.monitoring.coreos.com",
)

KUBECTL = """#!/bin/sh
echo "kubectl $*" >> "{log}"
for arg in "$@"; do
  if [ "$arg" = kustomize ]; then exec "{real}" "$@"; fi
done
if [ "$1 $2" = "get crd" ]; then  # builtins only: PATH holds nothing but the stand-ins
  if [ ! -f "{crds}" ]; then
    echo 'Error from server (Forbidden): customresourcedefinitions is forbidden' >&2
    exit 1
  fi
  while read -r line; do echo "$line"; done < "{crds}"
fi
exit 0
"""
HELM = """#!/bin/sh
echo "helm $*" >> "{log}"
exit {rc}
"""


@dataclass
class Edge:
    """The stand-in tools' directory, the log of their calls and the cluster's CRDs."""

    bindir: Path
    log: Path
    crds: Path

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [shlex.split(line) for line in self.log.read_text().splitlines()]

    def helm(self, rc: int = 0) -> None:
        _script(self.bindir / "helm", HELM.format(log=self.log, rc=rc))

    def operator_installed(self) -> None:
        self.crds.write_text("\n".join(CRDS) + "\n")


def _script(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def real_kubectl() -> str:
    """kubectl itself, for `kustomize` (plan builds the overlays offline). Requested before
    ``edge``, which puts the stand-in first on PATH."""
    return need_tool("kubectl")["kubectl"]


@pytest.fixture
def edge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Edge:
    """kubectl (and helm when a test adds it) are the only tools on PATH."""
    real = shutil.which("kubectl") or "/nonexistent/kubectl"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    found = Edge(bindir, tmp_path / "calls.log", tmp_path / "crds.txt")
    found.crds.write_text("customresourcedefinition.apiextensions.k8s.io/other.example.org\n")
    _script(bindir / "kubectl", KUBECTL.format(log=found.log, real=real, crds=found.crds))
    monkeypatch.setenv("PATH", str(bindir))
    return found


def _pipeline(tmp_path: Path, text: str | None = None) -> tuple[Pipeline, list[str]]:
    said: list[str] = []
    spec_path = tmp_path / "iconctl.yaml"
    spec_path.write_text(text if text is not None else SPEC.read_text())
    spec = parse_spec(spec_path.read_text(), filename=str(spec_path))
    pipeline = Pipeline(spec, spec_path, regions=["us-east-1"], say=said.append)
    return pipeline, said


def _unit(pipeline: Pipeline) -> K8sRegion:
    unit = pipeline.units[0]
    assert isinstance(unit, K8sRegion)
    return unit


def _apply(pipeline: Pipeline) -> list[tuple[str, str]]:
    report = pipeline.apply(lambda _todo: True)
    assert report.ok, report.to_json()
    return [(s.step, s.status) for s in report.steps]


def test_with_helm_the_chart_is_installed_then_the_objects_applied(tmp_path, edge) -> None:
    edge.helm()
    pipeline, _ = _pipeline(tmp_path)
    build = pipeline.ws.build / "us-east-1" / "k8s"
    assert _apply(pipeline) == [("deploy", "done"), ("monitoring", "done")]
    calls = [c for c in edge.calls() if c[1:2] != ["version"]]  # preflight's version check
    assert calls == [
        ["kubectl", "apply", "--server-side", "--field-manager=iconctl", "-k", str(build)],
        ["helm", "upgrade", "--install", "kube-prometheus-stack", "kube-prometheus-stack",
         "--repo", "https://prometheus-community.github.io/helm-charts",
         "--version", PROMETHEUS_CHART.version,
         "--namespace", "monitoring", "--create-namespace",
         "--values", str(build / "values" / "kube-prometheus-stack.yaml"),
         "--wait", "--timeout", "10m"],
        ["kubectl", "apply", "--server-side", "--field-manager=iconctl", "-k",
         str(build / "monitoring")],
    ]  # fmt: skip
    # recorded: the next apply skips both steps
    assert _apply(pipeline) == [("deploy", "skipped"), ("monitoring", "skipped")]
    assert not any(c[0] == "helm" for c in edge.calls()[len(calls) + 1 :])


def test_helm_gets_the_context_and_monitoring_namespace_of_the_spec(tmp_path, edge) -> None:
    edge.helm()
    text = SPEC.read_text().replace(
        "      cluster_issuer: letsencrypt",
        "      cluster_issuer: letsencrypt\n      context: eks-use1\n"
        "      monitoring_namespace: observability",
    )
    pipeline, _ = _pipeline(tmp_path, text)
    _apply(pipeline)
    helm = next(c for c in edge.calls() if c[0] == "helm")
    assert helm[1] == "--kube-context=eks-use1"
    assert helm[helm.index("--namespace") + 1] == "observability"
    applies = [c for c in edge.calls() if c[0] == "kubectl" and "apply" in c]
    assert all(c[1] == "--context=eks-use1" for c in applies) and len(applies) == 2


def test_a_failing_helm_fails_the_step_with_exit_5(tmp_path, edge) -> None:
    edge.helm(rc=1)
    pipeline, _ = _pipeline(tmp_path)
    report = pipeline.apply(lambda _todo: True)
    assert [(s.step, s.status) for s in report.steps] == [("deploy", "done"),
                                                          ("monitoring", "failed")]  # fmt: skip
    failure = report.failure()
    assert failure is not None and int(failure.exit_code) == 5
    assert "us-east-1 monitoring: helm upgrade" in failure.message
    # nothing applied after the chart failed
    assert not any("monitoring" in " ".join(c) for c in edge.calls() if c[0] == "kubectl")


def test_without_helm_or_crds_the_step_is_left_to_the_operator(tmp_path, edge) -> None:
    pipeline, said = _pipeline(tmp_path)
    report = pipeline.apply(lambda _todo: True)
    assert report.ok and report.failure() is None  # the apply does not fail
    assert [(s.step, s.status) for s in report.steps] == [("deploy", "done"),
                                                          ("monitoring", "manual")]  # fmt: skip
    note = report.steps[1].note or ""
    command = _unit(pipeline).manual_command()
    assert note.startswith("helm is not on PATH and the cluster lacks")
    assert note.endswith(f" with: {command}")  # last, so that it copies whole
    assert "servicemonitors.monitoring.coreos.com" in note and "nothing was applied" in note
    assert any(command in line for line in said)
    kubectl = [c for c in edge.calls() if c[0] == "kubectl" and c[1] != "version"]
    monitoring = str(pipeline.ws.build / "us-east-1" / "k8s" / "monitoring")
    assert ["kubectl", "get", "crd", "-o", "name"] in kubectl
    assert not any(monitoring in c for c in kubectl)  # nothing applied without the CRDs
    # not recorded as done: the next apply tries again (and then finds the operator)
    edge.operator_installed()
    again = pipeline.apply(lambda _todo: True)
    assert [(s.step, s.status) for s in again.steps] == [("deploy", "skipped"),
                                                         ("monitoring", "manual")]  # fmt: skip
    assert "were applied" in (again.steps[1].note or "")
    assert ["kubectl", "apply", "--server-side", "--field-manager=iconctl", "-k",
            monitoring] in edge.calls()  # fmt: skip


def test_without_helm_the_objects_are_applied_when_the_operator_is_there(tmp_path, edge) -> None:
    edge.operator_installed()
    pipeline, _ = _pipeline(tmp_path)
    report = pipeline.apply(lambda _todo: True)
    step = report.steps[1]
    assert (step.step, step.status) == ("monitoring", "manual")
    assert "the ServiceMonitor and PrometheusRule were applied" in (step.note or "")
    assert (step.note or "").endswith(f" with: {_unit(pipeline).manual_command()}")
    monitoring = str(pipeline.ws.build / "us-east-1" / "k8s" / "monitoring")
    assert edge.calls()[-1] == [
        "kubectl", "apply", "--server-side", "--field-manager=iconctl", "-k", monitoring
    ]  # fmt: skip


def test_plan_lists_the_step_with_the_note_when_helm_is_missing(
    tmp_path, real_kubectl, edge
) -> None:
    pipeline, _ = _pipeline(tmp_path)
    report = pipeline.plan()
    assert [(s.step, s.status) for s in report.steps] == [("deploy", "planned"),
                                                          ("monitoring", "planned")]  # fmt: skip
    monitoring = report.steps[1]
    assert monitoring.plan is not None
    assert monitoring.plan["modules"] == {
        f"kube-prometheus-stack {PROMETHEUS_CHART.version}": [0, 1, 0],
        "kubernetes monitoring": [0, 2, 0],  # the ServiceMonitor and the PrometheusRule
    }
    assert (monitoring.note or "").startswith("helm is not on PATH: apply will leave the chart")
    assert (monitoring.note or "").endswith(f" with: {_unit(pipeline).manual_command()}")
    edge.helm()
    assert pipeline.plan().steps[1].note is None
    assert not any(c[0] == "helm" for c in edge.calls())  # plan never runs helm


def test_prometheus_false_has_no_step_and_renders_no_monitoring(tmp_path, edge) -> None:
    edge.helm()
    text = SPEC.read_text() + "\nmonitoring:\n  prometheus: false\n"
    pipeline, _ = _pipeline(tmp_path, text)
    assert [s.name for s in _unit(pipeline).steps()] == ["deploy"]
    assert _apply(pipeline) == [("deploy", "done")]
    assert not any(c[0] == "helm" for c in edge.calls())
    k8s = pipeline.ws.build / "us-east-1" / "k8s"
    assert k8s.is_dir()
    assert not (k8s / "monitoring").exists()
    assert not (k8s / "values" / "kube-prometheus-stack.yaml").exists()
    assert not (pipeline.ws.build / "kubernetes" / "monitoring").exists()


def test_destroy_removes_the_objects_and_the_release(tmp_path, edge) -> None:
    edge.helm()
    edge.operator_installed()
    pipeline, _ = _pipeline(tmp_path)
    _apply(pipeline)
    start = len(edge.calls())
    spec_name = pipeline.spec.name
    report = pipeline.destroy(lambda name: name == spec_name)
    assert [(s.step, s.status) for s in report.steps] == [("monitoring", "destroyed"),
                                                          ("deploy", "destroyed")]  # fmt: skip
    k8s = pipeline.ws.build / "us-east-1" / "k8s"
    calls = [c for c in edge.calls()[start:] if c[1:2] != ["version"]]
    assert calls == [
        ["kubectl", "get", "crd", "-o", "name"],
        ["kubectl", "delete", "--ignore-not-found", "--wait=false", "-k", str(k8s / "monitoring")],
        ["helm", "uninstall", "kube-prometheus-stack", "--namespace", "monitoring",
         "--ignore-not-found", "--wait"],
        ["kubectl", "delete", "--ignore-not-found", "--wait=false", "-k", str(k8s)],
    ]  # fmt: skip


def test_destroy_without_helm_leaves_the_release_to_the_operator(tmp_path, edge) -> None:
    pipeline, _ = _pipeline(tmp_path)
    _apply(pipeline)
    start = len(edge.calls())
    spec_name = pipeline.spec.name
    report = pipeline.destroy(lambda name: name == spec_name)
    assert report.ok
    assert [(s.step, s.status) for s in report.steps] == [("monitoring", "manual"),
                                                          ("deploy", "destroyed")]  # fmt: skip
    assert report.steps[0].note == (
        "helm is not on PATH: remove the chart with: "
        "helm uninstall kube-prometheus-stack --namespace monitoring --ignore-not-found --wait"
    )
    k8s = pipeline.ws.build / "us-east-1" / "k8s"
    calls = [c for c in edge.calls()[start:] if c[1:2] != ["version"]]
    # no operator CRDs on the cluster: no monitoring objects to delete
    assert calls == [
        ["kubectl", "get", "crd", "-o", "name"],
        ["kubectl", "delete", "--ignore-not-found", "--wait=false", "-k", str(k8s)],
    ]


def test_a_new_chart_pin_runs_the_step_again(tmp_path, edge, monkeypatch) -> None:
    edge.helm()
    pipeline, _ = _pipeline(tmp_path)
    _apply(pipeline)
    assert _apply(pipeline) == [("deploy", "skipped"), ("monitoring", "skipped")]
    bumped = dataclasses.replace(kubernetes.PROMETHEUS_CHART, version="99.0.0")
    monkeypatch.setattr(kubernetes, "PROMETHEUS_CHART", bumped)
    assert _apply(pipeline) == [("deploy", "skipped"), ("monitoring", "done")]
    helm = [c for c in edge.calls() if c[0] == "helm"]
    assert len(helm) == 2 and helm[-1][helm[-1].index("--version") + 1] == "99.0.0"


def test_without_helm_a_refused_crd_listing_does_not_fail_the_apply(tmp_path, edge) -> None:
    edge.crds.unlink()  # the stand-in answers like a cluster that forbids listing CRDs
    pipeline, _ = _pipeline(tmp_path)
    report = pipeline.apply(lambda _todo: True)
    assert report.ok
    step = report.steps[1]
    assert (step.step, step.status) == ("monitoring", "manual")
    assert "`kubectl get crd` failed (Error from server (Forbidden)" in (step.note or "")
    assert (step.note or "").endswith(f" with: {_unit(pipeline).manual_command()}")
