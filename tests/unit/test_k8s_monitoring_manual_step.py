"""The manual monitoring step of a k8s region without helm, as docs/kubernetes.md documents
it: the one command line in its "Monitoring on Kubernetes regions" section is the one iconctl
prints, and every path it names is written by `iconctl render`."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from iconctl.pipeline import Pipeline
from iconctl.pipeline.units import K8sRegion
from iconctl.render import render
from iconctl.render.kubernetes import PROMETHEUS_CHART
from iconctl.spec import load_spec, parse_spec
from tests.helpers import ROOT

SPEC = ROOT / "tests" / "fixtures" / "specs" / "kubernetes.yaml"
DOC = ROOT / "docs" / "kubernetes.md"


def _documented_command() -> str:
    """The one command line in the sh block of docs/kubernetes.md's monitoring section."""
    text = DOC.read_text()
    section = text.split("## Monitoring on Kubernetes regions", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the section has one sh block: the manual command"
    lines = [line for line in blocks[0].splitlines() if line.strip()]
    assert len(lines) == 1, "the manual step is one line"
    return lines[0]


def test_the_documented_manual_command_is_the_one_iconctl_prints(tmp_path: Path) -> None:
    spec_path = tmp_path / "iconctl.yaml"
    spec_path.write_text(SPEC.read_text())
    spec = parse_spec(spec_path.read_text(), filename=str(spec_path))
    pipeline = Pipeline(spec, spec_path, regions=["us-east-1"], say=lambda _: None)
    unit = pipeline.units[0]
    assert isinstance(unit, K8sRegion)
    assert unit.manual_command(build=Path("build")) == _documented_command()
    # what apply prints has the run's own paths in the same places
    printed = shlex.split(unit.manual_command())
    assert printed[printed.index("--values") + 1] == str(unit.values)
    assert printed[printed.index("-k") + 1] == str(unit.monitoring_overlay)


def test_the_documented_manual_command_names_files_iconctl_render_writes(tmp_path: Path) -> None:
    """Render as the doc says (`iconctl render iconctl.yaml` -> build/) and check every
    path the command names: the values file and the overlay, which builds."""
    render(load_spec(SPEC), tmp_path / "build")
    words = shlex.split(_documented_command())
    paths = [w for w in words if w.startswith("build/")]
    values = words[words.index("--values") + 1]
    overlay = words[words.index("-k") + 1]
    assert paths == [values, overlay]
    assert (tmp_path / values).is_file()
    assert (tmp_path / overlay / "kustomization.yaml").is_file()
    rendered = (tmp_path / values).read_text()
    assert "release: kube-prometheus-stack" in rendered  # the values the chart pin targets
    assert words[words.index("--version") + 1] == PROMETHEUS_CHART.version
    assert words[words.index("--namespace") + 1] == "monitoring"
