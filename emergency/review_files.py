"""The after-action report as files: HTML, PDF (WeasyPrint renders the same HTML, with the
system's Noto CJK fonts through pango) and XLSX (every table of the report, one sheet each).

    report_file(report, ReportFormat.PDF, language="zh-hans") -> ReportFile

WeasyPrint needs pango and a CJK font on the machine (Debian: libpango-1.0-0,
fonts-noto-cjk; `make system-deps` installs them, .ci/run too). Without a CJK font the PDF
still renders, with boxes for Chinese text — the check in tests/emergency catches that.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import StrEnum

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from volunteers.services.export import defuse

from .review import AfterActionReport
from .review_html import (
    MESSAGE_COLUMNS,
    breakdown_head,
    breakdown_row,
    open_task_rows,
    render_report_html,
    silent_rows,
    summary_rows,
    timeline_row,
)
from .review_labels import Labels, labels
from .review_messages import LANES


class ReportFormat(StrEnum):
    HTML = "html"
    PDF = "pdf"
    XLSX = "xlsx"


CONTENT_TYPES = {
    ReportFormat.HTML: "text/html; charset=utf-8",
    ReportFormat.PDF: "application/pdf",
    ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class ReportFile:
    filename: str
    content_type: str
    content: bytes


def report_file(report: AfterActionReport, fmt: ReportFormat | str, *, language: str | None = "zh-hans") -> ReportFile:
    fmt = ReportFormat(fmt)
    day = timezone.localtime(report.until).date().isoformat()
    kind = "drill" if report.drills else "report"
    filename = f"after-action-{kind}-area{report.area.pk}-{day}.{fmt.value}"
    if fmt == ReportFormat.XLSX:
        content = report_xlsx(report, labels(language))
    else:
        html = render_report_html(report, language)
        content = html.encode("utf-8") if fmt == ReportFormat.HTML else report_pdf(html)
    return ReportFile(filename=filename, content_type=CONTENT_TYPES[fmt], content=content)


def report_pdf(html: str) -> bytes:
    # The document is self-contained: nothing it might name is fetched (no protocol allowed).
    pdf: bytes = HTML(string=html, base_url=None, url_fetcher=URLFetcher(allowed_protocols=())).write_pdf()
    return pdf


# --- XLSX -------------------------------------------------------------------------------------
Cell = str | int | float


def report_xlsx(report: AfterActionReport, L: Labels) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)  # a fresh workbook has one empty sheet; ours come below
    exported = ([[L.t("exported_by"), report.exported_by],
                 [L.t("generated"), timezone.localtime(report.generated_at).strftime("%Y-%m-%d %H:%M")]]
                if report.exported_by else [])
    _sheet(workbook, L.t("summary"), [L.t("summary"), ""], [[k, v] for k, v in summary_rows(report, L)] + exported)
    _sheet(workbook, L.t("breakdown"), [L.t("area"), *breakdown_head(L)],
           [["  " * max(0, row.level - 1) + r.label, *r.cells] for row in report.breakdown for r in [breakdown_row(row, L)]])
    _sheet(workbook, L.t("open_tasks"),
           [L.t("title_col"), L.t("area"), L.t("priority"), L.t("status"), L.t("people_on"), L.t("people_to_help"), L.t("created")],
           [[r.label, *r.cells] for r in open_task_rows(report, L)])
    _sheet(workbook, L.t("silent_vulnerable"), [L.t("name"), L.t("grid"), L.t("check"), L.t("welfare_visit")],
           [[r.label, *r.cells] for r in silent_rows(report, L)])
    _sheet(workbook, L.t("timeline"), [L.t("time"), L.t("kind"), L.t("area"), L.t("content"), L.t("detail")],
           [[r.label, *r.cells] for r in (timeline_row(e, L) for e in report.timeline)])
    head = [L.t(k) for k in MESSAGE_COLUMNS]
    messages = report.messages
    rows: list[list[Cell]] = [[L.t("channel") + "：" + L.t(name), *(v[k] for k in MESSAGE_COLUMNS)]
                              for name, v in messages.by_channel().items()]
    rows += [[L.t("lane") + "：" + L.lane(lane), *(messages.by_lane[lane][k] for k in MESSAGE_COLUMNS)]
             for lane in LANES if lane in messages.by_lane]
    rows += [[L.t("purpose") + "：" + L.purpose(p), *(v[k] for k in MESSAGE_COLUMNS)] for p, v in sorted(messages.by_purpose.items())]
    _sheet(workbook, L.t("messages"), ["", *head], rows)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


HEADER_FILL = PatternFill("solid", fgColor="EEF2F6")


def _sheet(workbook: Workbook, title: str, head: list[str], rows: list[list[Cell]]) -> None:
    sheet = workbook.create_sheet(title=_sheet_title(title))
    sheet.append(head)
    for row in rows:
        sheet.append([defuse(v) if isinstance(v, str) else v for v in row])
    for cell in sheet[1]:
        cell.font, cell.fill, cell.alignment = Font(bold=True), HEADER_FILL, Alignment(wrap_text=True, vertical="top")
    for index, column in enumerate(sheet.columns, start=1):
        longest = max((_width(c.value) for c in column), default=6)
        sheet.column_dimensions[get_column_letter(index)].width = min(60, max(8, longest + 2))
    sheet.freeze_panes = "B2"


def _width(value: object) -> int:
    """Display width: a CJK character is two columns wide."""
    text = "" if value is None else str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _sheet_title(name: str) -> str:
    cleaned = "".join(ch for ch in name if ch not in "[]:*?/\\")
    return (cleaned or "sheet")[:31]
