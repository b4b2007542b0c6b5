"""The after-action report as one readable HTML document: no external assets, charts as
inline SVG (the safety-check curve, messages by purpose), printable to PDF by a browser."""

from __future__ import annotations

import datetime as dt

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from resources.review import ShelterReview

from .review import AfterActionReport, SafetyCheckReview

WIDTH, HEIGHT, PAD = 560, 220, 36


def render_report_html(report: AfterActionReport) -> str:
    checks = [{"review": c, "chart": curve_svg(c), "to90": _duration(c.seconds_to_90), "to100": _duration(c.seconds_to_100)}
              for c in report.safety_checks]
    return render_to_string("emergency/after_action_report.html", {
        "r": report, "checks": checks, "messages_chart": messages_svg(report), "generated_at": timezone.localtime(),
        "median_staff": _duration(report.tasks.median_seconds_to_staff),
        "p90_staff": _duration(report.tasks.p90_seconds_to_staff),
        "purposes": sorted(report.messages.by_purpose.items()),
        "totals": {k: report.messages.total(k) for k in ("written", "sent", "delivered", "failed", "refused")},
        **resources_and_warnings_context(report),
    })


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}小时{minutes}分" if hours else f"{minutes}分{secs}秒"


def curve_svg(review: SafetyCheckReview) -> str:
    """Share of residents accounted for against minutes since the check started."""
    if not review.curve:
        return ""
    span = max(review.curve[-1][0], 1.0)

    def x(m: float) -> float:
        return PAD + (WIDTH - 2 * PAD) * m / span

    def y(s: float) -> float:
        return HEIGHT - PAD - (HEIGHT - 2 * PAD) * s

    points = " ".join(f"{x(m):.1f},{y(s):.1f}" for m, s in review.curve)
    guide = y(0.9)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img"'
        f' aria-label="{escape(review.check.title)}">',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>',
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>',
        f'<line x1="{PAD}" y1="{guide:.1f}" x2="{WIDTH - PAD}" y2="{guide:.1f}" stroke="#c33" stroke-dasharray="4 3"/>',
        f'<text x="{WIDTH - PAD}" y="{guide - 4:.1f}" font-size="11" text-anchor="end" fill="#c33">90%</text>',
        f'<polyline fill="none" stroke="#1769aa" stroke-width="2" points="{points}"/>',
        f'<text x="{PAD}" y="{PAD - 8}" font-size="11">100%</text>',
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 8}" font-size="11" text-anchor="end">{span:.0f} 分钟</text>',
        f'<text x="{PAD}" y="{HEIGHT - 8}" font-size="11">0</text>',
        "</svg>",
    ]
    return mark_safe("".join(parts))


def messages_svg(report: AfterActionReport) -> str:
    """Horizontal bars: SMS written, delivered and failed per purpose."""
    rows = sorted(report.messages.by_purpose.items())
    if not rows:
        return ""
    top = max(max(v["written"] for _, v in rows), 1)
    bar, gap, label_w = 14, 10, 150
    height = len(rows) * (3 * bar + gap) + 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img">']
    for i, (purpose, values) in enumerate(rows):
        y0 = 10 + i * (3 * bar + gap)
        parts.append(f'<text x="0" y="{y0 + bar}" font-size="12">{escape(purpose)}</text>')
        for j, (key, color) in enumerate((("written", "#9db4c0"), ("delivered", "#2e7d32"), ("failed", "#c62828"))):
            w = (WIDTH - label_w - 60) * values[key] / top
            yy = y0 + j * bar
            parts.append(f'<rect x="{label_w}" y="{yy}" width="{w:.1f}" height="{bar - 2}" fill="{color}"/>')
            parts.append(f'<text x="{label_w + w + 4:.1f}" y="{yy + bar - 4}" font-size="11">{key} {values[key]}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


# --- before and during: supplies, shelters, warnings in (issue 20) ---------------------------------
def resources_and_warnings_context(report: AfterActionReport) -> dict[str, object]:
    """What emergency/after_action_resources.html shows (included by the main template)."""
    w = report.warnings
    return {
        "shelters": [{"review": s, "chart": occupancy_svg(s)} for s in report.shelters],
        "median_decide": _duration(w.median_seconds_to_decide), "max_decide": _duration(w.max_seconds_to_decide),
    }


def occupancy_svg(review: ShelterReview) -> str:
    """People inside a shelter over time (a step line), with its capacity dashed."""
    if len(review.curve) < 2:
        return ""
    start, end = review.curve[0][0], review.curve[-1][0]
    span = max((end - start).total_seconds(), 60.0)
    top = max(review.capacity, review.peak, 1)

    def x(at: dt.datetime) -> float:
        return PAD + (WIDTH - 2 * PAD) * (at - start).total_seconds() / span

    def y(n: float) -> float:
        return HEIGHT - PAD - (HEIGHT - 2 * PAD) * n / top

    steps: list[str] = []
    previous = review.curve[0][1]
    for at, n in review.curve:
        steps.append(f"{x(at):.1f},{y(previous):.1f} {x(at):.1f},{y(n):.1f}")
        previous = n
    cap = y(review.capacity)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img"'
        f' aria-label="{escape(review.facility.name)}">',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>',
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>',
        f'<line x1="{PAD}" y1="{cap:.1f}" x2="{WIDTH - PAD}" y2="{cap:.1f}" stroke="#c33" stroke-dasharray="4 3"/>',
        f'<text x="{WIDTH - PAD}" y="{cap - 4:.1f}" font-size="11" text-anchor="end" fill="#c33">容量 {review.capacity}</text>',
        f'<polyline fill="none" stroke="#1769aa" stroke-width="2" points="{" ".join(steps)}"/>',
        f'<text x="{PAD}" y="{HEIGHT - 8}" font-size="11">{timezone.localtime(start):%m-%d %H:%M}</text>',
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 8}" font-size="11" text-anchor="end">{timezone.localtime(end):%m-%d %H:%M}</text>',
        "</svg>",
    ]
    return mark_safe("".join(parts))
