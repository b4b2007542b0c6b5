"""Service activities: staff publish, members and volunteers sign up, and on the day check
in at the place (within the radius, or with the on-site code) and out (hours recorded)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from community.geo import wgs84_to_gcj02
from tests.operations import operation
from volunteers.models import (
    ActivityCheckIn,
    ActivitySignup,
    PartyRegistrationStatus,
    ServiceActivity,
    ServiceHoursEntry,
    VolunteerStatus,
)
from volunteers.services import close_forgotten_checkouts, do_check_in, do_check_out

from .conftest import A_POINT, gid, make_activity, make_member, make_volunteer, new_user

pytestmark = pytest.mark.django_db

PUBLISH = operation("volunteers/PublishServiceActivity")
CANCEL = operation("volunteers/CancelServiceActivity")
LIST = operation("volunteers/ServiceActivities")
SIGN_UP = operation("volunteers/SignUpForActivity")
CANCEL_SIGNUP = operation("volunteers/CancelActivitySignup")
CHECK_IN = operation("volunteers/CheckInToActivity")
CHECK_OUT = operation("volunteers/CheckOutOfActivity")


def codes(payload):
    return sorted(e["code"].lower() for e in payload["errors"])


def iso(delta):
    return (timezone.now() + delta).isoformat()


def activity_input(community, **overrides):
    values = {
        "communityId": gid("Area", community.pk), "title": "周末敲门行动", "description": "走访独居老人",
        "address": "社区服务中心门口", "startsAt": iso(dt.timedelta(days=1)), "endsAt": iso(dt.timedelta(days=1, hours=2)),
        "capacity": 20, "location": {"latitude": A_POINT[0], "longitude": A_POINT[1]}, "checkinRadiusM": 150,
        "checkinCode": "qb2026",
    }
    values.update(overrides)
    return values


def publish(gql, user, community, **overrides):
    return gql.data(PUBLISH, {"input": activity_input(community, **overrides)}, user=user)["publishServiceActivity"]


@pytest.fixture
def member(world):
    user = new_user("党员小张")
    make_member(user, world.com_a)
    return user


# --- publishing -----------------------------------------------------------------------------
def test_community_staff_publish_an_activity(world, gql):
    result = publish(gql, world.admin_a, world.com_a)
    assert result["errors"] == []
    activity = result["activity"]
    assert activity["placesLeft"] == 20 and activity["checkinRadiusM"] == 150
    assert activity["hasCheckinCode"] and activity["checkinCode"] == "QB2026"


def test_the_meeting_point_is_converted_from_gcj02(world, gql):
    glat, glng = wgs84_to_gcj02(*A_POINT)
    publish(gql, world.admin_a, world.com_a, location={"latitude": glat, "longitude": glng, "datum": "GCJ02"})
    activity = ServiceActivity.objects.get()
    assert activity.lat == pytest.approx(A_POINT[0], abs=1e-6) and activity.lng == pytest.approx(A_POINT[1], abs=1e-6)


@pytest.mark.parametrize("staff", ["admin_b", "worker_a1", "resident"])
def test_only_staff_of_the_community_publish(world, gql, staff):
    status, body = gql(PUBLISH, {"input": activity_input(world.com_a)}, user=getattr(world, staff))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not ServiceActivity.objects.exists()


@pytest.mark.parametrize(
    "overrides, field, code",
    [
        ({"endsAt": iso(dt.timedelta(hours=20))}, "endsAt", "invalid_time_range"),  # before the start
        ({"startsAt": iso(dt.timedelta(hours=-5)), "endsAt": iso(dt.timedelta(hours=-1))}, "endsAt", "invalid_time_range"),
        ({"endsAt": iso(dt.timedelta(days=3))}, "endsAt", "invalid_time_range"),  # longer than a day
        ({"startsAt": "2026-12-01T09:00:00", "endsAt": "2026-12-01T11:00:00"}, "startsAt", "invalid_time_range"),  # no offset
        ({"capacity": 0}, "capacity", "invalid_capacity"),
        ({"capacity": 100001}, "capacity", "invalid_capacity"),
        ({"checkinRadiusM": 5}, "checkinRadiusM", "invalid_radius"),
        ({"checkinRadiusM": 50000}, "checkinRadiusM", "invalid_radius"),
        ({"checkinCode": "a b"}, "checkinCode", "invalid_checkin_code"),
        ({"title": ""}, "title", "invalid"),
        ({"location": {"latitude": 30.27, "longitude": 999}}, "location", "invalid_location"),
    ],
)
def test_bad_activities_are_refused_with_typed_errors(world, gql, overrides, field, code):
    result = publish(gql, world.admin_a, world.com_a, **overrides)
    assert [(e["field"], e["code"].lower()) for e in result["errors"]] == [(field, code)]
    assert not ServiceActivity.objects.exists()


def test_activities_are_published_by_a_community(world, gql):
    assert codes(publish(gql, world.commander, world.district)) == ["invalid_area"]


def test_staff_cancel_and_nobody_can_sign_up_any_more(world, gql, member):
    activity = make_activity(world.com_a, starts_in=dt.timedelta(hours=3))
    result = gql.data(CANCEL, {"activityId": gid("ServiceActivity", activity.pk)}, user=world.admin_a)["cancelServiceActivity"]
    assert result["activity"]["status"] == "CANCELLED"
    signup = gql.data(SIGN_UP, {"activityId": gid("ServiceActivity", activity.pk)}, user=member)["signUpForActivity"]
    assert codes(signup) == ["activity_not_open"]


# --- who sees and signs up ------------------------------------------------------------------
def test_members_and_volunteers_of_the_community_see_its_activities(world, gql, member):
    make_activity(world.com_a, starts_in=dt.timedelta(hours=3))
    make_activity(world.com_b, starts_in=dt.timedelta(hours=3), title="乙社区活动")
    volunteer = make_volunteer(area=world.grid_a2)
    for user in (member, volunteer.user, world.worker_a1):
        titles = [e["node"]["title"] for e in gql.data(LIST, user=user)["serviceActivities"]["edges"]]
        assert titles == ["清理楼道杂物"], user
    assert gql.data(LIST, user=world.other_resident)["serviceActivities"]["totalCount"] == 0



def test_only_managing_staff_see_the_on_site_code(world, gql, member):
    make_activity(world.com_a, starts_in=dt.timedelta(hours=3), checkin_code="QB2026")
    query = "{ serviceActivities(first: 5) { edges { node { hasCheckinCode checkinCode } } } }"
    assert gql.data(query, user=member)["serviceActivities"]["edges"][0]["node"] == {"hasCheckinCode": True, "checkinCode": None}
    assert gql.data(query, user=world.admin_a)["serviceActivities"]["edges"][0]["node"]["checkinCode"] == "QB2026"


def test_confirmed_members_and_approved_volunteers_sign_up(world, gql, member):
    activity = make_activity(world.com_a, starts_in=dt.timedelta(hours=3))
    volunteer = make_volunteer(area=world.grid_a1)
    for user in (member, volunteer.user):
        result = gql.data(SIGN_UP, {"activityId": gid("ServiceActivity", activity.pk)}, user=user)["signUpForActivity"]
        assert result["errors"] == [] and result["signup"]["status"] == "SIGNED_UP"
    activity.refresh_from_db()
    assert activity.signed_up_count == 2


@pytest.mark.parametrize("who", ["pending_member", "pending_volunteer", "suspended_volunteer", "member_elsewhere", "resident"])
def test_others_are_not_eligible(world, gql, who):
    activity = make_activity(world.com_a, starts_in=dt.timedelta(hours=3))
    user = new_user(f"{who}-x")
    if who == "pending_member":
        make_member(user, world.com_a, status=PartyRegistrationStatus.PENDING)
    elif who == "pending_volunteer":
        make_volunteer(user, world.grid_a1, status=VolunteerStatus.PENDING)
    elif who == "suspended_volunteer":
        make_volunteer(user, world.grid_a1, status=VolunteerStatus.SUSPENDED)
    elif who == "member_elsewhere":
        make_member(user, world.com_b)
    status, body = gql(SIGN_UP, {"activityId": gid("ServiceActivity", activity.pk)}, user=user)
    # Not yet approved (or suspended), elsewhere, or not a volunteer: the community's activities
    # are not even visible to them.
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not ActivitySignup.objects.exists()


def test_a_full_activity_refuses_the_next_person(world, gql, member):
    activity = make_activity(world.com_a, starts_in=dt.timedelta(hours=3), capacity=1)
    gql.data(SIGN_UP, {"activityId": gid("ServiceActivity", activity.pk)}, user=member)
    late = new_user("晚到")
    make_member(late, world.com_a)
    result = gql.data(SIGN_UP, {"activityId": gid("ServiceActivity", activity.pk)}, user=late)["signUpForActivity"]
    assert codes(result) == ["capacity_full"]
    activity.refresh_from_db()
    assert activity.signed_up_count == 1 and ActivitySignup.objects.count() == 1


def test_cancelling_gives_the_place_back_and_signing_up_twice_is_refused(world, gql, member):
    activity = make_activity(world.com_a, starts_in=dt.timedelta(hours=3), capacity=1)
    aid = {"activityId": gid("ServiceActivity", activity.pk)}
    gql.data(SIGN_UP, aid, user=member)
    assert codes(gql.data(SIGN_UP, aid, user=member)["signUpForActivity"]) == ["already_signed_up"]
    cancelled = gql.data(CANCEL_SIGNUP, aid, user=member)["cancelActivitySignup"]
    assert cancelled["signup"]["status"] == "CANCELLED" and cancelled["activity"]["placesLeft"] == 1
    assert gql.data(SIGN_UP, aid, user=member)["signUpForActivity"]["activity"]["placesLeft"] == 0


# --- check-in -------------------------------------------------------------------------------
def check_in(gql, user, activity, location=None, code=None, key=None):
    variables = {"activityId": gid("ServiceActivity", activity.pk), "location": location, "code": code, "key": key}
    return gql.data(CHECK_IN, variables, user=user)["checkInToActivity"]


def loc(lat, lng, datum="WGS84"):
    return {"latitude": lat, "longitude": lng, "datum": datum}


def test_check_in_inside_the_radius_is_accepted(world, gql, member):
    activity = make_activity(world.com_a, signups=[member], checkin_radius_m=100)
    result = check_in(gql, member, activity, loc(A_POINT[0] + 0.0005, A_POINT[1]))  # ~55 m
    assert result["errors"] == []
    assert result["checkIn"]["method"] == "LOCATION" and 40 < result["checkIn"]["distanceM"] < 70


def test_check_in_outside_the_radius_is_refused_clearly(world, gql, member):
    activity = make_activity(world.com_a, signups=[member], checkin_radius_m=100)
    result = check_in(gql, member, activity, loc(A_POINT[0] + 0.003, A_POINT[1]))  # ~330 m
    [error] = result["errors"]
    assert error["code"] == "OUTSIDE_RADIUS" and error["field"] == "location"
    assert "333 m" in error["message"] and "100 m" in error["message"]
    assert not ActivityCheckIn.objects.exists()


def test_gcj02_position_at_the_place_is_converted_and_accepted(world, gql, member):
    activity = make_activity(world.com_a, signups=[member], checkin_radius_m=50)
    glat, glng = wgs84_to_gcj02(*A_POINT)  # what AMap reports standing on the spot (~500 m off in WGS-84)
    assert check_in(gql, member, activity, loc(glat, glng))["errors"][0]["code"] == "OUTSIDE_RADIUS"
    result = check_in(gql, member, activity, loc(glat, glng, "GCJ02"))
    assert result["errors"] == [] and result["checkIn"]["distanceM"] < 1


def test_check_in_with_the_on_site_code(world, gql, member):
    activity = make_activity(world.com_a, signups=[member], checkin_code="QB2026")
    far = loc(A_POINT[0] + 0.05, A_POINT[1])
    result = check_in(gql, member, activity, far, code="qb2026")  # location outside: the code decides
    assert result["errors"] == [] and result["checkIn"]["method"] == "CODE"


def test_a_wrong_code_is_refused_and_guessing_is_stopped(world, gql, member):
    activity = make_activity(world.com_a, signups=[member], checkin_code="QB2026")
    for _ in range(5):
        assert codes(check_in(gql, member, activity, code="000000")) == ["wrong_checkin_code"]
    assert codes(check_in(gql, member, activity, code="QB2026")) == ["too_many_attempts"]
    assert not ActivityCheckIn.objects.exists()


def test_a_code_for_an_activity_without_one_is_refused(world, gql, member):
    activity = make_activity(world.com_a, signups=[member])
    assert codes(check_in(gql, member, activity, code="1234")) == ["invalid_checkin_code"]


def test_check_in_needs_a_location_or_a_code(world, gql, member):
    activity = make_activity(world.com_a, signups=[member])
    assert codes(check_in(gql, member, activity)) == ["checkin_proof_required"]


def test_a_replayed_check_in_with_the_same_key_is_not_counted_twice(world, gql, member):
    activity = make_activity(world.com_a, signups=[member])
    first = check_in(gql, member, activity, loc(*A_POINT), key="ci-1")
    again = check_in(gql, member, activity, loc(*A_POINT), key="ci-1")
    assert again == first and again["errors"] == []
    assert ActivityCheckIn.objects.count() == 1


def test_a_second_check_in_without_a_key_is_refused(world, gql, member):
    activity = make_activity(world.com_a, signups=[member])
    check_in(gql, member, activity, loc(*A_POINT))
    assert codes(check_in(gql, member, activity, loc(*A_POINT))) == ["already_checked_in"]
    assert ActivityCheckIn.objects.count() == 1


def test_check_in_opens_half_an_hour_before_and_closes_at_the_end(world, gql, member):
    early = make_activity(world.com_a, starts_in=dt.timedelta(minutes=45), signups=[member])
    assert codes(check_in(gql, member, early, loc(*A_POINT))) == ["checkin_not_open"]
    soon = make_activity(world.com_a, starts_in=dt.timedelta(minutes=20), signups=[member])
    assert check_in(gql, member, soon, loc(*A_POINT))["errors"] == []
    over = make_activity(world.com_a, starts_in=dt.timedelta(hours=-3), hours=2, signups=[member])
    assert codes(check_in(gql, member, over, loc(*A_POINT))) == ["checkin_not_open"]


def test_only_people_signed_up_check_in(world, gql, member):
    activity = make_activity(world.com_a)
    assert codes(check_in(gql, member, activity, loc(*A_POINT))) == ["not_signed_up"]


# --- check-out and hours --------------------------------------------------------------------
def test_check_out_records_the_hours_spent_inside_the_activity(world, member):
    activity = make_activity(world.com_a, starts_in=dt.timedelta(minutes=-10), hours=3, signups=[member])
    start = activity.starts_at
    do_check_in(activity, member, point=A_POINT, now=start - dt.timedelta(minutes=20))  # early: counts from the start
    checkin = do_check_out(activity, member, now=start + dt.timedelta(hours=1, minutes=38))
    entry = checkin.hours_entry
    assert entry.hours == Decimal("1.75")  # 1 h 38 min to the nearest quarter hour
    assert (entry.user, entry.community, entry.kind, entry.source) == (member, world.com_a, "ACTIVITY", activity)


def test_check_out_after_the_end_counts_until_the_end(world, member):
    activity = make_activity(world.com_a, hours=2, signups=[member])
    do_check_in(activity, member, point=A_POINT, now=activity.starts_at)
    checkin = do_check_out(activity, member, now=activity.ends_at + dt.timedelta(hours=5))
    assert checkin.hours_entry.hours == Decimal("2.00")


def test_check_out_over_graphql_and_replay(world, gql, member):
    activity = make_activity(world.com_a, starts_in=dt.timedelta(hours=-1), hours=2, signups=[member])
    check_in(gql, member, activity, loc(*A_POINT))
    ActivityCheckIn.objects.filter(user=member).update(checked_in_at=activity.starts_at)
    variables = {"activityId": gid("ServiceActivity", activity.pk), "key": "co-1"}
    first = gql.data(CHECK_OUT, variables, user=member)["checkOutOfActivity"]
    again = gql.data(CHECK_OUT, variables, user=member)["checkOutOfActivity"]
    assert first == again and first["checkIn"]["hours"] == "1.00"
    assert ServiceHoursEntry.objects.count() == 1
    unkeyed = gql.data(CHECK_OUT, {"activityId": variables["activityId"]}, user=member)["checkOutOfActivity"]
    assert codes(unkeyed) == ["already_checked_out"]


def test_check_out_without_checking_in_is_refused(world, gql, member):
    activity = make_activity(world.com_a, signups=[member])
    result = gql.data(CHECK_OUT, {"activityId": gid("ServiceActivity", activity.pk)}, user=member)["checkOutOfActivity"]
    assert codes(result) == ["not_checked_in"]


def test_forgotten_check_outs_are_closed_at_the_end_and_credited(world, member):
    activity = make_activity(world.com_a, starts_in=dt.timedelta(hours=-6), hours=2, signups=[member])
    do_check_in(activity, member, point=A_POINT, now=activity.starts_at + dt.timedelta(minutes=30))
    assert close_forgotten_checkouts() == 1
    checkin = ActivityCheckIn.objects.get()
    assert checkin.checkout_method == "AUTO" and checkin.checked_out_at == activity.ends_at
    assert checkin.hours_entry.hours == Decimal("1.50")
    assert close_forgotten_checkouts() == 0  # idempotent


def test_recent_open_check_ins_are_left_alone(world, member):
    activity = make_activity(world.com_a, starts_in=dt.timedelta(hours=-2, minutes=-30), hours=2, signups=[member])
    do_check_in(activity, member, point=A_POINT, now=activity.starts_at)
    assert close_forgotten_checkouts() == 0  # ended only 30 minutes ago


def test_cannot_cancel_a_signup_after_checking_in(world, gql, member):
    activity = make_activity(world.com_a, signups=[member])
    check_in(gql, member, activity, loc(*A_POINT))
    result = gql.data(CANCEL_SIGNUP, {"activityId": gid("ServiceActivity", activity.pk)}, user=member)["cancelActivitySignup"]
    assert codes(result) == ["already_checked_in"]


def test_my_signup_and_attendance_show_in_the_list_in_constant_queries(world, gql, member):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        with CaptureQueriesContext(connection) as ctx:
            data = gql.data(LIST, {"upcoming": False}, user=member)
        return len(ctx.captured_queries), data

    first = make_activity(world.com_a, signups=[member])
    do_check_in(first, member, point=A_POINT)
    few, data = count()
    node = data["serviceActivities"]["edges"][0]["node"]
    assert node["mySignup"]["status"] == "SIGNED_UP" and node["myCheckIn"]["checkedOutAt"] is None
    for _ in range(5):
        make_activity(world.com_a, signups=[member])
    assert count()[0] == few


def _race(*calls):
    """Run the calls at the same moment in threads (real transactions); their outcomes."""
    import threading

    from django.db import connection

    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []

    def run(call):
        try:
            barrier.wait(timeout=5)
            call()
            outcomes.append("ok")
        except Exception as exc:
            outcomes.append(str(getattr(exc, "code", None) or exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    return sorted(outcomes)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_racing_for_the_last_place_one_wins(world):
    from volunteers.services import do_sign_up_for_activity

    activity = make_activity(world.com_a, starts_in=dt.timedelta(hours=3), capacity=1)
    first, second = new_user("抢一"), new_user("抢二")
    make_member(first, world.com_a)
    make_member(second, world.com_a)
    outcomes = _race(lambda: do_sign_up_for_activity(activity, first), lambda: do_sign_up_for_activity(activity, second))
    assert outcomes == ["capacity_full", "ok"]
    activity.refresh_from_db()
    assert activity.signed_up_count == 1 and ActivitySignup.objects.filter(status="SIGNED_UP").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_check_ins_of_one_person_at_once_count_once(world):
    user = new_user("手抖")
    make_member(user, world.com_a)
    activity = make_activity(world.com_a, signups=[user])
    outcomes = _race(*(lambda: do_check_in(activity, user, point=A_POINT) for _ in range(2)))
    assert outcomes == ["already_checked_in", "ok"]
    assert ActivityCheckIn.objects.count() == 1
