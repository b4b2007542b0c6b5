"""A volunteer signs up, edits their profile, goes on duty and says where they are."""

import datetime as dt

import pytest
from django.utils import timezone

from community.geo import wgs84_to_gcj02
from notifications.consent import opt_out
from tests.operations import operation
from volunteers.models import AvailabilityWindow, Volunteer, VolunteerSkill, VolunteerStatus

from .conftest import A_POINT, gid, make_volunteer, new_user

pytestmark = pytest.mark.django_db

SIGN_UP = operation("volunteers/SignUpAsVolunteer")
UPDATE = operation("volunteers/UpdateMyVolunteerProfile")
ON_DUTY = operation("volunteers/SetOnDuty")
TEMP = operation("volunteers/SetTemporaryLocation")
MINE = operation("volunteers/MyVolunteerProfile")
SKILLS = operation("volunteers/Skills")


def profile(**overrides):
    base = {
        "displayName": "李志愿",
        "homeLocation": {"latitude": A_POINT[0], "longitude": A_POINT[1]},
        "skills": [{"code": "first_aid", "certificateRef": "RC-2024-001", "expiresOn": "2030-01-01"}, {"code": "cooking"}],
        "languages": ["zh", "en"],
        "maxConcurrentTasks": 2,
        "contactChannel": "BOTH",
        "availability": [{"weekday": 5, "start": "09:00:00", "end": "17:00:00"}],
    }
    base.update(overrides)
    return base


def sign_up(gql, user, area, **overrides):
    return gql(SIGN_UP, {"areaId": gid("Area", area.pk), "profile": profile(**overrides)}, user=user)[1]["data"]["signUpAsVolunteer"]


def codes(payload):
    """Error codes as the VolunteersErrorCode values (the API sends them upper-cased)."""
    return sorted(e["code"].lower() for e in payload["errors"])


def test_skills_list_is_the_seeded_managed_list(world, gql):
    data = gql.data(SKILLS, user=world.resident)["skills"]
    codes_ = {e["node"]["code"] for e in data["edges"]}
    assert {"first_aid", "medical", "driving", "boat", "elderly_care", "translation", "heavy_lifting",
            "electrician", "psychological_support", "search_and_rescue", "cooking"} <= codes_
    first_aid = next(e["node"] for e in data["edges"] if e["node"]["code"] == "first_aid")
    assert first_aid["name"] == "急救" and first_aid["requiresCertificate"] is True


def test_a_resident_signs_up_and_waits_for_approval(world, gql):
    result = sign_up(gql, world.resident, world.grid_a1)
    assert result["errors"] == []
    v = result["volunteer"]
    assert v["status"] == "PENDING"
    assert v["displayName"] == "李志愿"
    assert v["area"]["name"] == "甲一网格" and [a["name"] for a in v["serviceAreas"]] == ["甲一网格"]
    assert [(s["skill"]["code"], s["isValid"]) for s in v["skills"]] == [("first_aid", True), ("cooking", True)]
    assert v["availability"] == [{"weekday": 5, "start": "09:00:00", "end": "17:00:00"}]
    assert v["homeLocation"] == {"latitude": A_POINT[0], "longitude": A_POINT[1]}
    assert not Volunteer.objects.in_pool().exists()


def test_home_location_in_gcj02_is_stored_as_wgs84(world, gql):
    glat, glng = wgs84_to_gcj02(*A_POINT)
    sign_up(gql, world.resident, world.grid_a1, homeLocation={"latitude": glat, "longitude": glng, "datum": "GCJ02"})
    v = Volunteer.objects.get(user=world.resident)
    assert v.lat == pytest.approx(A_POINT[0], abs=1e-6) and v.lng == pytest.approx(A_POINT[1], abs=1e-6)


def test_sign_up_replayed_with_the_same_key_creates_one_volunteer(world, gql):
    variables = {"areaId": gid("Area", world.grid_a1.pk), "profile": profile(), "key": "signup-1"}
    first = gql.data(SIGN_UP, variables, user=world.resident)["signUpAsVolunteer"]
    again = gql.data(SIGN_UP, variables, user=world.resident)["signUpAsVolunteer"]
    assert again["volunteer"]["id"] == first["volunteer"]["id"] and again["errors"] == []
    assert Volunteer.objects.count() == 1


