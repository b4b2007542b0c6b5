"""Import areas' boundaries from a GeoJSON FeatureCollection, matched to areas by code."""

import json
from argparse import ArgumentParser

from django.core.management.base import BaseCommand, CommandError

from community.boundary_import import import_boundaries
from community.geo import Datum


class Command(BaseCommand):
    help = ("Import boundaries (GeoJSON FeatureCollection; each feature's properties.code names its area). "
            "All or nothing: any problem and nothing is written.")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--datum", default=Datum.WGS84.value, choices=[d.value for d in Datum],
                            help="The file's coordinates (converted to WGS-84); default WGS84.")
        parser.add_argument("--code-property", default="code", help="The feature property holding the area code.")
        parser.add_argument("--dry-run", action="store_true", help="Check everything, write nothing.")

    def handle(self, path: str, datum: str, code_property: str, dry_run: bool, **options: object) -> None:
        try:
            with open(path, encoding="utf-8") as handle:
                collection = json.load(handle)
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}")
        result = import_boundaries(collection, datum=datum, code_property=code_property, dry_run=dry_run)
        if result.problems:
            raise CommandError("Nothing imported:\n" + "\n".join(result.problems))
        if dry_run:
            self.stdout.write(f"Dry run, nothing written: {len(result.matched)} boundaries would be imported.")
        else:
            self.stdout.write(f"Imported {result.written} boundaries from {result.features} features.")
