"""Resident rosters from CSV or .xlsx, in the form communities already keep them.

Headers may be Chinese (姓名, 手机号, 住址, 网格, 户号, 独居老人, 残疾, 卧床/行动不便, 慢病需电/药, 孕妇,
婴幼儿, 紧急联系人, 联系人电话, 联系人关系, 备注) or English (name, phone, address, grid, ...).

- A dry run reads every row and reports each row's problems with its row number (bad phone,
  unknown grid, duplicate within the file or against the database, missing name, bad flag
  value) and what would happen (create / update / unchanged). Nothing is written.
- The import runs the same analysis and writes only if no row has a problem, all rows in one
  transaction (all-or-nothing).
- It is idempotent: a resident's natural key is their phone, else name + address within the
  community; a row equal to its resident is "unchanged", so re-importing a file writes nothing.
  A phone already registered to a resident of another community is a duplicate, never moved.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from openpyxl import load_workbook

from core.enqueue import enqueue_on_commit
from core.errors import field_error
from core.text import strip_unprintable
from privacy.crypto import blind_index

from .consent import STAFF_BASES, has_sensitive_values, keep_basis
from .error_codes import CommunityErrorCode
from .geocoding import normalise_address
from .models import (
    VULNERABILITY_FLAGS,
    Area,
    AreaKind,
    EmergencyContact,
    Household,
    Resident,
    User,
)
from .residents import mark_geocode_pending
from .tasks import sweep_geocoding
from .uploads import sniff_roster
from .validation import clean_phone

logger = logging.getLogger(__name__)

COLUMNS: dict[str, tuple[str, ...]] = {
    "display_name": ("姓名", "名字", "居民姓名", "name", "full name", "display name"),
    "phone": ("手机号", "手机", "手机号码", "联系电话", "电话", "phone", "mobile", "phone number"),
    "address": ("住址", "地址", "家庭住址", "居住地址", "address", "home address"),
    "grid": ("网格", "所属网格", "网格名称", "grid"),
    "household": ("户号", "户", "门牌号", "household"),
    "elderly_living_alone": ("独居老人", "独居", "elderly living alone", "lives alone"),
    "disabled": ("残疾", "残疾人", "disabled", "disability"),
    "reduced_mobility": ("卧床/行动不便", "卧床", "行动不便", "reduced mobility", "bedridden"),
    "needs_power_or_medicine": ("慢病需电/药", "慢病", "需电/药", "needs power or medicine", "chronic illness"),
    "pregnant": ("孕妇", "pregnant"),
    "young_children": ("婴幼儿", "有婴幼儿", "young children", "infants"),
    "contact_name": ("紧急联系人", "emergency contact", "contact name"),
    "contact_phone": ("联系人电话", "紧急联系人电话", "emergency contact phone", "contact phone"),
    "contact_relation": ("联系人关系", "关系", "relation", "contact relation"),
    "care_notes": ("备注", "照护备注", "care notes", "notes"),
}
REQUIRED_COLUMNS = ("display_name", "grid")
TRUE_WORDS = {"是", "有", "y", "yes", "true", "1", "√", "✓", "✔", "对"}
FALSE_WORDS = {"", "否", "无", "没有", "n", "no", "false", "0", "×", "x", "-"}
RELATIONS = {
    "家人": "family", "子女": "family", "儿子": "family", "女儿": "family", "配偶": "family", "亲属": "family",
    "邻居": "neighbour", "朋友": "friend", "护工": "carer", "保姆": "carer",
    "family": "family", "neighbour": "neighbour", "neighbor": "neighbour", "friend": "friend", "carer": "carer",
}
MAX_REPORTED_ROWS = 1000


def _norm_header(text: Any) -> str:
    folded = unicodedata.normalize("NFKC", str(text or "")).lower()
    return re.sub(r"[\s_\-/()（）:：*]", "", folded)


_ALIASES = {_norm_header(alias): canonical for canonical, aliases in COLUMNS.items() for alias in aliases}


@dataclass
class Problem:
    column: str | None
    code: str
    message: str


@dataclass
class RowReport:
    row: int
    action: str = "create"  # create | update | unchanged | error
    display_name: str = ""
    problems: list[Problem] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict, repr=False)
    existing: Resident | None = field(default=None, repr=False)
    grid: Area | None = field(default=None, repr=False)


@dataclass
class ImportReport:
    dry_run: bool
    applied: bool = False
    columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    file_problems: list[Problem] = field(default_factory=list)
    rows: list[RowReport] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def has_errors(self) -> bool:
        return bool(self.file_problems) or any(r.problems for r in self.rows)

    @property
    def problem_rows(self) -> list[RowReport]:
        return [r for r in self.rows if r.problems][:MAX_REPORTED_ROWS]


# --- reading -------------------------------------------------------------------------------
def read_table(upload: File[bytes], kind: str) -> list[list[Any]]:
    if kind == "xlsx":
        workbook = load_workbook(upload, read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            return [list(row) for row in sheet.iter_rows(values_only=True)]
        finally:
            workbook.close()
    raw = upload.read()
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise field_error("file", "The CSV is neither UTF-8 nor GBK text.", CommunityErrorCode.UNSUPPORTED_FILE_TYPE)
    return [row for row in csv.reader(io.StringIO(text))]


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel stores phone numbers as numbers
    text = strip_unprintable(unicodedata.normalize("NFKC", str(value))).strip()
    # A number that went through a spreadsheet as a float ("13800138000.0").
    return text[: text.index(".")] if re.fullmatch(r"\d+\.0+", text) else text


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    word = _cell_text(value).lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


# --- analysing -----------------------------------------------------------------------------
class _Analyser:
    def __init__(self, community: Area, header: list[Any]):
        self.community = community
        self.columns: dict[int, str] = {}
        self.ignored: list[str] = []
        for index, name in enumerate(header):
            canonical = _ALIASES.get(_norm_header(name))
            if canonical and canonical not in self.columns.values():
                self.columns[index] = canonical
            elif _cell_text(name):
                self.ignored.append(_cell_text(name))
        grids = Area.objects.filter(kind=AreaKind.GRID, path__startswith=community.path)
        self.grids = {g.code.lower(): g for g in grids} | {g.name: g for g in grids}
        existing = Resident.objects.in_area(community).select_related("household").prefetch_related("emergency_contacts")
        self.by_phone = {str(r.phone): r for r in existing if r.phone}
        self.by_name_address = {(r.display_name, normalise_address(r.address)): r for r in existing}
        self.seen: dict[Any, int] = {}

    def missing_columns(self) -> list[Problem]:
        present = set(self.columns.values())
        return [
            Problem(col, CommunityErrorCode.MISSING_COLUMN, f"The file has no {COLUMNS[col][0]} ({COLUMNS[col][-1]}) column.")
            for col in REQUIRED_COLUMNS
            if col not in present
        ]

    def analyse(self, number: int, cells: list[Any]) -> RowReport:
        raw = {name: cells[i] if i < len(cells) else None for i, name in self.columns.items()}
        report = RowReport(row=number, display_name=_cell_text(raw.get("display_name")))
        values = self._values(raw, report)
        self._match(values, report)
        report.values = values
        if report.problems:
            report.action = "error"
        return report

    def _problem(self, report: RowReport, column: str, code: str, message: str) -> None:
        report.problems.append(Problem(column, code, message))

    def _values(self, raw: dict[str, Any], report: RowReport) -> dict[str, Any]:
        values: dict[str, Any] = {"display_name": self._name(report)}
        self._phones(raw, values, report)
        for column, limit in (("address", 255), ("household", 100), ("care_notes", 2000), ("contact_name", 100)):
            if column in raw:
                values[column] = _cell_text(raw[column])[:limit]
        if "contact_relation" in raw:
            values["contact_relation"] = RELATIONS.get(_cell_text(raw["contact_relation"]).lower(), "other")
        if values.get("contact_name") and not values.get("contact_phone") and "contact_phone" not in {p.column for p in report.problems}:
            self._problem(report, "contact_phone", CommunityErrorCode.REQUIRED, "The emergency contact has no phone number.")
        self._flags(raw, values, report)
        grid_text = _cell_text(raw.get("grid"))
        report.grid = self.grids.get(grid_text.lower()) or self.grids.get(grid_text)
        if report.grid is None:
            self._problem(report, "grid", CommunityErrorCode.UNKNOWN_GRID, f"No grid “{grid_text}” in {self.community.name}.")
        return values

    def _name(self, report: RowReport) -> str:
        name = report.display_name
        if not name:
            self._problem(report, "display_name", CommunityErrorCode.REQUIRED, "The name is missing.")
        elif len(name) > 100:
            self._problem(report, "display_name", CommunityErrorCode.TOO_LONG, "The name is longer than 100 characters.")
        return name

    def _phones(self, raw: dict[str, Any], values: dict[str, Any], report: RowReport) -> None:
        for column in ("phone", "contact_phone"):
            if column in raw:
                try:
                    values[column] = clean_phone(_cell_text(raw[column]), column)
                except ValidationError:
                    self._problem(report, column, CommunityErrorCode.INVALID_PHONE, f"“{_cell_text(raw[column])}” is not a valid phone number.")

    def _flags(self, raw: dict[str, Any], values: dict[str, Any], report: RowReport) -> None:
        for flag in VULNERABILITY_FLAGS:
            if flag in raw:
                parsed = _flag(raw[flag])
                if parsed is None:
                    self._problem(report, flag, CommunityErrorCode.BAD_FLAG_VALUE, f"“{_cell_text(raw[flag])}” is not 是/否 (yes/no).")
                values[flag] = bool(parsed)

    def _match(self, values: dict[str, Any], report: RowReport) -> None:
        phone = values.get("phone")
        name_address = (values["display_name"], normalise_address(values.get("address", "")))
        key = ("phone", phone) if phone else ("name", *name_address)
        if report.display_name or phone:
            if key in self.seen:
                self._problem(report, "phone" if phone else "display_name", CommunityErrorCode.DUPLICATE_IN_FILE,
                              f"The same resident is already on row {self.seen[key]}.")
            else:
                self.seen[key] = report.row
        if phone:
            report.existing = self.by_phone.get(phone)
            if report.existing is None and Resident.objects.filter(phone=phone).exists():
                self._problem(report, "phone", CommunityErrorCode.DUPLICATE_IN_DATABASE,
                              "This phone belongs to a resident of another community.")
        else:
            report.existing = self.by_name_address.get(name_address)
        if report.existing is not None and not report.problems:
            report.action = "unchanged" if _same(report.existing, values, report.grid) else "update"


def _same(resident: Resident, values: dict[str, Any], grid: Area | None) -> bool:
    for key in ("display_name", "phone", "address", "care_notes", *VULNERABILITY_FLAGS):
        if key in values:
            current = str(resident.phone) if key == "phone" and resident.phone else getattr(resident, key)
            if (current or None) != (values[key] or None):
                return False
    if grid is not None and resident.grid_id != grid.pk:
        return False
    if values.get("household") and (resident.household is None or resident.household.label != values["household"]):
        return False
    if values.get("contact_phone"):
        phones = {str(c.phone) for c in resident.emergency_contacts.all() if c.phone}
        if values["contact_phone"] not in phones:
            return False
    return True


def analyse_roster(upload: File[bytes], community: Area, *, dry_run: bool = True,
                   legal_basis: str | None = None) -> ImportReport:
    """Read and check the whole file; nothing is written."""
    if community.kind != AreaKind.COMMUNITY:
        raise field_error("community_id", "Import into a community (社区).", CommunityErrorCode.INVALID)
    kind = sniff_roster(upload, settings.ROSTER_MAX_BYTES)
    table = [row for row in read_table(upload, kind) if any(_cell_text(c) for c in row)]
    report = ImportReport(dry_run=dry_run)
    if not table:
        report.file_problems.append(Problem(None, CommunityErrorCode.REQUIRED, "The file has no rows."))
        return report
    if len(table) - 1 > settings.ROSTER_MAX_ROWS:
        report.file_problems.append(Problem(None, CommunityErrorCode.TOO_MANY_ROWS, f"At most {settings.ROSTER_MAX_ROWS} rows per file."))
        return report
    analyser = _Analyser(community, table[0])
    report.columns = sorted(set(analyser.columns.values()))
    report.ignored_columns = analyser.ignored
    report.file_problems.extend(analyser.missing_columns())
    if report.file_problems:
        return report
    # Row numbers as a spreadsheet shows them: the header is row 1.
    report.rows = [analyser.analyse(number, cells) for number, cells in enumerate(table[1:], start=2)]
    _check_legal_basis(report, legal_basis)
    return report


def _check_legal_basis(report: ImportReport, legal_basis: str | None) -> None:
    """Rows that record vulnerability or care notes of residents with no consent and no basis
    on record need the legal basis for the whole import (community.consent)."""
    if legal_basis and legal_basis not in STAFF_BASES:
        report.file_problems.append(Problem("legal_basis", CommunityErrorCode.INVALID, "Choose statutory_duty or emergency."))
        return
    needing = [r for r in report.rows if r.action in ("create", "update") and has_sensitive_values(r.values)
               and not (r.existing is not None and r.existing.sensitive_basis)]
    if needing and not legal_basis:
        report.file_problems.append(Problem(
            "legal_basis", CommunityErrorCode.LEGAL_BASIS_REQUIRED,
            f"{len(needing)} rows record vulnerability or care notes of residents who have not consented: give the legal basis."))


# --- writing -------------------------------------------------------------------------------
def import_roster(upload: File[bytes], community: Area, *, by: User | None, dry_run: bool = False,
                  legal_basis: str | None = None) -> ImportReport:
    """Analyse, then (unless dry_run or any problem) write every row in one transaction.
    `legal_basis`: why staff record sensitive values without the residents' consent."""
    report = analyse_roster(upload, community, dry_run=dry_run, legal_basis=legal_basis)
    if dry_run or report.has_errors:
        return report
    try:
        with transaction.atomic():
            for row in report.rows:
                if row.action in ("create", "update"):
                    resident = _write_row(row, by)
                    if legal_basis and has_sensitive_values(row.values):
                        keep_basis(resident, legal_basis, by=by)
            enqueue_on_commit(sweep_geocoding)
    except IntegrityError:
        # A concurrent registration took one of these phones: nothing was written.
        report.file_problems.append(Problem("phone", CommunityErrorCode.DUPLICATE_IN_DATABASE,
                                            "A phone in this file was registered meanwhile; run the dry run again."))
        return report
    report.applied = True
    logger.info("roster import into %s by %s: %s created, %s updated, %s unchanged", community.code,
                by.pk if by else None, report.count("create"), report.count("update"), report.count("unchanged"))
    return report


def _write_row(row: RowReport, by: User | None) -> Resident:
    values = row.values
    assert row.grid is not None  # a row without a grid is a problem, and no row is written then
    resident = row.existing or Resident(created_by=by)
    resident.grid, resident.grid_overridden = row.grid, True
    old_address = resident.address if resident.pk else None
    for key in ("display_name", "address", "care_notes"):
        if key in values:
            setattr(resident, key, values[key] or "")
    for key in VULNERABILITY_FLAGS:
        if key in values:
            setattr(resident, key, bool(values[key]))
    if "phone" in values:
        resident.phone = values["phone"] or None
    if values.get("household"):
        resident.household, _ = Household.objects.get_or_create(
            grid=row.grid, label=values["household"], defaults={"address": values.get("address", "")}
        )
    if resident.address and resident.point is None and resident.address != old_address:
        mark_geocode_pending(resident)
    resident.save()
    phone = values.get("contact_phone")
    if phone and not resident.emergency_contacts.filter(phone_hash=blind_index(phone)).exists():
        EmergencyContact.objects.create(
            resident=resident, name=values.get("contact_name") or "紧急联系人", phone=phone,
            relation=values.get("contact_relation", "other"),
        )
    return resident
