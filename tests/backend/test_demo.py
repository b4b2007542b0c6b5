"""The demo city: realistic, deterministic from its seed, loaded only into an empty database."""

from io import StringIO

import pytest
from django.core.management import call_command

from community.models import Area, AreaKind, Role, RoleAssignment, User

pytestmark = pytest.mark.django_db


def load(*args) -> str:
    out = StringIO()
    call_command("load_demo_data", *args, stdout=out, stderr=out)
    return out.getvalue()


def test_demo_city_has_the_promised_shape():
    load()
    kinds = {kind: Area.objects.filter(kind=kind).count() for kind in AreaKind.values}
    assert kinds == {"city": 1, "district": 1, "subdistrict": 2, "community": 4, "grid": 16}
    roles = {role: RoleAssignment.objects.filter(role=role).count() for role in Role.values}
    assert roles == {"grid_worker": 16, "community_admin": 4, "district_commander": 1, "auditor": 1}
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="gridworker1").check_password("linli-demo")
    grids = Area.objects.filter(kind=AreaKind.GRID)
    assert all(30.0 < g.center_lat < 30.6 and 119.9 < g.center_lng < 120.4 for g in grids)


def test_demo_is_loaded_only_into_an_empty_database():
    load()
    users = User.objects.count()
    assert "nothing loaded" in load("--if-empty")
    assert User.objects.count() == users


def snapshot() -> dict:
    from community.models import Resident
    from volunteers.models import Volunteer

    def rows(qs):
        return sorted(tuple(str(v) for v in row) for row in qs)

    return {
        "users": rows(User.objects.values_list("username", "display_name", "phone")),
        "residents": rows(Resident.objects.values_list("display_name", "phone", "lat", "lng", "is_vulnerable")),
        "volunteers": rows(Volunteer.objects.values_list("user__username", "status", "lat", "lng")),
    }


def test_same_seed_gives_the_same_city():
    from django.db import transaction

    from community.demo import build_demo_city

    with transaction.atomic():
        build_demo_city(seed=7)
        first = snapshot()
        transaction.set_rollback(True)
    assert not User.objects.exists()
    build_demo_city(seed=7)
    assert snapshot() == first


def test_demo_city_has_people_to_work_with():
    from community.models import Resident
    from volunteers.models import PartyMemberRegistration, Volunteer

    load()
    assert Resident.objects.count() == 2000
    assert Resident.objects.filter(is_vulnerable=True).count() > 100
    assert Resident.objects.filter(user__isnull=True, phone__isnull=True).exists()
    assert Volunteer.objects.count() == 300
    assert Volunteer.objects.in_pool().count() > 250
    assert PartyMemberRegistration.objects.exists()


def test_demo_communities_have_response_plans_that_run_on_a_switch():
    from community.models import Area, AreaKind, Mode
    from emergency.models import PlanRun, ResponsePlan, SafetyCheck
    from emergency.switching import switch_mode
    from emergency.tasks import run_pending_emergency_jobs

    load()
    assert ResponsePlan.objects.filter(mode=Mode.EMERGENCY, area__kind=AreaKind.COMMUNITY).count() == 4
    community = Area.objects.filter(kind=AreaKind.COMMUNITY).first()
    admin = RoleAssignment.objects.get(area=community, role=Role.COMMUNITY_ADMIN).user
    switch_mode(community, Mode.EMERGENCY, by=admin, reason="演练", is_drill=True)
    run_pending_emergency_jobs()
    assert PlanRun.objects.get().status == "DONE"
    assert SafetyCheck.objects.get(area=community).is_drill


def test_demo_communities_have_shelters_and_stores_their_plans_open_and_name():
    from community.models import Area, AreaKind, Mode
    from emergency.models import Alert
    from emergency.switching import switch_mode
    from emergency.tasks import run_pending_emergency_jobs
    from resources.models import Facility, Stock

    load()
    community = Area.objects.filter(kind=AreaKind.COMMUNITY).order_by("pk").first()
    assert set(Facility.objects.filter(area=community).values_list("kind", "status")) == {
        ("SHELTER", "CLOSED"), ("MEDICAL", "CLOSED"), ("WATER", "CLOSED")}
    assert Stock.objects.filter(warehouse__area=community, quantity__gt=0).count() == 7
    admin = RoleAssignment.objects.get(area=community, role=Role.COMMUNITY_ADMIN).user
    switch_mode(community, Mode.EMERGENCY, by=admin, reason="暴雨")
    run_pending_emergency_jobs()
    assert set(Facility.objects.filter(area=community).values_list("status", flat=True)) == {"OPEN"}
    shelter = Facility.objects.get(area=community, kind="SHELTER")
    assert list(Alert.objects.get(area=community).shelters.all()) == [shelter]
    switch_mode(community, Mode.RECOVERY, by=admin, reason="雨停")
    run_pending_emergency_jobs()
    # Recovery sends people home from the shelter; water and the medical point stay open.
    assert dict(Facility.objects.filter(area=community).values_list("kind", "status")) == {
        "SHELTER": "CLOSED", "MEDICAL": "OPEN", "WATER": "OPEN"}
