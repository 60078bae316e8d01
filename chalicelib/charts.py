"""Bar charts as inline SVG, drawn on the server (pure: no I/O).

No script and no style (the pages' CSP allows neither): presentation attributes only. Each chart
has a <title> and a <desc> (its alt text), scales with its container (viewBox, width 100%), and
is meant to sit beside a table of the same figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 640
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 28, 46
COLOURS = ("#2f6f9f", "#e07b00", "#3c9d5d", "#8a5fb0")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


def bar_chart(chart_id: str, title: str, desc: str, labels: Sequence[str], series: Sequence[Series]) -> str:
    """Grouped bars: one group per label, one bar per series, a legend on top, y from 0."""
    top = max([v for s in series for v in s.values if v is not None] + [1.0])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group_w = plot_w / max(len(labels), 1)
    bar_w = group_w * 0.8 / max(len(series), 1)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
           f'aria-labelledby="{chart_id}-title {chart_id}-desc" class="chart">',
           f'<title id="{chart_id}-title">{escape(title)}</title>',
           f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
           f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" stroke="#8a94a6"/>',
           f'<text x="{LEFT - 4}" y="{TOP + 4}" font-size="11" text-anchor="end" fill="#555">{_num(top)}</text>',
           f'<text x="{LEFT - 4}" y="{TOP + plot_h}" font-size="11" text-anchor="end" fill="#555">0</text>']
    for k, s in enumerate(series):
        x = LEFT + k * 150
        out.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{COLOURS[k % len(COLOURS)]}"/>'
                   f'<text x="{x + 16}" y="16" font-size="12" fill="#222">{escape(s.name)}</text>')
    step = max(1, len(labels) // 12)  # at most ~12 labels under the axis; the table has them all
    for i, label in enumerate(labels):
        x0 = LEFT + i * group_w + group_w * 0.1
        for k, s in enumerate(series):
            value = s.values[i]
            if value is None:
                continue
            h = plot_h * value / top
            out.append(f'<rect x="{x0 + k * bar_w:.1f}" y="{TOP + plot_h - h:.1f}" width="{max(bar_w - 1, 1):.1f}" '
                       f'height="{h:.1f}" fill="{COLOURS[k % len(COLOURS)]}"><title>{escape(label)}: '
                       f'{escape(s.name)} {_num(value)}</title></rect>')
        if i % step == 0:
            cx = LEFT + i * group_w + group_w / 2
            out.append(f'<text x="{cx:.1f}" y="{TOP + plot_h + 14}" font-size="10" text-anchor="end" fill="#555" '
                       f'transform="rotate(-30 {cx:.1f} {TOP + plot_h + 14})">{escape(label[:14])}</text>')
    if not labels:
        out.append(f'<text x="{WIDTH / 2}" y="{TOP + plot_h / 2}" font-size="14" text-anchor="middle" '
                   f'fill="#555">Nothing yet</text>')
    out.append("</svg>")
    return "\n".join(out)


def _num(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"
