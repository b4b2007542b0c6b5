"""Staff approve, suspend and reinstate volunteers in their areas, list them and find the
nearest; the wrong staff member is refused and nothing changes."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications import events
from notifications.models import Notification
from tests.operations import operation
from volunteers.models import OfferOutcome, Volunteer, VolunteerStatus
from volunteers.services import record_offer_outcome

from .conftest import A_POINT, B_POINT, gid, make_volunteer, new_user

pytestmark = pytest.mark.django_db

APPROVE = operation("volunteers/ApproveVolunteer")
SUSPEND = operation("volunteers/SuspendVolunteer")
REINSTATE = operation("volunteers/ReinstateVolunteer")
LIST = operation("volunteers/Volunteers")
NEARBY = operation("volunteers/NearbyVolunteers")


def codes(payload):
    return sorted(e["code"].lower() for e in payload["errors"])


@pytest.fixture
def pending(world):
    return make_volunteer(new_user("待审"), world.grid_a1, status=VolunteerStatus.PENDING)


@pytest.fixture
def pushes(monkeypatch):
    sent = []
    monkeypatch.setattr("notifications.services.publish", lambda groups, event: sent.append((groups, event)))
    return sent


@pytest.mark.parametrize("staff", ["worker_a1", "admin_a", "commander"])
def test_staff_over_the_sign_up_area_approve(world, gql, pending, staff, pushes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = gql.data(APPROVE, {"volunteerId": gid("Volunteer", pending.pk)}, user=getattr(world, staff))["approveVolunteer"]
    assert result["errors"] == [] and result["volunteer"]["status"] == "APPROVED"
    pending.refresh_from_db()
    assert pending.approved_by == getattr(world, staff) and pending.approved_at is not None
    assert Volunteer.objects.in_pool().get() == pending
    [told] = Notification.objects.filter(user=pending.user)
    assert told.kind == "volunteer.approved" and told.title == "志愿者申请已通过" and "甲一网格" in told.body
    assert pushes == [(events.user_group(pending.user_id), pushes[0][1])]
    assert pushes[0][1]["type"] == events.NOTIFICATION_CREATED and pushes[0][1]["notificationId"] == told.pk


def test_a_suspended_volunteer_is_told_why_in_their_language(world, gql, volunteer):
    volunteer.user.preferred_language = "en"
    volunteer.user.save()
    gql.data(SUSPEND, {"volunteerId": gid("Volunteer", volunteer.pk), "reason": "No-shows"}, user=world.admin_a)
    told = Notification.objects.get(user=volunteer.user)
    assert (told.title, told.body) == ("Volunteer account suspended", "Reason: No-shows. Contact your community if you have questions.")


@pytest.mark.parametrize("staff", ["worker_a2", "worker_b1", "admin_b", "resident", "volunteer_self"])
def test_the_wrong_person_cannot_approve_and_nothing_changes(world, gql, pending, staff):
    from tests.world import give_role

    if staff == "worker_a2":
        user = new_user("网格员A2")
        give_role(user, world.grid_a2, "grid_worker")
    elif staff == "volunteer_self":
        user = pending.user
    else:
        user = getattr(world, staff)
    status, body = gql(APPROVE, {"volunteerId": gid("Volunteer", pending.pk)}, user=user)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    pending.refresh_from_db()
    assert pending.status == VolunteerStatus.PENDING and pending.approved_by is None


def test_suspension_needs_a_reason_takes_them_off_duty_and_out_of_the_pool(world, gql, volunteer):
    Volunteer.objects.filter(pk=volunteer.pk).update(on_duty_until=timezone.now() + dt.timedelta(hours=2))
    no_reason = gql.data(SUSPEND, {"volunteerId": gid("Volunteer", volunteer.pk), "reason": "  "}, user=world.admin_a)["suspendVolunteer"]
    assert codes(no_reason) == ["required"]
    result = gql.data(SUSPEND, {"volunteerId": gid("Volunteer", volunteer.pk), "reason": "多次接单未到"}, user=world.admin_a)["suspendVolunteer"]
    assert result["volunteer"] == {**result["volunteer"], "status": "SUSPENDED", "suspendedReason": "多次接单未到", "isOnDuty": False}
    assert not Volunteer.objects.in_pool().exists()
    assert not Volunteer.objects.available_at(timezone.now()).exists()


def test_reinstating_puts_a_suspended_volunteer_back_in_the_pool(world, gql, volunteer):
    gql.data(SUSPEND, {"volunteerId": gid("Volunteer", volunteer.pk), "reason": "核实中"}, user=world.worker_a1)
    result = gql.data(REINSTATE, {"volunteerId": gid("Volunteer", volunteer.pk)}, user=world.worker_a1)["reinstateVolunteer"]
    assert result["volunteer"]["status"] == "APPROVED"
    volunteer.refresh_from_db()
    assert volunteer.suspended_reason == "" and Volunteer.objects.in_pool().exists()


@pytest.mark.parametrize(
    "status, mutation, name",
    [
        (VolunteerStatus.APPROVED, APPROVE, "approveVolunteer"),
        (VolunteerStatus.SUSPENDED, APPROVE, "approveVolunteer"),
        (VolunteerStatus.APPROVED, REINSTATE, "reinstateVolunteer"),
        (VolunteerStatus.PENDING, REINSTATE, "reinstateVolunteer"),
    ],
)
def test_illegal_moves_are_refused_with_a_typed_error(world, gql, status, mutation, name):
    v = make_volunteer(area=world.grid_a1, status=status)
    result = gql.data(mutation, {"volunteerId": gid("Volunteer", v.pk)}, user=world.admin_a)[name]
    assert codes(result) == ["invalid_status_transition"]
    v.refresh_from_db()
    assert v.status == status


def test_an_approval_replayed_with_its_key_returns_the_first_result(world, gql, pending):
    variables = {"volunteerId": gid("Volunteer", pending.pk), "key": "approve-1"}
    first = gql.data(APPROVE, variables, user=world.admin_a)["approveVolunteer"]
    again = gql.data(APPROVE, variables, user=world.admin_a)["approveVolunteer"]
    assert again == first and again["errors"] == []


def test_unknown_volunteer_is_a_typed_not_found(world, gql):
    result = gql.data(APPROVE, {"volunteerId": gid("Volunteer", 999999)}, user=world.admin_a)["approveVolunteer"]
    assert codes(result) == ["not_found"]


# --- the staff list -------------------------------------------------------------------------
def _names(data):
    return sorted(e["node"]["displayName"] for e in data["volunteers"]["edges"])


def test_staff_see_volunteers_of_their_subtree_only(world, gql):
    make_volunteer(new_user("甲一"), world.grid_a1)
    make_volunteer(new_user("甲二"), world.grid_a2)
    make_volunteer(new_user("乙一"), world.grid_b1, point=B_POINT)
    make_volunteer(new_user("乙服务甲"), world.grid_b1, point=B_POINT, service_areas=[world.grid_b1, world.grid_a1])
    assert _names(gql.data(LIST, user=world.worker_a1)) == ["乙服务甲", "甲一"]
    assert _names(gql.data(LIST, user=world.admin_a)) == ["乙服务甲", "甲一", "甲二"]
    assert _names(gql.data(LIST, user=world.admin_b)) == ["乙一", "乙服务甲"]
    assert len(_names(gql.data(LIST, user=world.commander))) == 4


def test_residents_and_volunteers_cannot_list_volunteers(world, gql, volunteer):
    for user in (world.resident, volunteer.user):
        status, body = gql(LIST, user=user)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_list_filters(world, gql):
    now = timezone.now()
    make_volunteer(new_user("会急救"), world.grid_a1, skills={"first_aid": {"certificate_ref": "X1"}}, on_duty_until=now + dt.timedelta(hours=1))
    make_volunteer(new_user("证过期"), world.grid_a1, skills={"first_aid": {"certificate_ref": "X2", "expires_on": now.date() - dt.timedelta(days=3)}})
    make_volunteer(new_user("待审核"), world.grid_a2, status=VolunteerStatus.PENDING)
    assert _names(gql.data(LIST, {"skills": ["first_aid"]}, user=world.admin_a)) == ["会急救"]
    assert _names(gql.data(LIST, {"status": "PENDING"}, user=world.admin_a)) == ["待审核"]
    assert _names(gql.data(LIST, {"availableNow": True}, user=world.admin_a)) == ["会急救"]
    assert _names(gql.data(LIST, {"areaId": gid("Area", world.grid_a2.pk)}, user=world.admin_a)) == ["待审核"]
    assert _names(gql.data(LIST, {"search": "过期"}, user=world.admin_a)) == ["证过期"]


def test_phones_are_masked_for_commanders_and_full_for_local_staff(world, gql, volunteer):
    full = str(volunteer.user.phone)
    by_admin = gql.data(LIST, user=world.admin_a)["volunteers"]["edges"][0]["node"]
    by_commander = gql.data(LIST, user=world.commander)["volunteers"]["edges"][0]["node"]
    assert by_admin["phone"] == full
    assert by_commander["phone"] == volunteer.user.masked_phone != full


def test_volunteer_record_and_reliability_are_shown_to_staff(world, gql, volunteer):
    for outcome in (OfferOutcome.OFFERED, OfferOutcome.OFFERED, OfferOutcome.ACCEPTED, OfferOutcome.COMPLETED, OfferOutcome.EXPIRED):
        record_offer_outcome(volunteer.pk, outcome)
    record = gql.data(LIST, user=world.admin_a)["volunteers"]["edges"][0]["node"]["record"]
    assert record == {"offered": 2, "accepted": 1, "declined": 0, "expired": 1, "completed": 1, "reliability": round(4 / 6, 4)}


def test_the_list_costs_the_same_number_of_queries_for_any_page(world, gql):
    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            gql.data(LIST, {"first": 50}, user=world.admin_a)
        return len(ctx.captured_queries)

    for i in range(2):
        make_volunteer(new_user(f"少{i}"), world.grid_a1, skills={"cooking": {}}, windows=[(1, dt.time(9), dt.time(10))])
    few = count_queries()
    for i in range(8):
        make_volunteer(new_user(f"多{i}"), world.grid_a2, skills={"cooking": {}, "elderly_care": {}}, windows=[(2, dt.time(9), dt.time(10))])
    assert count_queries() == few


def test_a_volunteer_node_outside_scope_is_null(world, gql, volunteer):
    query = "query($id: ID!) { node(id: $id) { ... on Volunteer { id displayName } } }"
    assert gql.data(query, {"id": gid("Volunteer", volunteer.pk)}, user=world.admin_b) == {"node": None}
    assert gql.data(query, {"id": gid("Volunteer", volunteer.pk)}, user=world.other_resident) == {"node": None}
    assert gql.data(query, {"id": gid("Volunteer", volunteer.pk)}, user=world.worker_a1)["node"]["displayName"] == "小王"


# --- nearest --------------------------------------------------------------------------------
def test_nearby_volunteers_are_sorted_by_distance_and_scoped(world, gql):
    lat, lng = A_POINT
    now = timezone.now()
    on = dict(on_duty_until=now + dt.timedelta(hours=1))
    make_volunteer(new_user("远"), world.grid_a1, point=(lat + 0.008, lng), **on)
    make_volunteer(new_user("近"), world.grid_a1, point=(lat + 0.001, lng), **on)
    make_volunteer(new_user("不在岗"), world.grid_a1, point=(lat + 0.0005, lng))
    make_volunteer(new_user("别的社区"), world.grid_b1, point=(lat + 0.0002, lng), **on)
    make_volunteer(new_user("暂停"), world.grid_a1, point=(lat, lng), status=VolunteerStatus.SUSPENDED)
    variables = {"location": {"latitude": lat, "longitude": lng}, "radiusM": 2000}
    edges = gql.data(NEARBY, variables, user=world.admin_a)["nearbyVolunteers"]["edges"]
    assert [e["node"]["displayName"] for e in edges] == ["近", "远"]
    assert edges[0]["distanceM"] < edges[1]["distanceM"] < 2000
    everyone = gql.data(NEARBY, {**variables, "availableOnly": False}, user=world.admin_a)["nearbyVolunteers"]["edges"]
    assert [e["node"]["displayName"] for e in everyone] == ["不在岗", "近", "远"]


def test_nearby_volunteers_is_for_staff_only(world, gql, volunteer):
    variables = {"location": {"latitude": A_POINT[0], "longitude": A_POINT[1]}, "radiusM": 500}
    status, body = gql(NEARBY, variables, user=volunteer.user)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("radius, location", [(0, A_POINT), (60000, A_POINT), (500, (91, 120))])
def test_nearby_volunteers_bad_radius_or_location_is_a_clear_error(world, gql, radius, location):
    variables = {"location": {"latitude": location[0], "longitude": location[1]}, "radiusM": radius}
    status, body = gql(NEARBY, variables, user=world.admin_a)
    assert status == 200 and body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_certificates_and_home_are_personal_data(world, gql):
    v = make_volunteer(new_user("持证"), world.grid_a1, skills={"first_aid": {"certificate_ref": "RC-778899"}})
    query = "query($id: ID!) { node(id: $id) { ... on Volunteer { homeLocation { latitude } skills { certificateRef isValid } } } }"
    variables = {"id": gid("Volunteer", v.pk)}
    for user in (v.user, world.worker_a1, world.admin_a):
        node = gql.data(query, variables, user=user)["node"]
        assert node["skills"] == [{"certificateRef": "RC-778899", "isValid": True}] and node["homeLocation"]
    masked = gql.data(query, variables, user=world.commander)["node"]
    assert masked == {"homeLocation": None, "skills": [{"certificateRef": None, "isValid": True}]}


def test_the_sweeps_in_the_beat_schedule_are_registered_tasks(settings):
    from backend.celery import app

    app.loader.import_default_modules()
    ours = [e["task"] for name, e in settings.CELERY_BEAT_SCHEDULE.items() if name.startswith("volunteers-")]
    assert ours and all(task in app.tasks for task in ours)
