"""Packer: validate and build a template directory, reading the image id from its manifest."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from iconctl.runners.tool import ToolRunner


@dataclass
class Packer(ToolRunner):
    tool = "packer"

    template_dir: Path

    @staticmethod
    def activity(line: str) -> str | None:
        """What Packer is doing now: its `==> <build>: <step>` lines (None: nothing to show)."""
        if not line.startswith("==> "):
            return None
        _, _, doing = line[4:].partition(": ")
        return doing.strip() or None

    def tool_env(self) -> dict[str, str]:
        return {"PACKER_NO_COLOR": "1"}

    def _args(self, var_files: list[Path], variables: Mapping[str, str], only: str | None) -> list:
        args = [f"-var-file={f}" for f in var_files]
        args += [f"-var={key}={value}" for key, value in sorted(variables.items())]
        if only:
            args.append(f"-only={only}")
        return args

    def validate(
        self, var_files: list[Path], variables: Mapping[str, str], *, only: str | None = None
    ) -> None:
        self._run(
            "validate",
            ["validate", *self._args(var_files, variables, only), str(self.template_dir)],
        )

    def build(
        self,
        var_files: list[Path],
        variables: Mapping[str, str],
        *,
        manifest: Path,
        only: str | None = None,
    ) -> str:
        """Build and return the artifact id the manifest post-processor recorded last."""
        argv = ["packer", "build", "-color=false", *self._args(var_files, variables, only)]
        self._run("build", [*argv[1:], str(self.template_dir)])
        if not manifest.exists():
            # Packer exits 0 when -only matches no build of the template.
            raise self.failed(
                "build",
                argv,
                0,
                f"packer built nothing: -only={only} matched no build of "
                f"{self.template_dir} (names are <build>.<source type>.<source name>)",
            )
        try:
            builds = json.loads(manifest.read_text())["builds"]
            return str(builds[-1]["artifact_id"])
        except (OSError, ValueError, KeyError, IndexError) as exc:
            raise self.failed(
                "build", argv, 0, f"no artifact id in the manifest {manifest}: {exc}"
            ) from None
