"""`iconctl demo`: the whole flow on this machine, on the bundled example, no cloud account.

Today it validates the bundled multi-region spec and renders every tool's inputs into a
scratch directory, then reports what would be deployed; later stages (simulated nodes,
snapshot and restore, health, status) join as they are built.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iconctl.render import render
from iconctl.spec import parse_spec
from iconctl.spec.summary import summary
from iconctl.starter import example_text


@dataclass
class DemoReport:
    spec: dict[str, Any]
    out_dir: Path
    files: list[str] = field(default_factory=list)


def run_demo(out_dir: Path | None = None, example: str = "multi-region") -> DemoReport:
    spec = parse_spec(example_text(example), filename=f"<bundled {example} example>")
    target = out_dir or Path(tempfile.mkdtemp(prefix="iconctl-demo-")) / "build"
    written = render(spec, target)
    return DemoReport(
        spec=summary(spec),
        out_dir=target,
        files=[str(p.relative_to(target.absolute())) for p in written],
    )