def test_signing_up_twice_is_refused(world, gql):
    sign_up(gql, world.resident, world.grid_a1)
    assert codes(sign_up(gql, world.resident, world.grid_a2)) == ["already_volunteer"]


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({"skills": [{"code": "juggling"}]}, ["unknown_skill"]),
        ({"skills": [{"code": "driving"}]}, ["certificate_required"]),
        ({"skills": [{"code": "boat", "certificateRef": "B1", "expiresOn": "2020-01-01"}]}, ["certificate_expired"]),
        ({"skills": [{"code": "cooking"}, {"code": "cooking"}]}, ["invalid"]),
        ({"languages": ["Chinese!"]}, ["invalid_language"]),
        ({"availability": [{"weekday": 7, "start": "09:00:00", "end": "10:00:00"}]}, ["invalid_availability"]),
        ({"availability": [{"weekday": 1, "start": "09:00:00", "end": "09:00:00"}]}, ["invalid_availability"]),
        ({"maxConcurrentTasks": 0}, ["invalid"]),
        ({"homeLocation": {"latitude": 95, "longitude": 120}}, ["invalid_location"]),
        ({"homeLocation": None}, ["required"]),
        ({"displayName": "  "}, ["invalid"]),
    ],
)
def test_bad_profiles_are_refused_with_typed_errors_and_nothing_is_created(world, gql, overrides, expected):
    result = sign_up(gql, world.resident, world.grid_a1, **overrides)
    assert codes(result) == expected and result["volunteer"] is None
    assert not Volunteer.objects.exists()


def test_every_problem_is_reported_at_once(world, gql):
    result = sign_up(gql, world.resident, world.grid_a1, languages=["??"], maxConcurrentTasks=99, skills=[{"code": "x"}])
    assert {e["field"] for e in result["errors"]} == {"languages", "maxConcurrentTasks", "skills"}


def test_volunteers_sign_up_in_a_community_or_grid_only(world, gql):
    assert codes(sign_up(gql, world.resident, world.district)) == ["invalid_area"]


def test_an_unknown_area_id_is_a_typed_error(world, gql):
    status, body = gql(SIGN_UP, {"areaId": "not-an-id", "profile": profile()}, user=world.resident)
    assert status == 200 and codes(body["data"]["signUpAsVolunteer"]) == ["invalid"]


def test_update_replaces_lists_and_keeps_what_is_omitted(world, gql, volunteer):
    VolunteerSkill.objects.create(volunteer=volunteer, skill_id=_skill("cooking"))
    changes = {"skills": [{"code": "elderly_care"}], "contactChannel": "APP", "serviceAreaIds": [gid("Area", world.grid_a1.pk), gid("Area", world.grid_a2.pk)]}
    result = gql.data(UPDATE, {"profile": changes}, user=volunteer.user)["updateMyVolunteerProfile"]
    assert result["errors"] == []
    assert [s["skill"]["code"] for s in result["volunteer"]["skills"]] == ["elderly_care"]
    assert result["volunteer"]["smsUnreachableReason"] == "APP_ONLY"
    volunteer.refresh_from_db()
    assert volunteer.max_concurrent_tasks == 1  # omitted: unchanged
    assert set(volunteer.service_areas.all()) == {world.grid_a1, world.grid_a2}


def test_update_without_a_profile_says_sign_up_first(world, gql):
    result = gql.data(UPDATE, {"profile": {"languages": ["zh"]}}, user=world.resident)["updateMyVolunteerProfile"]
    assert codes(result) == ["not_a_volunteer"]


def test_a_bad_update_changes_nothing(world, gql, volunteer):
    AvailabilityWindow.objects.create(volunteer=volunteer, weekday=1, start=dt.time(9), end=dt.time(12))
    bad = {"availability": [{"weekday": 2, "start": "08:00:00", "end": "10:00:00"}], "languages": ["!!"]}
    result = gql.data(UPDATE, {"profile": bad}, user=volunteer.user)["updateMyVolunteerProfile"]
    assert codes(result) == ["invalid_language"]
    assert list(volunteer.windows.values_list("weekday", flat=True)) == [1]


def _skill(code):
    from volunteers.models import Skill

    return Skill.objects.get(code=code).pk


def _iso(delta):
    return (timezone.now() + delta).isoformat()


def test_on_duty_switch_turns_itself_off(world, gql, volunteer):
    result = gql.data(ON_DUTY, {"until": _iso(dt.timedelta(hours=2))}, user=volunteer.user)["setOnDuty"]
    assert result["errors"] == [] and result["volunteer"]["isOnDuty"] and result["volunteer"]["isAvailableNow"]
    volunteer.refresh_from_db()
    assert volunteer.is_available(timezone.now() + dt.timedelta(hours=1))
    assert not volunteer.is_available(timezone.now() + dt.timedelta(hours=2, minutes=1))
    assert not Volunteer.objects.available_at(timezone.now() + dt.timedelta(hours=2, minutes=1)).exists()


def test_the_sweep_clears_expired_duty_and_temporary_locations(world, volunteer):
    from volunteers.tasks import sweep_expired_availability

    past = timezone.now() - dt.timedelta(minutes=1)
    volunteer.set_temporary_location(30.3, 120.2, past)
    volunteer.on_duty_until = past
    volunteer.save()
    assert sweep_expired_availability() == 2
    volunteer.refresh_from_db()
    assert volunteer.on_duty_until is None and volunteer.temp_lat is None and volunteer.temp_h3_cell == ""
    assert sweep_expired_availability() == 0


