"""Who is in the mobilisation pool, when they are available, with which skills, and where.

These queries are the contract the dispatch engine builds on."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from community.geo import wgs84_to_gcj02
from notifications.consent import opt_out
from volunteers.models import (
    ContactChannel,
    OfferOutcome,
    SmsUnreachableReason,
    Volunteer,
    VolunteerStatus,
    nearest_volunteers,
    reliability_score,
)
from volunteers.models.time import LOCAL_TZ
from volunteers.services import record_offer_outcome

from .conftest import A_POINT, make_volunteer, new_user

pytestmark = pytest.mark.django_db

# A Wednesday, 10:00 in Shanghai.
WED_10 = dt.datetime(2026, 11, 25, 10, 0, tzinfo=LOCAL_TZ)
T = dt.time


def test_pending_and_suspended_volunteers_are_never_in_the_pool(world):
    approved = make_volunteer(area=world.grid_a1)
    make_volunteer(area=world.grid_a1, status=VolunteerStatus.PENDING, on_duty_until=WED_10 + dt.timedelta(hours=1))
    make_volunteer(area=world.grid_a1, status=VolunteerStatus.SUSPENDED, on_duty_until=WED_10 + dt.timedelta(hours=1))
    assert list(Volunteer.objects.in_pool()) == [approved]


def test_a_volunteer_whose_account_is_disabled_is_not_in_the_pool(world, volunteer):
    volunteer.user.is_active = False
    volunteer.user.save()
    assert not Volunteer.objects.in_pool().exists()


def test_on_duty_volunteer_is_available_until_the_switch_turns_itself_off(world):
    v = make_volunteer(area=world.grid_a1, on_duty_until=WED_10 + dt.timedelta(hours=2))
    assert list(Volunteer.objects.in_pool().available_at(WED_10)) == [v]
    assert v.is_available(WED_10)
    later = WED_10 + dt.timedelta(hours=2, seconds=1)
    assert not Volunteer.objects.in_pool().available_at(later).exists()
    assert not v.is_available(later)


def test_weekly_window_makes_a_volunteer_available_inside_it_only(world):
    v = make_volunteer(area=world.grid_a1, windows=[(2, T(9), T(12))])  # Wednesday 09-12
    assert list(Volunteer.objects.available_at(WED_10)) == [v]
    assert not Volunteer.objects.available_at(WED_10.replace(hour=12)).exists()  # end is exclusive
    assert not Volunteer.objects.available_at(WED_10 + dt.timedelta(days=1)).exists()  # Thursday


def test_windows_are_read_in_shanghai_time_whatever_the_input_offset(world):
    make_volunteer(area=world.grid_a1, windows=[(2, T(9), T(12))])
    same_instant_in_utc = WED_10.astimezone(dt.UTC)  # 02:00 UTC
    assert Volunteer.objects.available_at(same_instant_in_utc).count() == 1


def test_an_overnight_window_covers_the_evening_and_the_next_morning(world):
    v = make_volunteer(area=world.grid_a1, windows=[(1, T(22), T(6))])  # Tuesday 22:00 - Wednesday 06:00
    tuesday_23 = WED_10.replace(day=24, hour=23)
    wednesday_05 = WED_10.replace(hour=5)
    for at in (tuesday_23, wednesday_05):
        assert list(Volunteer.objects.available_at(at)) == [v]
        assert v.is_available(at)
    assert not Volunteer.objects.available_at(WED_10.replace(hour=6)).exists()
    assert not Volunteer.objects.available_at(WED_10.replace(day=24, hour=21)).exists()


def test_availability_is_one_sql_query(world):
    for _ in range(5):
        make_volunteer(area=world.grid_a1, windows=[(2, T(9), T(12))])
    with CaptureQueriesContext(connection) as ctx:
        assert len(list(Volunteer.objects.in_pool().available_at(WED_10).with_valid_skills(["cooking"], WED_10))) == 0
    assert len(ctx.captured_queries) == 1


def test_an_expired_certificate_does_not_count(world):
    today = WED_10.date()
    valid = make_volunteer(area=world.grid_a1, skills={"first_aid": {"certificate_ref": "RC-1", "expires_on": today}})
    make_volunteer(area=world.grid_a1, skills={"first_aid": {"certificate_ref": "RC-2", "expires_on": today - dt.timedelta(days=1)}})
    assert list(Volunteer.objects.with_valid_skills(["first_aid"], WED_10)) == [valid]
    assert not Volunteer.objects.with_valid_skills(["first_aid"], WED_10 + dt.timedelta(days=1)).exists()


def test_a_skill_that_requires_a_certificate_does_not_count_without_one(world):
    make_volunteer(area=world.grid_a1, skills={"driving": {"certificate_ref": ""}})
    cook = make_volunteer(area=world.grid_a1, skills={"cooking": {}})
    assert not Volunteer.objects.with_valid_skills(["driving"], WED_10).exists()
    assert list(Volunteer.objects.with_valid_skills(["cooking"], WED_10)) == [cook]


def test_with_valid_skills_requires_every_skill(world):
    both = make_volunteer(area=world.grid_a1, skills={"cooking": {}, "elderly_care": {}})
    make_volunteer(area=world.grid_a1, skills={"cooking": {}})
    assert list(Volunteer.objects.with_valid_skills(["cooking", "elderly_care"], WED_10)) == [both]


def test_nearest_volunteers_sorted_by_distance_and_cut_at_the_radius(world):
    lat, lng = A_POINT
    far = make_volunteer(area=world.grid_a1, point=(lat + 0.009, lng))  # ~1 km north
    near = make_volunteer(area=world.grid_a1, point=(lat + 0.002, lng))  # ~220 m
    make_volunteer(area=world.grid_a1, point=(lat + 0.05, lng))  # ~5.5 km
    found = nearest_volunteers(Volunteer.objects.all(), lat, lng, 2000, at=WED_10)
    assert [v for v, _ in found] == [near, far]
    assert 200 < found[0][1] < 240


def test_a_temporary_location_is_searched_instead_of_home_while_it_lasts(world):
    lat, lng = A_POINT
    v = make_volunteer(area=world.grid_a1, point=(lat + 0.05, lng))  # home far away
    v.set_temporary_location(lat + 0.001, lng, WED_10 + dt.timedelta(hours=3))
    v.save()
    assert [x for x, _ in nearest_volunteers(Volunteer.objects.all(), lat, lng, 500, at=WED_10)] == [v]
    assert v.effective_point(WED_10) == (v.temp_lat, v.temp_lng)
    assert v.search_cell(WED_10) == v.temp_h3_cell
    after = WED_10 + dt.timedelta(hours=4)
    assert nearest_volunteers(Volunteer.objects.all(), lat, lng, 500, at=after) == []
    assert v.effective_point(after) == v.point


def test_opted_out_number_is_not_sms_reachable(world, volunteer):
    assert volunteer.is_sms_reachable
    opt_out(volunteer.user.phone)
    volunteer = Volunteer.objects.get(pk=volunteer.pk)
    assert volunteer.sms_unreachable_reason() == SmsUnreachableReason.OPTED_OUT
    assert not Volunteer.objects.sms_reachable().exists()


def test_app_only_and_phoneless_volunteers_are_not_sms_reachable(world):
    app_only = make_volunteer(area=world.grid_a1, contact_channel=ContactChannel.APP)
    no_phone = make_volunteer(new_user("无手机", phone=False), world.grid_a1)
    sms = make_volunteer(area=world.grid_a1, contact_channel=ContactChannel.SMS)
    assert app_only.sms_unreachable_reason() == SmsUnreachableReason.APP_ONLY
    assert no_phone.sms_unreachable_reason() == SmsUnreachableReason.NO_PHONE
    assert list(Volunteer.objects.sms_reachable()) == [sms]


def test_reliability_starts_at_three_quarters_and_follows_the_record(world, volunteer):
    assert volunteer.reliability == 0.75
    for outcome in [OfferOutcome.OFFERED] * 5 + [OfferOutcome.ACCEPTED] * 3 + [OfferOutcome.COMPLETED] * 2 + [
        OfferOutcome.WITHDRAWN, OfferOutcome.DECLINED, OfferOutcome.EXPIRED,
    ]:
        record_offer_outcome(volunteer.pk, outcome)
    volunteer.refresh_from_db()
    assert (volunteer.offered_count, volunteer.accepted_count, volunteer.declined_count) == (5, 3, 1)
    assert (volunteer.expired_count, volunteer.completed_count, volunteer.withdrawn_count) == (1, 2, 1)
    # (2 + 3) / (2 + 1 + 1 + 4): a decline is not held against anyone.
    assert volunteer.reliability == pytest.approx(5 / 8)
    assert volunteer.response_rate == pytest.approx(4 / 5)


def test_reliability_in_sql_matches_the_python_formula(world):
    a = make_volunteer(area=world.grid_a1, completed_count=9, expired_count=1)
    b = make_volunteer(area=world.grid_a1, withdrawn_count=3)
    ranked = list(Volunteer.objects.with_reliability().order_by("-reliability_value"))
    assert ranked == [a, b]
    assert ranked[0].reliability_value == pytest.approx(reliability_score(9, 1, 0)) == ranked[0].reliability
    assert ranked[1].reliability_value == pytest.approx(reliability_score(0, 0, 3)) == ranked[1].reliability


def test_gcj02_helper_moves_points_in_china(world):
    # Sanity for the check-in tests: the datum shift near Hangzhou is several hundred metres.
    from community.geo import distance_m

    assert distance_m(A_POINT, wgs84_to_gcj02(*A_POINT)) > 300


def test_serving_an_area_means_signed_up_or_serving_in_its_subtree(world):
    here = make_volunteer(area=world.grid_a1)
    helps_here = make_volunteer(area=world.grid_b1, service_areas=[world.grid_b1, world.grid_a2])
    make_volunteer(area=world.grid_b2)
    assert set(Volunteer.objects.serving(world.com_a)) == {here, helps_here}
    assert list(Volunteer.objects.serving(world.grid_a2)) == [helps_here]
    assert Volunteer.objects.serving(world.district).count() == 3


def test_a_volunteer_sees_the_areas_they_serve_and_their_ancestors(world):
    from community.permissions import can_view_area

    v = make_volunteer(area=world.grid_a1, service_areas=[world.grid_a1, world.grid_b2])
    assert all(can_view_area(v.user, a) for a in (world.grid_a1, world.grid_b2, world.com_b, world.city))
    assert not can_view_area(v.user, world.grid_a2)
