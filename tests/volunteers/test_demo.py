"""The volunteers demo step: 300 volunteers, ~40 Party members, a few activities; the same
seed gives the same people."""

import time

import pytest

import community.demo as demo_module
from volunteers.demo_steps import build_volunteers
from volunteers.models import (
    ActivityCheckIn,
    PartyMemberRegistration,
    ServiceActivity,
    ServiceHoursEntry,
    Volunteer,
    VolunteerStatus,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def only_this_step(monkeypatch):
    monkeypatch.setattr(demo_module, "_steps", [(30, build_volunteers)])
    monkeypatch.setattr(demo_module, "discover_demo_steps", lambda: None)


def snapshot():
    return sorted(
        Volunteer.objects.values_list("user__username", "user__display_name", "status", "area__code", "h3_cell", "max_concurrent_tasks")
    ), sorted(Volunteer.objects.values_list("user__username", "skills__skill__code"))


def test_demo_volunteers_party_members_and_activities(only_this_step):
    started = time.monotonic()
    demo_module.build_demo_city(seed=11)
    elapsed = time.monotonic() - started
    assert Volunteer.objects.count() == 300
    by_status = {s: Volunteer.objects.filter(status=s).count() for s in VolunteerStatus.values}
    assert by_status == {"PENDING": 12, "SUSPENDED": 8, "APPROVED": 280}
    assert Volunteer.objects.in_pool().count() == 280
    assert not Volunteer.objects.filter(status="SUSPENDED", suspended_reason="").exists()
    assert not Volunteer.objects.filter(h3_cell="").exists()
    assert PartyMemberRegistration.objects.count() == 40
    assert PartyMemberRegistration.objects.filter(status="CONFIRMED").count() > 30
    assert ServiceActivity.objects.count() == 8
    # Every check-in of the finished activities was checked out and credited.
    assert ActivityCheckIn.objects.filter(hours_entry__isnull=True).count() == 0
    assert ServiceHoursEntry.objects.count() == ActivityCheckIn.objects.count() > 20
    assert Volunteer.objects.with_valid_skills(["first_aid"]).in_pool().exists()
    print(f"volunteers demo step: {elapsed:.2f}s")


def test_same_seed_gives_the_same_volunteers(only_this_step):
    demo_module.build_demo_city(seed=5)
    first = snapshot()
    for model in (ServiceHoursEntry, ActivityCheckIn):
        model.objects.all()._raw_delete(model.objects.db)  # the ledger refuses ordinary deletes
    ServiceActivity.objects.all().delete()
    PartyMemberRegistration.objects.all().delete()
    Volunteer.objects.all().delete()
    from community.models import Area, RoleAssignment, User

    RoleAssignment.objects.all().delete()
    Area.objects.all().delete()
    User.objects.all().delete()
    demo_module.build_demo_city(seed=5)
    assert snapshot() == first
