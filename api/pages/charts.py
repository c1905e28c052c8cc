"""Charts drawn on the server as inline SVG: no script, no external file, and no ``style``
attribute (the Content-Security-Policy forbids them), only SVG presentation attributes and
CSS classes. Each chart names itself (``<title>``) and says what it shows (``<desc>``); the
page gives its figures as a table too."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 320  # the viewBox width; the chart scales to the width of its column
ROW = 38  # height of one bar with its label
BAR = 14
LABEL_CHARS = 44


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value, and the value as the page's language writes it."""

    label: str
    value: float
    shown: str


def bar_chart(ident: str, title: str, description: str, bars: list[Bar]) -> Markup:
    """A horizontal bar chart: each bar's label above it and its value at its end, bars scaled
    to the largest value. ``ident`` must be unique in the page."""
    top = max([b.value for b in bars] + [0])
    span = WIDTH - 56  # room left for the value after the longest bar
    height = ROW * len(bars) + 4
    name = escape(ident)
    parts = [
        (f'<svg class="chart" id="{name}" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
         f'height="{height}" role="img" aria-labelledby="{name}-title {name}-desc">'),
        f'<title id="{name}-title">{escape(title)}</title>',
        f'<desc id="{name}-desc">{escape(description)}</desc>',
    ]
    for i, bar in enumerate(bars):
        y = ROW * i
        length = round(span * bar.value / top, 1) if top > 0 else 0
        parts.append(
            f'<text x="0" y="{y + 13}" class="chart-label">{escape(_short(bar.label))}</text>'
            f'<rect x="0" y="{y + 18}" width="{span}" height="{BAR}" class="chart-track"/>'
            f'<rect x="0" y="{y + 18}" width="{length}" height="{BAR}" class="chart-bar"/>'
            f'<text x="{length + 6}" y="{y + 30}" class="chart-value">{escape(bar.shown)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1].rstrip() + "…"
