"""The community demo step: residents in households, vulnerable people, hazard points."""

import pytest

from community.demo import build_demo_city
from community.models import EmergencyContact, HazardPoint, Household, Resident, ResidentReport

pytestmark = pytest.mark.django_db


def test_demo_residents_are_plausible_and_placed_in_their_grids():
    from community.geo import distance_m

    build_demo_city(seed=11)
    residents = list(Resident.objects.select_related("grid"))
    assert len(residents) == 2000
    vulnerable = [r for r in residents if r.is_vulnerable]
    assert 150 <= len(vulnerable) <= 260 and all(r.vulnerability_flags for r in vulnerable)
    assert 200 <= sum(1 for r in residents if r.phone is None) <= 400
    assert all(r.h3_cell and distance_m(r.point, (r.grid.center_lat, r.grid.center_lng)) < 600 for r in residents)
    # Every grid and community is drawn, and every home lies in its grid's boundary.
    from community.area_index import area_shapes
    from community.models import Area

    assert not Area.objects.filter(kind__in=["grid", "community"], boundary__isnull=True).exists()
    shapes = area_shapes()
    assert shapes.grids_at([r.lat for r in residents], [r.lng for r in residents]) == [r.grid_id for r in residents]
    assert Household.objects.count() > 700 and EmergencyContact.objects.count() == len(vulnerable)
    assert Resident.objects.using_app().count() == 20 and ResidentReport.objects.count() == 8
    assert HazardPoint.objects.count() == 40 and HazardPoint.objects.overdue().exists()


def test_demo_residents_are_deterministic_from_the_seed(world):
    import random

    from community.demo import DemoCity
    from community.demo_steps import demo_residents
    from community.models import User

    def run() -> list:
        grids = [world.grid_a1, world.grid_a2, world.grid_b1, world.grid_b2]
        demo_residents(DemoCity(rng=random.Random(5), city=world.city, grids=grids))
        rows = list(Resident.objects.order_by("id").values_list("display_name", "phone", "lat", "is_vulnerable", "grid"))
        for model in (ResidentReport, HazardPoint, Resident, Household):
            model.objects.all().delete()
        User.objects.filter(username__regex=r"^resident\d+$").delete()
        return rows

    first = run()
    assert len(set(first)) > 1900 and first == run()
