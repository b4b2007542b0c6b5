"""Import a resident roster (.csv or .xlsx) into a community, as the GraphQL mutation does."""

from argparse import ArgumentParser

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from community.imports import import_roster
from community.models import Area, AreaKind, User


class Command(BaseCommand):
    help = "Import residents from a roster file into a community (dry run unless --apply)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--community", required=True, help="The community's area code")
        parser.add_argument("--apply", action="store_true", help="Write the rows (all or nothing).")
        parser.add_argument("--by", default=None, help="Username recorded as the importer")
        parser.add_argument("--legal-basis", default=None, choices=["statutory_duty", "emergency"],
                            help="Why vulnerability or care notes are recorded without the residents' consent")

    def handle(self, path: str, community: str, apply: bool, by: str | None, legal_basis: str | None = None,
               **options: object) -> None:
        area = Area.objects.filter(code=community, kind=AreaKind.COMMUNITY).first()
        if area is None:
            raise CommandError(f"No community with code {community!r}.")
        user = User.objects.filter(username=by).first() if by else None
        try:
            with open(path, "rb") as handle:
                report = import_roster(File(handle, name=path), area, by=user, dry_run=not apply, legal_basis=legal_basis)
        except (OSError, ValidationError) as exc:
            raise CommandError(str(exc))
        for problem in report.file_problems:
            self.stderr.write(f"file: [{problem.code}] {problem.message}")
        for row in report.problem_rows:
            for problem in row.problems:
                self.stderr.write(f"row {row.row} ({row.display_name}): {problem.column}: [{problem.code}] {problem.message}")
        summary = (f"{len(report.rows)} rows: {report.count('create')} to create, {report.count('update')} to update, "
                   f"{report.count('unchanged')} unchanged, {report.count('error')} with problems")
        if report.applied:
            self.stdout.write(f"Imported. {summary}.")
        elif apply:
            raise CommandError(f"Nothing imported: fix the problems first. {summary}.")
        else:
            self.stdout.write(f"Dry run, nothing written. {summary}.")
