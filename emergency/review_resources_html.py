"""The after-action report's sections on what came before and during (issue 20) as the HTML
shows them: warnings that came in and the time to decide, shelter occupancy over time,
supplies used and distributed — in the viewer's language (the words live here, beside the
sections; emergency.review_labels holds the rest of the report's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from resources.review import ShelterReview

from .review import AfterActionReport
from .review_charts import line_chart
from .review_labels import Labels

# (Chinese, English)
WORDS: dict[str, tuple[str, str]] = {
    "warnings_in": ("预警接入", "Warnings received"),
    "warnings_summary": ("收到外部预警 {received} 条；切换提议 {proposals} 项：采纳 {accepted}，未采纳 {declined}，按预案自动切换 {auto}，"
                         "待决定 {pending}，未决即失效 {closed}。决定用时：中位 {median}，最长 {longest}。",
                         "{received} warnings received; {proposals} proposals to switch: {accepted} accepted, {declined} declined, "
                         "{auto} switched by plan, {pending} pending, {closed} closed undecided. Time to decide: median "
                         "{median}, longest {longest}."),
    "received": ("收到", "Received"),
    "sender": ("来源", "Sender"),
    "warning": ("预警", "Warning"),
    "severity": ("级别", "Severity"),
    "areas": ("覆盖区域", "Areas covered"),
    "decisions": ("提议与决定", "Proposals and decisions"),
    "seconds": ("{s} 秒", "{s} s"),
    "shelters": ("避难场所", "Shelters"),
    "capacity": ("容量", "Capacity"),
    "at_start": ("期初在场", "At the start"),
    "peak": ("峰值", "Peak"),
    "at_end": ("期末在场", "At the end"),
    "check_ins": ("入住人次", "Check-ins"),
    "vulnerable_check_ins": ("其中重点关注", "Of them vulnerable"),
    "occupancy_x": ("分钟", "minutes"),
    "occupancy_y": ("占容量", "of capacity"),
    "supplies": ("物资", "Supplies"),
    "supplies_summary": ("发放到户 {households} 户；随任务送达 {deliveries} 笔。", "Distributed to {households} households; "
                         "{deliveries} task deliveries."),
    "item": ("物资", "Item"),
    "received_stock": ("入库", "Received"),
    "issued": ("出库", "Issued"),
    "distributed": ("发放", "Distributed"),
    "by_tasks": ("其中随任务", "By tasks"),
    "transferred_in": ("调入", "Transferred in"),
    "transferred_out": ("调出", "Transferred out"),
    "adjusted": ("盘点调整", "Adjusted"),
    "households": ("受益户数", "Households"),
}


@dataclass
class Row:
    label: str
    cells: list[Any]


def _t(L: Labels, key: str, **values: object) -> str:
    text = WORDS[key][1] if L.english else WORDS[key][0]
    return text.format(**values) if values else text


def resources_and_warnings_context(report: AfterActionReport, L: Labels) -> dict[str, Any]:
    w = report.warnings
    return {
        "W": {key: _t(L, key) for key in WORDS if "{" not in WORDS[key][0]},
        "warnings_summary": _t(L, "warnings_summary", received=w.received, proposals=w.proposals, accepted=w.accepted,
                               declined=w.declined, auto=w.auto_switched, pending=w.pending, closed=w.closed_undecided,
                               median=L.duration(w.median_seconds_to_decide), longest=L.duration(w.max_seconds_to_decide)),
        "warning_rows": [_warning_row(e, L) for e in w.entries],
        "shelter_rows": [_shelter_row(s, L) for s in report.shelters],
        "supplies_summary": _t(L, "supplies_summary", households=report.supplies.households_reached,
                               deliveries=report.supplies.task_deliveries),
        "supply_rows": [Row(f"{line.item.name}（{line.item.unit}）" if not L.english else f"{line.item.name_en or line.item.name} "
                            f"({line.item.unit_en or line.item.unit})",
                            [line.received, line.issued, line.distributed, line.by_tasks, line.transferred_in,
                             line.transferred_out, line.adjusted, line.households]) for line in report.supplies.items],
    }


def _warning_row(entry: Any, L: Labels) -> Row:
    warning = entry.warning
    decisions = (L.semicolon()).join(
        f"{p.area.name} → {L.mode(p.mode)}: {p.get_status_display() if not L.english else p.status}"
        + (f" ({_t(L, 'seconds', s=round(p.seconds_to_decide))})" if p.seconds_to_decide is not None else "")
        for p in entry.proposals) or "—"
    severity = L.severity(warning.severity) if warning.severity else "—"
    return Row(timezone.localtime(warning.received_at).strftime("%m-%d %H:%M:%S"),
               [warning.sender, warning.headline or warning.event, severity, "、".join(entry.areas) or "—", decisions])


def _shelter_row(review: ShelterReview, L: Labels) -> dict[str, Any]:
    start = review.curve[0][0] if review.curve else None
    points = [((at - start).total_seconds() / 60, n / review.capacity) for at, n in review.curve] if start and review.capacity else []
    chart = line_chart(points, x_label=_t(L, "occupancy_x"), y_label=_t(L, "occupancy_y"), label=review.facility.name,
                       guide=1.0) if len(points) > 1 else ""
    return {"name": review.facility.name, "cells": [review.capacity, review.at_start, review.peak, review.at_end,
                                                    review.check_ins, review.vulnerable_check_ins], "chart": chart}
