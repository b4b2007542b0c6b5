"""The right of access and portability (PIPL art. 45): everything Linli holds about a person,
as JSON or XLSX, through a short-lived signed link (like the after-action report's).

Each app registers the sections it holds about a person, so this module imports none:

    register_section("resident", lambda user: [...rows...])   # rows: flat dicts of plain values

    my_data_link(user, base="https://linli.example", fmt="xlsx")  -> URL
    GET /me/data/?t=<signed>[&format=json|xlsx]                     -> the file (attachment)
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db.models import Model, QuerySet
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from core.signing import sign

SALT = "linli.my-data"
Row = dict[str, Any]
Section = Callable[[Any], list[Row]]

_sections: dict[str, Section] = {}


class DataFormat(StrEnum):
    JSON = "json"
    XLSX = "xlsx"


def register_section(name: str, section: Section) -> None:
    _sections[name] = section


def plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def rows(queryset: QuerySet[Any] | Iterable[Model], fields: Iterable[str]) -> list[Row]:
    """Flat rows of `fields` (lookups allowed: "grid__name") from a queryset."""
    names = list(fields)
    if isinstance(queryset, QuerySet):
        return [{k: plain(v) for k, v in row.items()} for row in queryset.values(*names)]
    return [{k: plain(getattr(obj, k, None)) for k in names} for obj in queryset]


def collect(user: Any) -> dict[str, Any]:
    """{"exported_at": ..., "sections": {name: [rows]}} for `user`."""
    return {"exported_at": timezone.now().isoformat(), "user_id": user.pk,
            "sections": {name: section(user) for name, section in sorted(_sections.items())}}


def as_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode()


def as_xlsx(data: dict[str, Any]) -> bytes:
    workbook = Workbook()
    summary = workbook.active
    summary.title = "exported"
    summary.append(["exported_at", data["exported_at"]])
    summary.append(["user_id", data["user_id"]])
    for name, section_rows in data["sections"].items():
        sheet = workbook.create_sheet(name[:31])
        head: list[str] = []
        for row in section_rows:
            head += [k for k in row if k not in head]
        sheet.append(head or ["(none)"])
        for row in section_rows:
            sheet.append([_cell(row.get(k)) for k in head])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value


def my_data_token(user: Any) -> str:
    return sign({"u": user.pk, "p": user.password[-12:]}, salt=SALT)


def my_data_link(user: Any, *, base: str, fmt: DataFormat | str = DataFormat.JSON) -> str:
    return f"{base.rstrip('/')}{reverse('my-data')}?t={my_data_token(user)}&format={DataFormat(fmt).value}"


def link_max_age() -> int:
    return int(settings.MY_DATA_LINK_MAX_AGE)
