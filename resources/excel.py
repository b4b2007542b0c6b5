"""Stock to and from Excel: the sheet storekeepers already keep.

    export_stock(area, language="zh-hans") -> ExportFile     # .xlsx, one row per warehouse and item
    import_stock(area, upload, by=staff, dry_run=True) -> StockImport

An import is a stocktake (盘点): each row names a warehouse and an item (by code or name) and
the quantity counted on the shelf, optionally a low-stock threshold. A dry run reports what
each row would do (adjust by how much, unchanged) and every row's problems (unknown
warehouse or item, a warehouse outside the area, a count that is not a whole number >= 0,
below what is reserved for tasks, a row repeated). A real import writes only when no row has
a problem, all rows in one transaction, each difference an ADJUSTED movement whose reason
names the file; importing the same file again changes nothing.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from openpyxl import Workbook

from community.imports import read_table
from community.models import Area, User
from community.uploads import sniff_roster
from core.errors import ValidationError
from volunteers.services import ExportFile
from volunteers.services.export import defuse

from .error_codes import ResourcesErrorCode as Code
from .models import MovementKind, Stock, SupplyItem, Warehouse
from .supplies import MAX_QUANTITY, append, stock_row, watch_threshold

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

HEADERS = {
    "zh-hans": ["仓库编码", "仓库", "物资编码", "物资", "单位", "库存", "已预留", "可用", "预警线"],
    "en": ["Warehouse code", "Warehouse", "Item code", "Item", "Unit", "Quantity", "Reserved", "Available", "Threshold"],
}
COLUMNS: dict[str, tuple[str, ...]] = {
    "warehouse": ("仓库编码", "仓库", "warehouse code", "warehouse"),
    "item": ("物资编码", "物资", "物资名称", "item code", "item"),
    "quantity": ("库存", "数量", "盘点数量", "实有数量", "quantity", "count", "counted"),
    "threshold": ("预警线", "最低库存", "threshold", "low threshold"),
}


# --- export ---------------------------------------------------------------------------------
def stock_in(area: Area) -> list[Stock]:
    return list(Stock.objects.filter(warehouse__area__path__startswith=area.path).select_related("warehouse", "item")
                .order_by("warehouse__code", "item__category", "item__code"))


def export_stock(area: Area, language: str = "zh-hans") -> ExportFile:
    english = language == "en"
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="库存" if not english else "Stock")
    sheet.append(HEADERS["en" if english else "zh-hans"])
    rows = stock_in(area)
    for s in rows:
        unit = s.item.unit_en if english and s.item.unit_en else s.item.unit
        name = s.item.name_en if english and s.item.name_en else s.item.name
        sheet.append([s.warehouse.code, defuse(s.warehouse.name), s.item.code, defuse(name), defuse(unit), s.quantity,
                      s.reserved, s.available, s.low_threshold])
    buffer = io.BytesIO()
    workbook.save(buffer)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return ExportFile(filename=f"stock-{area.code}-{stamp}.xlsx", content_type=XLSX, content=buffer.getvalue(),
                      row_count=len(rows))


# --- import ---------------------------------------------------------------------------------
@dataclass
class Problem:
    column: str | None
    code: str
    message: str


@dataclass
class StockRow:
    row: int
    action: str = "unchanged"  # adjust | unchanged | error
    warehouse: str = ""
    item: str = ""
    counted: int | None = None
    change: int = 0
    threshold: int | None = None
    problems: list[Problem] = field(default_factory=list)
    stock: Stock | None = field(default=None, repr=False)


@dataclass
class StockImport:
    dry_run: bool
    applied: bool = False
    file_problems: list[Problem] = field(default_factory=list)
    rows: list[StockRow] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return bool(self.file_problems) or any(r.problems for r in self.rows)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)


def _norm(text: object) -> str:
    return re.sub(r"[\s_\-/()（）:：*]", "", unicodedata.normalize("NFKC", str(text or "")).lower())


_ALIASES = {_norm(alias): column for column, aliases in COLUMNS.items() for alias in aliases}


def _cell(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", "" if value is None else str(value)).strip()


def _whole(value: object) -> int | None:
    text = _cell(value)
    return int(text) if re.fullmatch(r"\d{1,9}", text) else None


class _Reader:
    def __init__(self, area: Area, header: list[Any]):
        self.columns: dict[str, int] = {}
        for index, name in enumerate(header):
            column = _ALIASES.get(_norm(name))
            if column and column not in self.columns:
                self.columns[column] = index
        warehouses = Warehouse.objects.filter(area__path__startswith=area.path, is_active=True)
        self.warehouses = {w.code: w for w in warehouses} | {w.name: w for w in warehouses}
        self.outside = set(Warehouse.objects.exclude(area__path__startswith=area.path).values_list("code", flat=True))
        items = SupplyItem.objects.filter(is_active=True)
        self.items = {i.code: i for i in items} | {i.name: i for i in items}
        self.seen: dict[tuple[int, int], int] = {}

    def missing(self) -> list[Problem]:
        return [Problem(c, Code.MISSING_COLUMN, f"The sheet has no {COLUMNS[c][0]} ({COLUMNS[c][-1]}) column.")
                for c in ("warehouse", "item", "quantity") if c not in self.columns]

    def read(self, number: int, cells: list[Any]) -> StockRow:
        def get(column: str) -> object:
            index = self.columns.get(column)
            return cells[index] if index is not None and index < len(cells) else None

        row = StockRow(row=number, warehouse=_cell(get("warehouse")), item=_cell(get("item")))
        warehouse, item = self.warehouses.get(row.warehouse), self.items.get(row.item)
        if warehouse is None:
            outside = row.warehouse in self.outside
            row.problems.append(Problem("warehouse", Code.INVALID_AREA if outside else Code.UNKNOWN_WAREHOUSE,
                                        "This warehouse is outside the area." if outside else "No such warehouse."))
        if item is None:
            row.problems.append(Problem("item", Code.UNKNOWN_ITEM, "No such item in the catalogue."))
        row.counted = _whole(get("quantity"))
        if row.counted is None or row.counted > MAX_QUANTITY:
            row.problems.append(Problem("quantity", Code.INVALID_QUANTITY, "A whole number of units, 0 or more."))
        if _cell(get("threshold")):
            row.threshold = _whole(get("threshold"))
            if row.threshold is None:
                row.problems.append(Problem("threshold", Code.INVALID_QUANTITY, "A whole number, 0 or more."))
        if warehouse is not None and item is not None:
            self._compare(row, warehouse, item)
        if row.problems:
            row.action = "error"
        return row

    def _compare(self, row: StockRow, warehouse: Warehouse, item: SupplyItem) -> None:
        key = (warehouse.pk, item.pk)
        if key in self.seen:
            row.problems.append(Problem("item", Code.INVALID, f"Repeats row {self.seen[key]}."))
            return
        self.seen[key] = row.row
        row.stock = Stock.objects.filter(warehouse=warehouse, item=item).first() or Stock(warehouse=warehouse, item=item)
        if row.counted is None:
            return
        if row.counted < row.stock.reserved:
            row.problems.append(Problem("quantity", Code.INSUFFICIENT_STOCK,
                                        f"{row.stock.reserved} are reserved for tasks; release them before counting less."))
            return
        row.change = row.counted - row.stock.quantity
        if row.change or (row.threshold is not None and row.threshold != row.stock.low_threshold):
            row.action = "adjust"


def import_stock(area: Area, upload: File[bytes], *, by: User | None, dry_run: bool = True) -> StockImport:
    report = StockImport(dry_run=dry_run)
    kind = sniff_roster(upload, settings.ROSTER_MAX_BYTES)
    table = [row for row in read_table(upload, kind) if any(_cell(c) for c in row)]
    if not table:
        report.file_problems.append(Problem(None, Code.REQUIRED, "The sheet is empty."))
        return report
    reader = _Reader(area, table[0])
    report.file_problems += reader.missing()
    if len(table) - 1 > settings.ROSTER_MAX_ROWS:
        report.file_problems.append(Problem(None, Code.INVALID, f"At most {settings.ROSTER_MAX_ROWS} rows per file."))
    if report.file_problems:
        return report
    report.rows = [reader.read(number, cells) for number, cells in enumerate(table[1:], start=2)]
    if dry_run or report.has_errors:
        return report
    _apply(report, by, name=getattr(upload, "name", "") or "stock.xlsx")
    return report


def _apply(report: StockImport, by: User | None, *, name: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        for row in report.rows:
            if row.action != "adjust" or row.stock is None or row.counted is None:
                continue
            stock = stock_row(row.stock.warehouse, row.stock.item)
            if row.threshold is not None:
                Stock.objects.filter(pk=stock.pk).update(low_threshold=row.threshold)
            if row.change:
                # The count is the truth as of the file; a movement since (the same rows are
                # compared again under the conditional UPDATE) makes the import fail whole.
                moved = Stock.objects.filter(pk=stock.pk, quantity=row.counted - row.change, reserved__lte=row.counted) \
                    .update(quantity=F("quantity") + row.change, updated_at=now)
                if not moved:
                    raise _changed_meanwhile(row)
                append(stock, MovementKind.ADJUSTED, row.change, by=by, now=now, reason=f"盘点导入：{name}"[:500])
            else:
                watch_threshold(stock, now)
        report.applied = True


def _changed_meanwhile(row: StockRow) -> ValidationError:
    return ValidationError({"file": f"Row {row.row}: the stock changed while importing; run the import again."},
                           code=Code.IMPORT_HAS_ERRORS)