def test_going_off_duty_now(world, gql, volunteer):
    Volunteer.objects.filter(pk=volunteer.pk).update(on_duty_until=timezone.now() + dt.timedelta(hours=3))
    result = gql.data(ON_DUTY, {"until": None}, user=volunteer.user)["setOnDuty"]
    assert result["volunteer"]["isOnDuty"] is False and result["volunteer"]["onDutyUntil"] is None


@pytest.mark.parametrize("delta", [dt.timedelta(minutes=-5), dt.timedelta(hours=25)])
def test_on_duty_until_must_be_within_the_next_day(world, gql, volunteer, delta):
    result = gql.data(ON_DUTY, {"until": _iso(delta)}, user=volunteer.user)["setOnDuty"]
    assert codes(result) == ["invalid_time"]
    volunteer.refresh_from_db()
    assert volunteer.on_duty_until is None


@pytest.mark.parametrize("status", [VolunteerStatus.PENDING, VolunteerStatus.SUSPENDED])
def test_only_approved_volunteers_go_on_duty(world, gql, status):
    v = make_volunteer(area=world.grid_a1, status=status)
    result = gql.data(ON_DUTY, {"until": _iso(dt.timedelta(hours=1))}, user=v.user)["setOnDuty"]
    assert codes(result) == ["not_approved"]


def test_temporary_location_is_set_converted_and_cleared(world, gql, volunteer):
    glat, glng = wgs84_to_gcj02(30.28, 120.16)
    variables = {"location": {"latitude": glat, "longitude": glng, "datum": "GCJ02"}, "until": _iso(dt.timedelta(hours=6))}
    temp = gql.data(TEMP, variables, user=volunteer.user)["setTemporaryLocation"]["volunteer"]["temporaryLocation"]
    assert temp["location"]["latitude"] == pytest.approx(30.28, abs=1e-6)
    cleared = gql.data(TEMP, {"location": None}, user=volunteer.user)["setTemporaryLocation"]
    assert cleared["volunteer"]["temporaryLocation"] is None


@pytest.mark.parametrize(
    "variables, code",
    [
        ({"location": {"latitude": 30.28, "longitude": 120.16}}, "required"),
        ({"location": {"latitude": 30.28, "longitude": 120.16}, "until": "2020-01-01T00:00:00+08:00"}, "invalid_time"),
        ({"location": {"latitude": 30.28, "longitude": 200}, "until": "2099-01-01T00:00:00+08:00"}, "invalid_location"),
    ],
)
def test_bad_temporary_locations_are_refused(world, gql, volunteer, variables, code):
    result = gql.data(TEMP, variables, user=volunteer.user)["setTemporaryLocation"]
    assert codes(result) == [code]


def test_my_profile_shows_plainly_that_sms_is_unreachable_after_stop(world, gql, volunteer):
    opt_out(volunteer.user.phone)
    mine = gql.data(MINE, user=volunteer.user)["myVolunteerProfile"]
    assert mine["smsReachable"] is False and mine["smsUnreachableReason"] == "OPTED_OUT"
    assert mine["phone"] == str(volunteer.user.phone)  # your own number, unmasked
    assert mine["record"]["reliability"] == 0.75 and mine["record"]["responseRate"] is None


def test_my_profile_is_null_for_someone_who_has_not_signed_up(world, gql):
    assert gql.data(MINE, user=world.resident) == {"myVolunteerProfile": None}


def test_anonymous_callers_cannot_sign_up(world, gql):
    status, body = gql(SIGN_UP, {"areaId": gid("Area", world.grid_a1.pk), "profile": profile()})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert not Volunteer.objects.exists()


def test_new_user_helper_gives_unique_phones(world):
    assert new_user("a").phone != new_user("b").phone


def test_every_time_comes_back_in_utc_and_absent_text_is_null(world, gql):
    """Issue 17.6: onDutyUntil set in +08:00 comes back from the mutation and from the query as
    the same UTC string; a skill without a certificate has certificateRef null, not ""."""
    assert sign_up(gql, world.resident, world.grid_a1)["errors"] == []
    Volunteer.objects.filter(user=world.resident).update(status=VolunteerStatus.APPROVED)
    shanghai = dt.timezone(dt.timedelta(hours=8))
    until = (timezone.now() + dt.timedelta(hours=2)).astimezone(shanghai).replace(microsecond=0)
    assert until.isoformat().endswith("+08:00")
    answered = gql.data(ON_DUTY, {"until": until.isoformat()}, user=world.resident)["setOnDuty"]["volunteer"]["onDutyUntil"]
    read = gql.data(MINE, user=world.resident)["myVolunteerProfile"]
    assert answered == read["onDutyUntil"] == until.astimezone(dt.UTC).isoformat()
    assert answered.endswith("+00:00")
    certificates = {s["skill"]["code"]: s["certificateRef"] for s in read["skills"]}
    assert certificates == {"first_aid": "RC-2024-001", "cooking": None}
