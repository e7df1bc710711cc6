"""PromQL helpers for the monitoring tests: every vector selector of an expression, and the
dashboards' panel queries as plain PromQL."""

from __future__ import annotations

from tests.helpers import need_module


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


# Grafana's variables, replaced by values of the same kind before parsing.
GRAFANA_VARS = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1h",
    "${region}": "us-east-1",
    "$region": "us-east-1",
}


def grafana_to_promql(expr: str) -> str:
    for var, value in GRAFANA_VARS.items():
        expr = expr.replace(var, value)
    assert "$" not in expr, f"unknown Grafana variable in {expr!r}"
    return expr


def panel_queries() -> list[tuple[str, str, str]]:
    """(dashboard, panel title, query) of every panel of the generated dashboards."""
    from iconctl import dashboards

    boards = {"overview": dashboards.overview_dashboard(), "region": dashboards.region_dashboard()}
    return [(name, title, expr) for name, dash in boards.items()
            for title, expr in dashboards.queries(dash)]  # fmt: skip
