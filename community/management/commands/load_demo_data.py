from argparse import ArgumentParser

from django.apps import apps
from django.core.management.base import BaseCommand

from community.demo import DEMO_PASSWORD, build_demo_city
from community.models import Area


class Command(BaseCommand):
    help = "Load the deterministic demo city (only into an empty database unless --force)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when areas exist.")

    def handle(self, seed: int, if_empty: bool, **options: object) -> None:
        if Area.objects.exists():
            if if_empty:
                self.stdout.write("Demo data: database not empty, nothing loaded.")
                return
            self.stderr.write("Database already has areas; refusing to load demo data twice.")
            return
        demo = build_demo_city(seed)

        counts = ", ".join(
            f"{apps.get_model(label).objects.count()} {name}"
            for label, name in (("community.Resident", "residents"), ("volunteers.Volunteer", "volunteers"),
                                ("volunteers.PartyMemberRegistration", "Party members"),
                                ("community.HazardPoint", "hazard points"), ("emergency.ResponsePlan", "response plans"),
                                ("resources.Facility", "shelters and emergency points"), ("resources.Warehouse", "warehouses"))
        )
        self.stdout.write(
            f"Demo city loaded: {len(demo.communities)} communities, {len(demo.grids)} grids, {counts}, "
            f"{len(demo.staff)} staff (password {DEMO_PASSWORD!r})."
        )
