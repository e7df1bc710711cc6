"""Packer: validate and build a template directory, reading the image id from its manifest."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from iconctl import process
from iconctl.errors import ToolFailed


class Packer:
    @staticmethod
    def activity(line: str) -> str | None:
        """What Packer is doing now: its `==> <build>: <step>` lines (None: nothing to show)."""
        if not line.startswith("==> "):
            return None
        _, _, doing = line[4:].partition(": ")
        return doing.strip() or None

    def __init__(
        self,
        template_dir: Path,
        *,
        step: str,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        on_line: Callable[[str], None] | None = None,
    ) -> None:
        self.template_dir = template_dir
        self.step = step
        self.log_path = log_path
        self.on_line = on_line
        self.env = {**(env if env is not None else os.environ), "PACKER_NO_COLOR": "1"}

    def _args(self, var_files: list[Path], variables: Mapping[str, str], only: str | None) -> list:
        args = [f"-var-file={f}" for f in var_files]
        args += [f"-var={key}={value}" for key, value in sorted(variables.items())]
        if only:
            args.append(f"-only={only}")
        return args

    def validate(
        self, var_files: list[Path], variables: Mapping[str, str], *, only: str | None = None
    ) -> None:
        process.run(
            ["packer", "validate", *self._args(var_files, variables, only), str(self.template_dir)],
            step=f"{self.step}: packer validate",
            env=self.env,
            log_path=self.log_path,
            on_line=self.on_line,
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
        process.run(
            [*argv, str(self.template_dir)],
            step=f"{self.step}: packer build",
            env=self.env,
            log_path=self.log_path,
            on_line=self.on_line,
        )
        if not manifest.exists():
            # Packer exits 0 when -only matches no build of the template.
            raise ToolFailed(
                step=f"{self.step}: packer build",
                argv=argv,
                returncode=0,
                tail=f"packer built nothing: -only={only} matched no build of "
                f"{self.template_dir} (names are <build>.<source type>.<source name>)",
                log_path=str(self.log_path),
            )
        try:
            builds = json.loads(manifest.read_text())["builds"]
            return str(builds[-1]["artifact_id"])
        except (OSError, ValueError, KeyError, IndexError) as exc:
            raise ToolFailed(
                step=f"{self.step}: packer build",
                argv=argv,
                returncode=0,
                tail=f"no artifact id in the manifest {manifest}: {exc}",
                log_path=str(self.log_path),
            ) from None
