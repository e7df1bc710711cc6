"""Terraform: init with a backend, plan to a saved file, apply that plan, outputs, destroy."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from iconctl import process
from iconctl.runners.tool import ToolRunner


@dataclass(frozen=True)
class PlanSummary:
    add: int = 0
    change: int = 0
    destroy: int = 0
    # per module address ("root" for the stack's own resources): [add, change, destroy]
    modules: dict[str, list[int]] = field(default_factory=dict)

    @property
    def changes(self) -> bool:
        return bool(self.add or self.change or self.destroy)


# `module.x.aws_instance.this: Still creating... [1m10s elapsed]` and its siblings.
_PROGRESS = re.compile(
    r"^(?P<address>[\w.\[\]\"-]+): (?P<verb>Creating|Modifying|Destroying|Reading|Refreshing"
    r"|Still creating|Still modifying|Still destroying|Still reading)\.\.\."
    r"(?: \[(?:id=[^,\]]*, )?(?P<elapsed>[\dhms]+) elapsed\])?"
)


@dataclass
class Terraform(ToolRunner):
    """Runs terraform in one working directory (a stack) with its own data directory."""

    tool = "terraform"

    workdir: Path
    data_dir: Path = field(kw_only=True)

    @staticmethod
    def activity(line: str) -> str | None:
        """What Terraform is doing now, from one line of its output (None: nothing to show)."""
        match = _PROGRESS.match(line)
        if match is None:
            return None
        verb = match["verb"].removeprefix("Still ").lower()
        elapsed = f" ({match['elapsed']})" if match["elapsed"] else ""
        return f"{verb} {match['address']}{elapsed}"

    def tool_env(self) -> dict[str, str]:
        return {"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "TF_DATA_DIR": str(self.data_dir)}

    def _terraform(
        self,
        verb: str,
        *args: str,
        capture: bool = False,
        translate: Callable[[str], str | None] | None = None,
    ) -> process.Result:
        argv = [f"-chdir={self.workdir}", verb, *args]
        return self._run(verb, argv, capture=capture, translate=translate)

    def init(self, backend_config: list[str]) -> None:
        args = ["-input=false", "-no-color", "-reconfigure"]
        args += [f"-backend-config={item}" for item in backend_config]
        self._terraform("init", *args)

    def plan(self, var_files: list[Path], plan_file: Path, *, destroy: bool = False) -> PlanSummary:
        """Plan to ``plan_file`` and count its actions from Terraform's machine-readable stream
        (one process: `terraform show -json` would start every provider again)."""
        args = ["-input=false", "-no-color", "-json", f"-out={plan_file}"]
        args += [f"-var-file={f}" for f in var_files]
        if destroy:
            args.append("-destroy")
        stream = _PlanStream()
        self._terraform("plan", *args, translate=stream.feed)
        return stream.summary()

    def apply(self, plan_file: Path) -> None:
        self._terraform("apply", "-input=false", "-no-color", str(plan_file))

    def output(self) -> dict[str, object]:
        """Non-sensitive outputs by name; sensitive ones never leave Terraform's state."""
        result = self._terraform("output", "-json", "-no-color", capture=True)
        data = json.loads(result.stdout or "{}")
        return {
            name: entry.get("value")
            for name, entry in data.items()
            if not entry.get("sensitive", False)
        }

    def destroy(self, var_files: list[Path]) -> None:
        args = ["-input=false", "-no-color", "-auto-approve"]
        args += [f"-var-file={f}" for f in var_files]
        self._terraform("destroy", *args)


class _PlanStream:
    """Reads `terraform plan -json` line by line: counts the planned actions per top module and
    gives back each message as the text Terraform would have printed (diagnostics as their
    `Error:` blocks, which the failure report quotes)."""

    # a replace counts as add + destroy, as in the human plan
    _COUNTS = {"create": (1, 0, 0), "update": (0, 1, 0), "delete": (0, 0, 1), "replace": (1, 0, 1)}

    def __init__(self) -> None:
        self.modules: dict[str, list[int]] = {}

    def feed(self, line: str) -> str | None:
        try:
            message = json.loads(line)
        except ValueError:
            return line  # not the machine stream (a crash, a panic): kept as it is
        if not isinstance(message, dict):
            return line
        kind = message.get("type")
        if kind == "planned_change":
            change = message.get("change") or {}
            counts = self._COUNTS.get(str(change.get("action")))
            if counts:
                module = _top_module((change.get("resource") or {}).get("module") or None)
                total = self.modules.setdefault(module, [0, 0, 0])
                for index, count in enumerate(counts):
                    total[index] += count
        text = str(message.get("@message", ""))
        if kind == "diagnostic":
            diagnostic = message.get("diagnostic") or {}
            severity = "Error" if diagnostic.get("severity") == "error" else "Warning"
            text = f"{severity}: {diagnostic.get('summary', '')}"
            detail = str(diagnostic.get("detail") or "")
            address = diagnostic.get("address")
            where = diagnostic.get("range") or {}
            if address:
                text += f"\n  with {address}"
            if where.get("filename"):
                text += f"\n  on {where['filename']} line {(where.get('start') or {}).get('line')}"
            if detail:
                text += "\n" + detail
        return text or None

    def summary(self) -> PlanSummary:
        changed = {name: c for name, c in sorted(self.modules.items()) if any(c)}
        totals = [sum(c[i] for c in changed.values()) for i in range(3)]
        return PlanSummary(add=totals[0], change=totals[1], destroy=totals[2], modules=changed)


def _top_module(address: str | None) -> str:
    """`module.nlb.module.cert` -> `nlb`; resources of the stack itself -> `root`."""
    if not address:
        return "root"
    return address.split(".")[1].split("[")[0]
