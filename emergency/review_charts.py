"""The report's charts as inline SVG we draw ourselves (no script, no external asset): a
browser shows them and WeasyPrint prints them. Every chart has labelled axes with ticks and
a legend; text is escaped; labels use the report's CJK font.

    line_chart(points, x_label=..., y_label=...)             # share over time, 0..100%
    stacked_bars(rows, legend, x_label=...)                  # one horizontal bar per row
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

FONT = "'Noto Sans CJK SC','Noto Sans SC','PingFang SC','Microsoft YaHei',sans-serif"
AXIS, GRID_LINE, TEXT = "#555", "#ddd", "#222"
COLORS = ("#2e7d32", "#c62828", "#f9a825", "#6d6d6d", "#1769aa", "#9db4c0", "#8e24aa")


def _svg(width: int, height: int, label: str, parts: list[str]) -> SafeString:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'role="img" aria-label="{escape(label)}" style="font-family:{FONT}" font-family="{FONT}">')
    return mark_safe(head + "".join(parts) + "</svg>")


def _text(x: float, y: float, text: str, *, size: int = 11, anchor: str = "start", fill: str = TEXT,
          rotate: bool = False) -> str:
    turn = f' transform="rotate(-90 {x:.1f} {y:.1f})"' if rotate else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}"{turn}>'
            f"{escape(text)}</text>")


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least `top` (1, 2, 5 x 10^n steps)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return [step * i for i in range(int(math.ceil(top / step)) + 1)]


def _number(value: float) -> str:
    return f"{value:g}" if value < 10_000 else f"{value / 1000:g}k"


def line_chart(points: Sequence[tuple[float, float]], *, x_label: str, y_label: str, label: str = "",
               guide: float | None = 0.9, width: int = 620, height: int = 260) -> SafeString:
    """y is a share 0..1 (drawn as %), x in the unit x_label names."""
    if not points:
        return mark_safe("")
    left, right, top, bottom = 64, 16, 14, 46
    xs = nice_ticks(max(p[0] for p in points) or 1.0)
    span = xs[-1]

    def x(v: float) -> float:
        return left + (width - left - right) * v / span

    def y(v: float) -> float:
        return height - bottom - (height - top - bottom) * v

    parts = []
    for share in (0, 0.25, 0.5, 0.75, 1.0):
        parts += [f'<line x1="{left}" y1="{y(share):.1f}" x2="{width - right}" y2="{y(share):.1f}" stroke="{GRID_LINE}"/>',
                  _text(left - 6, y(share) + 4, f"{share:.0%}", size=10, anchor="end")]
    for tick in xs:
        parts += [f'<line x1="{x(tick):.1f}" y1="{height - bottom}" x2="{x(tick):.1f}" y2="{height - bottom + 4}" stroke="{AXIS}"/>',
                  _text(x(tick), height - bottom + 16, _number(tick), size=10, anchor="middle")]
    parts += [f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="{AXIS}"/>',
              f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="{AXIS}"/>']
    if guide is not None:
        parts += [f'<line x1="{left}" y1="{y(guide):.1f}" x2="{width - right}" y2="{y(guide):.1f}" stroke="#c33" '
                  f'stroke-dasharray="4 3"/>', _text(width - right - 2, y(guide) - 4, f"{guide:.0%}", size=10, anchor="end", fill="#c33")]
    line = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in points)
    parts.append(f'<polyline fill="none" stroke="{COLORS[4]}" stroke-width="2" points="{line}"/>')
    parts += [_text((left + width - right) / 2, height - 8, x_label, anchor="middle"),
              _text(16, (top + height - bottom) / 2, y_label, anchor="middle", rotate=True)]
    return _svg(width, height, label or y_label, parts)


def stacked_bars(rows: Sequence[tuple[str, Sequence[int]]], legend: Sequence[str], *, x_label: str, label: str = "",
                 width: int = 760, colors: Sequence[str] = COLORS) -> SafeString:
    """One horizontal bar per row, its segments in `legend` order (and `colors` order)."""
    if not rows:
        return mark_safe("")
    bar, gap, name_w, top, bottom, right = 16, 8, 150, 30, 44, 56
    height = top + len(rows) * (bar + gap) + bottom
    ticks = nice_ticks(max(max(sum(values) for _, values in rows), 1))
    scale = (width - name_w - right) / ticks[-1]
    parts = []
    for i, name in enumerate(legend):  # legend on top
        lx = name_w + i * 110
        parts += [f'<rect x="{lx}" y="8" width="10" height="10" fill="{colors[i % len(colors)]}"/>',
                  _text(lx + 14, 17, name, size=10)]
    axis_y = top + len(rows) * (bar + gap)
    for tick in ticks:
        tx = name_w + tick * scale
        parts += [f'<line x1="{tx:.1f}" y1="{top - 4}" x2="{tx:.1f}" y2="{axis_y}" stroke="{GRID_LINE}"/>',
                  _text(tx, axis_y + 14, _number(tick), size=10, anchor="middle")]
    for r, (name, values) in enumerate(rows):
        y0 = top + r * (bar + gap)
        parts.append(_text(name_w - 6, y0 + bar - 4, name[:12], size=11, anchor="end"))
        offset = float(name_w)
        for i, value in enumerate(values):
            if value:
                parts.append(f'<rect x="{offset:.1f}" y="{y0}" width="{value * scale:.1f}" height="{bar}" '
                             f'fill="{colors[i % len(colors)]}"/>')
                offset += value * scale
        parts.append(_text(offset + 4, y0 + bar - 4, _number(sum(values)), size=10))
    parts += [f'<line x1="{name_w}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" stroke="{AXIS}"/>',
              f'<line x1="{name_w}" y1="{top - 4}" x2="{name_w}" y2="{axis_y}" stroke="{AXIS}"/>',
              _text(name_w + (width - name_w - right) / 2, height - 8, x_label, anchor="middle")]
    return _svg(width, height, label or x_label, parts)
