"""The after-action report as one readable HTML document: no external assets, charts as
inline SVG (emergency.review_charts), every label in the viewer's language
(emergency.review_labels). The same HTML prints to PDF (emergency.review_files): an A4
landscape page, tables whose name columns never break inside a word.

    render_report_html(report, language="zh-hans") -> str
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from .review import AfterActionReport, TimelineEntry
from .review_areas import AreaRow
from .review_charts import line_chart, stacked_bars
from .review_labels import Labels, labels
from .review_messages import KEYS, LANES
from .review_resources_html import resources_and_warnings_context

MESSAGE_COLUMNS = KEYS


@dataclass
class Row:
    """A table row as shown: a label, then cells (already words or numbers)."""

    label: str
    cells: list[Any]
    level: int = 0


def render_report_html(report: AfterActionReport, language: str | None = "zh-hans") -> str:
    L = labels(language)
    return render_to_string("emergency/after_action_report.html", report_context(report, L))


def report_context(report: AfterActionReport, L: Labels) -> dict[str, Any]:
    total = report.total
    return {
        "r": report, "L": L, "lang": "en" if L.english else "zh-Hans", "life": L.priority("LIFE_SAFETY"),
        "generated_at": timezone.localtime(report.generated_at),
        "summary": summary_rows(report, L),
        "breakdown_head": table_head(breakdown_head(L)), "breakdown": [breakdown_row(row, L) for row in report.breakdown],
        "areas_chart": areas_chart(report, L),
        "open_tasks": open_task_groups(report, L), "silent": silent_by_grid(report, L),
        "more_tasks": _more(L, report.open_work.tasks_total - len(report.open_work.tasks)),
        "more_silent": _more(L, report.open_work.silent_vulnerable_total - len(report.open_work.silent_vulnerable)),
        "timeline": [timeline_row(e, L) for e in report.timeline],
        "checks": [{"review": c, "to90": L.duration(c.seconds_to_90), "to100": L.duration(c.seconds_to_100),
                    "chart": line_chart(c.curve, x_label=L.t("chart_curve_x"), y_label=L.t("chart_curve_y"), label=c.check.title)}
                   for c in report.safety_checks],
        "median_staff": L.duration(report.tasks.median_seconds_to_staff),
        "p90_staff": L.duration(report.tasks.p90_seconds_to_staff),
        "help_p50": L.duration(total.help_to_site_p50), "help_p90": L.duration(total.help_to_site_p90),
        "by_source": L.listing(L.t("by_source"), [f"{L.source(k)} {v}" for k, v in sorted(report.tasks.by_source.items())]),
        "breakdown_note": L.t("breakdown_note") + " " + L.listing(L.t("reached"), [L.t("reached_note")]) + L.semicolon()
        + L.listing(L.t("unreachable"), [L.t("unreachable_note")]),
        "message_head": [L.t(k) for k in MESSAGE_COLUMNS],
        "lanes": [Row(L.lane(lane), [report.messages.by_lane.get(lane, {}).get(k, 0) for k in MESSAGE_COLUMNS])
                  for lane in LANES if lane in report.messages.by_lane],
        "channels": [Row(L.t(name), [values[k] for k in MESSAGE_COLUMNS])
                     for name, values in report.messages.by_channel().items()],
        "purposes": [Row(L.purpose(p), [v[k] for k in MESSAGE_COLUMNS]) for p, v in sorted(report.messages.by_purpose.items())],
        "messages_chart": messages_chart(report, L),
        **resources_and_warnings_context(report, L),
    }


def _more(L: Labels, n: int) -> str:
    return L.t("more_rows", n=n) if n > 0 else ""


def summary_rows(report: AfterActionReport, L: Labels) -> list[tuple[str, Any]]:
    t = report.total
    return [
        (L.t("residents"), t.residents), (L.t("asked"), t.asked), (L.t("reached"), t.reached),
        (L.t("safe"), t.safe), (L.t("need_help"), t.need_help), (L.t("silent"), t.silent),
        (L.t("unreachable"), t.unreachable), (L.t("vulnerable_accounted"), f"{t.vulnerable_accounted}/{t.vulnerable}"),
        (L.t("welfare_done"), f"{t.welfare_visits_done}/{t.welfare_visits}"),
        (L.t("tasks"), f"{L.t('tasks_created')} {t.tasks_created} · {L.t('tasks_staffed')} {t.tasks_staffed} · "
                       f"{L.t('tasks_done')} {t.tasks_done} · {L.t('tasks_open')} {t.tasks_open}"),
        (L.t("time_to_staff"), L.duration(t.median_seconds_to_staff)),
        (L.t("help_to_site"), f"{L.t('p50')} {L.duration(t.help_to_site_p50)} · {L.t('p90')} {L.duration(t.help_to_site_p90)}"),
    ]


BREAKDOWN_COLUMNS = ("residents", "asked", "reached", "safe", "need_help", "silent", "unreachable",
                     "vulnerable_accounted", "welfare_done", "tasks_created", "tasks_staffed", "tasks_done", "tasks_open",
                     "time_to_staff")


def breakdown_head(L: Labels) -> list[str]:
    return [L.t(c) for c in BREAKDOWN_COLUMNS] + [L.t("help_p50_short"), L.t("help_p90_short")]


# Where a long column head breaks (heads never break inside a word; WeasyPrint has no
# keep-all, so the breaks are explicit).
HEAD_BREAKS = {"重点人员已确认": "重点人员\n已确认", "上门探访完成": "上门探访\n完成", "派满用时（中位）": "派满用时\n（中位）",
               "求助→到场 中位": "求助→到场\n中位", "求助→到场 P90": "求助→到场\nP90",
               "Vulnerable accounted for": "Vulnerable\naccounted for", "Welfare visits done": "Welfare visits\ndone",
               "Time to staff (median)": "Time to staff\n(median)", "Help → on site, median": "Help → on site\nmedian",
               "Help → on site, P90": "Help → on site\nP90"}


def table_head(heads: list[str]) -> list[str]:
    return [HEAD_BREAKS.get(h, h) for h in heads]


def breakdown_row(row: AreaRow, L: Labels) -> Row:
    name = L.t("total") + " · " + row.area.name if row.level == 0 else row.area.name
    return Row(name, [
        row.residents, row.asked, row.reached, row.safe, row.need_help, row.silent, row.unreachable,
        f"{row.vulnerable_accounted}/{row.vulnerable}", f"{row.welfare_visits_done}/{row.welfare_visits}",
        row.tasks_created, row.tasks_staffed, row.tasks_done, row.tasks_open, L.duration(row.median_seconds_to_staff),
        L.duration(row.help_to_site_p50), L.duration(row.help_to_site_p90),
    ], level=row.level)


def areas_chart(report: AfterActionReport, L: Labels) -> str:
    """Residents of each child area (or each grid, when there is one child) by answer."""
    children = [r for r in report.breakdown if r.level == 1]
    shown = children if len(children) > 1 else [r for r in report.breakdown if r.area.kind == "grid"]
    rows = [(r.area.name, [r.safe, r.need_help, max(0, r.silent - r.unreachable), r.unreachable])
            for r in shown if r.residents]
    legend = [L.t("safe"), L.t("need_help"), L.t("silent"), L.t("unreachable")]
    return stacked_bars(rows, legend, x_label=L.t("chart_areas_x"), label=L.t("breakdown"))


def messages_chart(report: AfterActionReport, L: Labels) -> str:
    rows = []
    for lane in LANES:
        v = report.messages.by_lane.get(lane)
        if v:
            handed_only = max(0, v["sent"] - v["delivered"] - v["failed"])
            rows.append((L.lane(lane), [v["delivered"], handed_only, v["failed"], v["queued_now"], v["superseded"], v["refused"]]))
    legend = [L.t("delivered"), L.t("sent"), L.t("failed"), L.t("queued_now"), L.t("superseded"), L.t("refused")]
    return stacked_bars(rows, legend, x_label=L.t("chart_messages_x"), label=L.t("messages"), colors=MESSAGE_COLORS)


# delivered, handed over (no receipt yet), failed, still queued, superseded, refused
MESSAGE_COLORS = ("#2e7d32", "#81c784", "#c62828", "#f9a825", "#9e9e9e", "#616161")


def open_task_rows(report: AfterActionReport, L: Labels) -> list[Row]:
    return [Row(t.title, [t.area, L.priority(t.priority), L.task_status(t.status), f"{t.filled}/{t.headcount}",
                          t.people_to_help, timezone.localtime(t.created_at).strftime("%m-%d %H:%M")])
            for t in report.open_work.tasks]


def silent_rows(report: AfterActionReport, L: Labels) -> list[Row]:
    return [Row(p.name, [p.grid, p.check, L.task_status(p.welfare_status) if p.welfare_status else L.t("no_visit")])
            for p in report.open_work.silent_vulnerable]


def open_task_groups(report: AfterActionReport, L: Labels) -> list[Row]:
    """Calls for help one by one (each is a person waiting); the rest grouped by what and where
    (eighty identical welfare visits read as one line per grid)."""
    rows: list[Row] = []
    groups: dict[tuple[str, str, str, str], list[Any]] = {}
    for t in report.open_work.tasks:
        if t.priority == "LIFE_SAFETY":
            rows.append(Row(t.title, [t.area, L.priority(t.priority), L.task_status(t.status), 1, f"{t.filled}/{t.headcount}",
                                      t.people_to_help, timezone.localtime(t.created_at).strftime("%m-%d %H:%M")]))
        else:
            groups.setdefault((t.title, t.area, t.priority, t.status), []).append(t)
    for (title, area, priority, status), tasks in sorted(groups.items(), key=lambda g: (g[0][2] != "URGENT", g[0][0], g[0][1])):
        oldest = min(t.created_at for t in tasks)
        rows.append(Row(title, [area, L.priority(priority), L.task_status(status), len(tasks),
                                f"{sum(t.filled for t in tasks)}/{sum(t.headcount for t in tasks)}",
                                sum(t.people_to_help for t in tasks), timezone.localtime(oldest).strftime("%m-%d %H:%M")]))
    return rows


def silent_by_grid(report: AfterActionReport, L: Labels) -> list[Row]:
    """One line per grid (a commander reads where, how many, and whether visits are under way)."""
    grids: dict[str, list[Any]] = {}
    for person in report.open_work.silent_vulnerable:
        grids.setdefault(person.grid, []).append(person)
    rows = []
    for grid, people in grids.items():
        visits: dict[str, int] = {}
        for p in people:
            key = L.task_status(p.welfare_status) if p.welfare_status else L.t("no_visit")
            visits[key] = visits.get(key, 0) + 1
        separator = ", " if L.english else "、"
        rows.append(Row(grid, [len(people), separator.join(p.name for p in people),
                               separator.join(f"{k} {v}" for k, v in visits.items())]))
    return rows


def timeline_row(entry: TimelineEntry, L: Labels) -> Row:
    codes = entry.codes
    if entry.kind == "switch":
        title, detail = f"{L.mode(codes['from'])} → {L.mode(codes['to'])}", entry.detail
    elif entry.kind == "alert":
        title = f"{L.msg_type(codes['msg_type'])}：{codes['headline']}" if not L.english else \
            f"{L.msg_type(codes['msg_type'])}: {codes['headline']}"
        detail = f"{L.severity(codes['severity'])} / {L.urgency(codes['urgency'])}"
    elif entry.kind == "escalation":
        title, detail = L.t(f"rung_{codes['rung']}", n=codes["n"]), entry.detail
    elif entry.kind == "wind_down":
        title = L.cause(codes["cause"])
        detail = L.t("wind_down_detail", **{k: v for k, v in codes.items() if k != "cause"})
    else:
        title, detail = entry.title, entry.detail
    at = timezone.localtime(entry.at).strftime("%m-%d %H:%M:%S")
    return Row(at, [L.t(entry.kind), entry.area, title, detail])
