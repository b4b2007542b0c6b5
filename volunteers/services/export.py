"""A community's service-hours ledger as CSV or Excel (.xlsx), for staff.

Every entry is one row, corrections included, so the file adds up to the totals shown in
the app. Text cells that a spreadsheet would run as a formula are defused (CSV injection).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from openpyxl import Workbook

from community.models import Area, User
from core.errors import ValidationError

from ..error_codes import VolunteersErrorCode as Code
from ..models import LOCAL_TZ, ServiceHoursEntry, ServiceHoursKind
from .hours import local_range_q

MAX_EXPORT_ROWS = 50_000

Row = list[str | int | Decimal]  # one ledger entry, in _HEADERS' order


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

_HEADERS = {
    "zh-hans": ["条目编号", "服务时间", "成员", "用户编号", "类别", "时长(小时)", "说明", "来源", "更正条目", "登记人", "登记时间"],
    "en": ["Entry", "Served at", "Member", "User ID", "Kind", "Hours", "Reason", "Source", "Corrects entry", "Recorded by", "Recorded at"],
}
_KIND_EN = {k.value: k.name.title() for k in ServiceHoursKind}


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes
    row_count: int


def defuse(value: str) -> str:
    """Prefix text a spreadsheet would treat as a formula (=, +, -, @, tab, CR) with '."""
    return "'" + value if value and value[0] in "=+-@\t\r" else value


def _local(at: dt.datetime | None) -> str:
    return at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if at else ""


def _person(user: User | None) -> str:
    return user.public_name if user else ""


def _source(entry: ServiceHoursEntry) -> str:
    source_type = entry.source_type
    if source_type is None:
        return ""
    target = entry.source
    label = str(target) if target is not None else "(deleted)"
    return f"{source_type.model}:{entry.source_id} {label}"


def export_rows(community: Area, start: dt.date | None, end: dt.date | None, language: str = "zh-hans") -> list[Row]:
    entries = ServiceHoursEntry.objects.filter(community=community)
    if start is not None and end is not None:
        entries = entries.filter(local_range_q(start, end))
    if entries.count() > MAX_EXPORT_ROWS:
        raise ValidationError(
            {"from": f"More than {MAX_EXPORT_ROWS} entries; export a shorter period."}, code=Code.TOO_MANY_ROWS
        )
    entries = entries.select_related("user", "created_by", "source_type").prefetch_related("source").order_by("occurred_at", "id")
    english = language == "en"
    rows: list[Row] = []
    for e in entries:
        kind = _KIND_EN[e.kind] if english else e.get_kind_display()
        rows.append([
            e.pk, _local(e.occurred_at), defuse(_person(e.user)), e.user_id, kind, e.hours,
            defuse(e.reason), defuse(_source(e)), e.corrects_id or "", defuse(_person(e.created_by)),
            _local(e.created_at),
        ])
    return rows


def export_service_hours(
    community: Area, fmt: ExportFormat | str, start: dt.date | None = None, end: dt.date | None = None,
    language: str = "zh-hans", exported_by: User | None = None,
) -> ExportFile:
    """The ledger as a file; an XLSX also says who exported it and when (a second sheet)."""
    fmt = ExportFormat(fmt)
    rows = export_rows(community, start, end, language)
    headers = _HEADERS["en" if language == "en" else "zh-hans"]
    period = f"{start:%Y%m%d}-{end:%Y%m%d}" if start and end else "all"
    filename = f"service-hours-{community.code}-{period}.{fmt.value}"
    mark = _export_mark(exported_by, language)
    content = _csv(headers, rows) if fmt == ExportFormat.CSV else _xlsx(headers, rows, community.name, mark)
    return ExportFile(filename=filename, content_type=CONTENT_TYPES[fmt], content=content, row_count=len(rows))


def _csv(headers: list[str], rows: list[Row]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    # The BOM makes Excel read the file as UTF-8 (Chinese names otherwise come out garbled).
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _export_mark(user: User | None, language: str) -> list[list[str]]:
    if user is None:
        return []
    english = language == "en"
    return [["Exported by" if english else "导出人", f"{_person(user)} (#{user.pk})"],
            ["Exported at" if english else "导出时间", _local(dt.datetime.now(dt.UTC))]]


def _xlsx(headers: list[str], rows: list[Row], title: str, mark: list[list[str]] | None = None) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(title))
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    if mark:  # who took the file away, and when (issue 21)
        about = workbook.create_sheet(title="export")
        for line in mark:
            about.append(line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_title(name: str) -> str:
    cleaned = "".join(ch for ch in name if ch not in "[]:*?/\\")
    return (cleaned or "ledger")[:31]
