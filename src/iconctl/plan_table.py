"""The table `iconctl plan` prints: planned changes per unit (region, global, state backend)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import JustifyMethod
    from rich.table import Table

    from iconctl.pipeline import Report


def plan_table(report: Report) -> Table:
    from rich.table import Table

    table = Table(title="planned changes", title_justify="left")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("unit", "left"), ("module", "left"), ("add", "right"), ("change", "right"),
        ("destroy", "right"),
    )  # fmt: skip
    for column, justify in columns:
        table.add_column(column, justify=justify)
    for step in report.steps:
        # A region's zone step (its delegated Route 53 zone) is planned beside its infra, a
        # k8s region's monitoring step beside its deploy.
        unit = f"{step.unit} {step.step}" if step.step in ("zone", "monitoring") else step.unit
        if step.status == "failed":  # the error itself is printed once, after the table
            table.add_row(f"{step.unit} {step.step}", "[red]failed[/] (see below)", "", "", "")
            table.add_section()
            continue
        if step.status in ("deferred", "skipped"):
            table.add_row(unit, f"({step.note or step.status})", "", "", "")
            table.add_section()
            continue
        planned = (step.plan or {}).get("modules")
        modules: dict[str, list[int]] = planned if isinstance(planned, dict) else {}
        if not modules:
            table.add_row(unit, "(no changes)", "0", "0", "0")
        for name, (add, change, destroy) in modules.items():
            table.add_row(unit, name, str(add), str(change), str(destroy))
        if step.note:  # what apply will leave to the operator: printed whole below the table
            table.add_row(unit, "[yellow]note below[/]", "", "", "")
        table.add_section()
    return table


def step_notes(report: Report) -> list[str]:
    """One line per step that leaves something to the operator (plan: will leave), each
    whole so that its command can be copied."""
    return [
        f"{step.unit} {step.step}: {step.note}"
        for step in report.steps
        if step.note and step.status in ("planned", "manual")
    ]
