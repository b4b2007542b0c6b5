"""Export a community's service-hours ledger as CSV or Excel (.xlsx)."""

import datetime as dt
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from community.models import Area, AreaKind
from volunteers.services import export_service_hours


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}")


class Command(BaseCommand):
    help = "Export a community's service-hours ledger (every entry, corrections included)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("community", help="The community's area code, e.g. hz-sc-1-1.")
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--from", dest="start", type=_date, help="First day (Asia/Shanghai).")
        parser.add_argument("--to", dest="end", type=_date, help="Last day, inclusive.")
        parser.add_argument("--language", choices=["zh-hans", "en"], default="zh-hans", help="Header language.")
        parser.add_argument("--output", "-o", help="File to write (default: the suggested name; '-' for stdout).")

    def handle(self, community: str, format: str, start: dt.date | None, end: dt.date | None, language: str,
               output: str | None, **options: Any) -> None:
        area = Area.objects.filter(code=community, kind=AreaKind.COMMUNITY).first()
        if area is None:
            raise CommandError(f"No community with code {community!r}.")
        if (start is None) != (end is None):
            raise CommandError("Give both --from and --to, or neither.")
        if start and end and start > end:
            raise CommandError("--from is after --to.")
        try:
            exported = export_service_hours(area, format, start, end, language)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages))
        if output == "-":
            sys.stdout.buffer.write(exported.content)
            return
        path = output or exported.filename
        with open(path, "wb") as fh:
            fh.write(exported.content)
        self.stderr.write(f"{exported.row_count} entries written to {path}")
