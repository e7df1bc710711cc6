"""Small inline SVG charts for the load-test report: lines over time, and percentiles per method.

Plain strings, no plotting library: the report stays one self-contained HTML file (no scripts,
nothing fetched), the output is deterministic, and iconctl needs no extra dependency. Every
text that comes from a run (method names, error texts) is XML-escaped here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 60, 60, 34, 40
PALETTE = ("#0b6bcb", "#d97706", "#c62828", "#2f855a", "#7c3aed", "#0891b2", "#be185d", "#4b5563")
GRID = "#d8dee4"
MUTED = "#59636e"


@dataclass(frozen=True)
class Series:
    name: str
    points: list[tuple[float, float | None]]  # (x, y); y None: no data there
    color: str
    dashed: bool = False


def nice_ticks(high: float, count: int = 5) -> list[float]:
    """0 and round steps (1, 2, 5 × 10^n) up to at least ``high``."""
    if not high or high <= 0 or not math.isfinite(high):
        return [0.0, 1.0]
    raw = high / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    ticks = [0.0]
    while ticks[-1] < high:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:g}"


def _open(title: str, height: int = HEIGHT) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" font-family="system-ui, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
    ]


def _legend(items: list[tuple[str, str, bool]], y: float = 14) -> list[str]:
    """Swatches left to right along the top: (name, colour, dashed)."""
    out: list[str] = []
    x = float(LEFT)
    for name, color, dashed in items:
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        out.append(
            f'<line x1="{x}" y1="{y}" x2="{x + 18}" y2="{y}" stroke="{color}" '
            f'stroke-width="3"{dash}/>'
        )
        out.append(f'<text x="{x + 23}" y="{y + 4}" fill="#1f2328">{escape(name)}</text>')
        x += 23 + 7.2 * len(name) + 18
    return out


def line_chart(
    series: list[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    right: list[Series] | None = None,
    right_label: str = "",
) -> str:
    """Lines over a shared x axis from 0; ``right`` series use their own scale on the right."""
    right = right or []
    xs = [x for s in series + right for x, _ in s.points]
    x_high = max(xs, default=1) or 1
    y_ticks = nice_ticks(max((y for s in series for _, y in s.points if y is not None), default=1))
    r_ticks = nice_ticks(max((y for s in right for _, y in s.points if y is not None), default=1))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return round(LEFT + plot_w * x / x_high, 1)

    def py(y: float, ticks: list[float]) -> float:
        return round(TOP + plot_h * (1 - y / ticks[-1]), 1)

    out = _open(title)
    for tick in y_ticks:
        y = py(tick, y_ticks)
        out.append(f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}" stroke="{GRID}"/>')
        out.append(
            f'<text x="{LEFT - 6}" y="{y + 4}" text-anchor="end" fill="{MUTED}">'
            f"{_number(tick)}</text>"
        )
    if right:
        for tick in r_ticks:
            out.append(
                f'<text x="{WIDTH - RIGHT + 6}" y="{py(tick, r_ticks) + 4}" fill="{MUTED}">'
                f"{_number(tick)}</text>"
            )
    for tick in nice_ticks(x_high, 6):
        if tick > x_high:
            break
        x = px(tick)
        out.append(f'<line x1="{x}" y1="{TOP + plot_h}" x2="{x}" y2="{TOP + plot_h + 4}" '
                   f'stroke="{MUTED}"/>')  # fmt: skip
        out.append(
            f'<text x="{x}" y="{TOP + plot_h + 17}" text-anchor="middle" fill="{MUTED}">'
            f"{_number(tick)}</text>"
        )
    out.append(
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 4}" text-anchor="middle" '
        f'fill="{MUTED}">{escape(x_label)}</text>'
    )
    out.append(
        f'<text transform="translate(14 {TOP + plot_h / 2}) rotate(-90)" text-anchor="middle" '
        f'fill="{MUTED}">{escape(y_label)}</text>'
    )
    if right_label:
        out.append(
            f'<text transform="translate({WIDTH - 8} {TOP + plot_h / 2}) rotate(90)" '
            f'text-anchor="middle" fill="{MUTED}">{escape(right_label)}</text>'
        )
    for group, ticks in ((series, y_ticks), (right, r_ticks)):
        for s in group:
            points = [(px(x), py(y, ticks)) for x, y in s.points if y is not None]
            if not points:
                continue
            dash = ' stroke-dasharray="5 3"' if s.dashed else ""
            out.append(
                f'<polyline data-series="{escape(s.name)}" fill="none" stroke="{s.color}" '
                f'stroke-width="2" stroke-linejoin="round"{dash} points="'
                + " ".join(f"{x},{y}" for x, y in points)
                + '"/>'
            )
            if len(points) == 1:
                (x, y) = points[0]
                out.append(f'<circle cx="{x}" cy="{y}" r="3" fill="{s.color}"/>')
    out += _legend([(s.name, s.color, s.dashed) for s in series + right])
    out.append("</svg>")
    return "\n".join(out)


def percentile_rows(
    rows: list[tuple[str, float | None, float | None, float | None]], *, title: str
) -> str:
    """One row per name: a line from p50 to p99 with a mark at p50, p95 and p99 (ms)."""
    colors = {"p50": PALETTE[0], "p95": PALETTE[1], "p99": PALETTE[2]}
    row_h, label_w = 26, 170
    height = TOP + row_h * max(1, len(rows)) + BOTTOM
    high = max((v for row in rows for v in row[1:] if v is not None), default=1)
    ticks = nice_ticks(high)
    plot_w = WIDTH - label_w - RIGHT

    def px(value: float) -> float:
        return round(label_w + plot_w * value / ticks[-1], 1)

    out = _open(title, height)
    bottom = TOP + row_h * max(1, len(rows))
    for tick in ticks:
        x = px(tick)
        out.append(f'<line x1="{x}" y1="{TOP}" x2="{x}" y2="{bottom}" stroke="{GRID}"/>')
        out.append(
            f'<text x="{x}" y="{bottom + 16}" text-anchor="middle" fill="{MUTED}">'
            f"{_number(tick)}</text>"
        )
    out.append(
        f'<text x="{label_w + plot_w / 2}" y="{height - 4}" text-anchor="middle" '
        f'fill="{MUTED}">latency (ms)</text>'
    )
    for index, (name, *values) in enumerate(rows):
        y = TOP + row_h * index + row_h / 2
        out.append(
            f'<text x="{label_w - 8}" y="{y + 4}" text-anchor="end" fill="#1f2328">'
            f"{escape(name)}</text>"
        )
        known = [v for v in values if v is not None]
        if len(known) >= 2:
            out.append(
                f'<line x1="{px(min(known))}" y1="{y}" x2="{px(max(known))}" y2="{y}" '
                f'stroke="{GRID}" stroke-width="6" stroke-linecap="round"/>'
            )
        for (label, color), value in zip(colors.items(), values, strict=True):
            if value is not None:
                out.append(
                    f'<circle data-series="{label}" data-name="{escape(name)}" cx="{px(value)}" '
                    f'cy="{y}" r="5" fill="{color}"><title>{escape(name)} {label}: '
                    f"{_number(value)} ms</title></circle>"
                )
    out += _legend([(label, color, False) for label, color in colors.items()])
    out.append("</svg>")
    return "\n".join(out)
