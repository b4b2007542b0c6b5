"""Who is offered a task: the eligible pool is a query over approved, available, skilled,
reachable volunteers under their limit, never asked before; Party members join in an
emergency. Each rule is shown by someone who is left out while a control is offered."""

import datetime as dt

import pytest
from django.utils import timezone

from emergency.switching import switch_mode
from notifications.consent import opt_out
from tests.volunteers.conftest import make_member, new_task, new_user
from volunteers.models import (
    ContactChannel,
    Offer,
    OfferPool,
    TaskAssignment,
    Volunteer,
    VolunteerStatus,
)
from volunteers.services import TaskSpec, create_task

from .conftest import helper, point_at

pytestmark = pytest.mark.django_db


def offered_users(task):
    return set(Offer.objects.filter(task=task).values_list("user_id", flat=True))


def dispatch(world, committed, **kwargs):
    kwargs.setdefault("headcount", 5)
    with committed():
        return new_task(world.grid_a1, title="搬运沙袋", **kwargs)


def test_a_suspended_volunteer_is_never_offered(world, committed):
    control = helper(world.grid_a1, 300)
    suspended = helper(world.grid_a1, 100, status=VolunteerStatus.SUSPENDED)
    pending = helper(world.grid_a1, 120, status=VolunteerStatus.PENDING)
    task = dispatch(world, committed)
    assert offered_users(task) == {control.user_id}
    assert suspended.user_id not in offered_users(task) and pending.user_id not in offered_users(task)


def test_an_inactive_account_is_never_offered(world, committed):
    control = helper(world.grid_a1, 300)
    gone = helper(world.grid_a1, 100)
    gone.user.is_active = False
    gone.user.save()
    assert offered_users(dispatch(world, committed)) == {control.user_id}


def test_only_volunteers_available_now_are_offered(world, committed):
    now = timezone.now()
    on_duty = helper(world.grid_a1, 300)
    off_duty = helper(world.grid_a1, 100, on_duty_until=None)
    duty_over = helper(world.grid_a1, 110, on_duty_until=now - dt.timedelta(minutes=1))
    whole_day = [(day, dt.time(0, 0), dt.time(23, 59, 59, 999999)) for day in range(7)]
    in_window = helper(world.grid_a1, 150, on_duty_until=None, windows=whole_day)
    assert offered_users(dispatch(world, committed)) == {on_duty.user_id, in_window.user_id}
    assert off_duty.pk and duty_over.pk


def test_required_skills_must_be_held_and_valid_today(world, committed):
    today = timezone.localdate()
    qualified = helper(world.grid_a1, 300, skills={"first_aid": {"certificate_ref": "HZ-1", "expires_on": today}})
    helper(world.grid_a1, 100, skills={"first_aid": {"certificate_ref": "HZ-2", "expires_on": today - dt.timedelta(days=1)}})
    helper(world.grid_a1, 110)  # no skill at all
    task = dispatch(world, committed, required_skills=["first_aid"])
    assert offered_users(task) == {qualified.user_id}


def test_volunteers_at_their_limit_of_tasks_are_not_offered(world, committed):
    control = helper(world.grid_a1, 300)
    busy = helper(world.grid_a1, 100)
    other = create_task(TaskSpec(title="别的任务"), area=world.grid_a2, dispatch=False)
    TaskAssignment.objects.create(task=other, user=busy.user, volunteer=busy)
    roomy = helper(world.grid_a1, 110, max_concurrent_tasks=2)
    TaskAssignment.objects.create(task=other, user=roomy.user, volunteer=roomy)
    assert offered_users(dispatch(world, committed)) == {control.user_id, roomy.user_id}


