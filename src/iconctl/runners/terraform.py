"""Terraform: init with a backend, plan to a saved file, apply that plan, outputs, destroy."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from iconctl import process
from iconctl.errors import ToolFailed
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

    def _terraform(self, verb: str, *args: str, capture: bool = False) -> process.Result:
        return self._run(verb, [f"-chdir={self.workdir}", verb, *args], capture=capture)

    def init(self, backend_config: list[str]) -> None:
        args = ["-input=false", "-no-color", "-reconfigure"]
        args += [f"-backend-config={item}" for item in backend_config]
        self._terraform("init", *args)

    def plan(self, var_files: list[Path], plan_file: Path, *, destroy: bool = False) -> PlanSummary:
        args = ["-input=false", "-no-color", f"-out={plan_file}"]
        args += [f"-var-file={f}" for f in var_files]
        if destroy:
            args.append("-destroy")
        self._terraform("plan", *args)
        return self.show_plan(plan_file)

    def show_plan(self, plan_file: Path) -> PlanSummary:
        """Count planned actions from `terraform show -json` (a replace counts as add + destroy)."""
        result = self._terraform("show", "-json", "-no-color", str(plan_file), capture=True)
        try:
            plan = json.loads(result.stdout)
        except json.JSONDecodeError as exc:
            raise ToolFailed(
                step=f"{self.step}: terraform show",
                argv=result.argv,
                returncode=0,
                tail=f"unreadable JSON: {exc}",
            ) from None
        modules: dict[str, list[int]] = {}
        for resource in plan.get("resource_changes") or []:
            actions = set(resource.get("change", {}).get("actions", []))
            counts = modules.setdefault(_top_module(resource.get("module_address")), [0, 0, 0])
            counts[0] += "create" in actions
            counts[1] += "update" in actions
            counts[2] += "delete" in actions
        totals = [sum(c[i] for c in modules.values()) for i in range(3)]
        changed = {name: c for name, c in sorted(modules.items()) if any(c)}
        return PlanSummary(add=totals[0], change=totals[1], destroy=totals[2], modules=changed)

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


def _top_module(address: str | None) -> str:
    """`module.nlb.module.cert` -> `nlb`; resources of the stack itself -> `root`."""
    if not address:
        return "root"
    return address.split(".")[1].split("[")[0]
