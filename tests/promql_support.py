"""PromQL helpers for the monitoring tests: every vector selector of an expression."""

from __future__ import annotations

from tests.conftest import need_module


def selectors(expr: str) -> list[tuple[str | None, dict[str, tuple[str, str]]]]:
    """(metric name, {label: (op, value)}) for every vector selector in ``expr``."""
    promql = need_module("promql_parser")
    found = []

    def visit(node) -> None:
        if isinstance(node, promql.VectorSelector):
            matchers = {m.name: (str(m.op), m.value) for m in node.matchers.matchers}
            name = node.name
            if name is None and "__name__" in matchers:
                name = matchers["__name__"][1]
            found.append((name, matchers))
        elif isinstance(node, promql.MatrixSelector):
            visit(node.vector_selector)
        elif isinstance(node, promql.Call):
            for arg in node.args:
                visit(arg)
        elif isinstance(node, promql.AggregateExpr):
            visit(node.expr)
            if node.param is not None:
                visit(node.param)
        elif isinstance(node, promql.BinaryExpr):
            visit(node.lhs)
            visit(node.rhs)
        elif isinstance(node, promql.ParenExpr | promql.UnaryExpr | promql.SubqueryExpr):
            visit(node.expr)

    visit(promql.parse(expr))
    return found