def test_sms_only_volunteers_whose_number_opted_out_are_unreachable(world, committed):
    sms_ok = helper(world.grid_a1, 300, channel=ContactChannel.SMS)
    opted = helper(world.grid_a1, 100, channel=ContactChannel.SMS)
    opt_out(opted.user.phone)
    no_phone = helper(world.grid_a1, 110, channel=ContactChannel.SMS, phone=False)
    app_opted = helper(world.grid_a1, 120, channel=ContactChannel.BOTH)
    opt_out(app_opted.user.phone)  # still reachable through the app
    assert offered_users(dispatch(world, committed)) == {sms_ok.user_id, app_opted.user_id}
    assert no_phone.pk


def test_volunteers_beyond_the_maximum_radius_are_never_offered(world, committed):
    near = helper(world.grid_a1, 900)
    helper(world.grid_a1, 5200)  # URGENT/ROUTINE search stops at 5 km
    assert offered_users(dispatch(world, committed, priority="ROUTINE")) == {near.user_id}


def test_a_temporary_location_counts_while_it_lasts(world, committed):
    far_home = helper(world.grid_a1, 4500)
    far_home.set_temporary_location(*point_at(50), timezone.now() + dt.timedelta(hours=2))
    far_home.save()
    expired_temp = helper(world.grid_a1, 4000)
    Volunteer.objects.filter(pk=expired_temp.pk).update(temp_lat=point_at(60)[0], temp_lng=point_at(60)[1],
                                                        temp_h3_cell=far_home.temp_h3_cell,
                                                        temp_location_until=timezone.now() - dt.timedelta(minutes=1))
    task = dispatch(world, committed, headcount=1)  # ROUTINE, 1 place x 1.5 = 2 offers
    offers = {o.user_id: o.distance_m for o in Offer.objects.filter(task=task)}
    assert offers[far_home.user_id] == pytest.approx(50, rel=0.02)
    assert offers[expired_temp.user_id] == pytest.approx(4000, rel=0.02)


# --- Party members ------------------------------------------------------------------------
def _member(world, metres, **fields):
    user = new_user(f"党员{metres}")
    reg = make_member(user, world.com_a, **fields)
    reg.set_location(*point_at(metres))
    reg.save()
    return user


def test_in_an_emergency_confirmed_party_members_of_the_community_join(world, committed):
    volunteer = helper(world.grid_a1, 300)
    member = _member(world, 100)
    _member(world, 120, status="PENDING")
    outsider = new_user("乙社区党员")
    reg = make_member(outsider, world.com_b)
    reg.set_location(*point_at(130))
    reg.save()
    switch_mode(world.com_a, "EMERGENCY", by=world.admin_a)
    task = dispatch(world, committed)
    assert offered_users(task) == {volunteer.user_id, member.pk}
    assert Offer.objects.get(task=task, user=member).pool == OfferPool.PARTY_MEMBER


def test_in_normal_times_party_members_are_not_offered(world, committed):
    volunteer = helper(world.grid_a1, 300)
    _member(world, 100)
    assert offered_users(dispatch(world, committed)) == {volunteer.user_id}


def test_party_members_are_not_offered_tasks_needing_skills(world, committed):
    medic = helper(world.grid_a1, 300, skills={"first_aid": {"certificate_ref": "X"}})
    _member(world, 100)
    switch_mode(world.com_a, "EMERGENCY", by=world.admin_a)
    assert offered_users(dispatch(world, committed, required_skills=["first_aid"])) == {medic.user_id}


def test_a_party_member_who_is_also_a_volunteer_is_offered_once(world, committed):
    both = helper(world.grid_a1, 100)
    make_member(both.user, world.com_a)
    switch_mode(world.com_a, "EMERGENCY", by=world.admin_a)
    task = dispatch(world, committed)
    assert list(Offer.objects.filter(task=task).values_list("user_id", "pool")) == [(both.user_id, "VOLUNTEER")]


def test_a_suspended_volunteer_is_not_offered_as_a_party_member_either(world, committed):
    suspended = helper(world.grid_a1, 100, status=VolunteerStatus.SUSPENDED)
    make_member(suspended.user, world.com_a)
    switch_mode(world.com_a, "EMERGENCY", by=world.admin_a)
    assert offered_users(dispatch(world, committed)) == set()
