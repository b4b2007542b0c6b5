"""党员报到: a Party member registers with their community, staff there confirm; one active
registration per person; staff of another community neither see nor confirm it; confirmed
members are the mobilisation pool."""

import threading

import pytest
from django.db import connection

from community.permissions import can_view_area
from notifications.models import Notification
from tests.operations import operation
from volunteers.models import PartyMemberRegistration, PartyRegistrationStatus
from volunteers.services import RegistrationSpec, do_register_party_member

from .conftest import gid, make_member, new_user

pytestmark = pytest.mark.django_db

REGISTER = operation("volunteers/RegisterAsPartyMember")
MINE = operation("volunteers/MyPartyMemberRegistration")
LIST = operation("volunteers/PartyMemberRegistrations")
CONFIRM = operation("volunteers/ConfirmPartyMemberRegistration")
REJECT = operation("volunteers/RejectPartyMemberRegistration")
END = operation("volunteers/EndPartyMemberRegistration")


def codes(payload):
    return sorted(e["code"].lower() for e in payload["errors"])


def registration_input(community, **overrides):
    values = {
        "communityId": gid("Area", community.pk), "name": "张党员", "workUnit": "市第一医院",
        "partyBranch": "内科党支部", "homeAddress": "甲社区3幢2单元501",
        "homeLocation": {"latitude": 30.2712, "longitude": 120.1512},
    }
    values.update(overrides)
    return values


def register(gql, user, community, **overrides):
    return gql.data(REGISTER, {"input": registration_input(community, **overrides)}, user=user)["registerAsPartyMember"]


def test_a_party_member_registers_with_their_community(world, gql):
    result = register(gql, world.resident, world.com_a)
    assert result["errors"] == []
    assert result["registration"]["status"] == "PENDING"
    assert result["registration"]["community"]["name"] == "甲社区"
    mine = gql.data(MINE, user=world.resident)["myPartyMemberRegistration"]
    assert mine["workUnit"] == "市第一医院" and mine["homeAddress"] == "甲社区3幢2单元501"


def test_one_active_registration_per_person(world, gql):
    register(gql, world.resident, world.com_a)
    assert codes(register(gql, world.resident, world.com_b)) == ["already_registered"]
    assert PartyMemberRegistration.objects.filter(user=world.resident).count() == 1


def test_after_ending_a_registration_the_member_may_register_again(world, gql):
    first = make_member(world.resident, world.com_a)
    ended = gql.data(END, {"registrationId": gid("PartyMemberRegistration", first.pk), "reason": "搬家"}, user=world.resident)
    assert ended["endPartyMemberRegistration"]["registration"]["status"] == "ENDED"
    assert register(gql, world.resident, world.com_b)["errors"] == []


def test_the_database_refuses_a_second_active_registration(world):
    from django.db import IntegrityError, transaction

    make_member(world.resident, world.com_a, status=PartyRegistrationStatus.PENDING)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_member(world.resident, world.com_b, status=PartyRegistrationStatus.CONFIRMED)


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({"name": " "}, ["required"]),
        ({"workUnit": "单" * 101}, ["invalid"]),
        ({"homeLocation": {"latitude": 30.27, "longitude": 181}}, ["invalid_location"]),
    ],
)
def test_bad_registrations_are_refused_with_typed_errors(world, gql, overrides, expected):
    assert codes(register(gql, world.resident, world.com_a, **overrides)) == expected
    assert not PartyMemberRegistration.objects.exists()


def test_members_register_with_a_community_not_a_grid(world, gql):
    assert codes(register(gql, world.resident, world.grid_a1)) == ["invalid_area"]


def test_registration_replayed_with_its_key_is_one_registration(world, gql):
    variables = {"input": registration_input(world.com_a), "key": "reg-1"}
    first = gql.data(REGISTER, variables, user=world.resident)["registerAsPartyMember"]
    again = gql.data(REGISTER, variables, user=world.resident)["registerAsPartyMember"]
    assert again == first and PartyMemberRegistration.objects.count() == 1


def test_community_staff_confirm_and_the_member_joins_the_pool(world, gql):
    reg = make_member(world.resident, world.com_a, status=PartyRegistrationStatus.PENDING)
    assert not PartyMemberRegistration.objects.confirmed_in(world.com_a).exists()
    result = gql.data(CONFIRM, {"registrationId": gid("PartyMemberRegistration", reg.pk)}, user=world.admin_a)
    assert result["confirmPartyMemberRegistration"]["registration"]["status"] == "CONFIRMED"
    reg.refresh_from_db()
    assert reg.confirmed_by == world.admin_a
    assert Notification.objects.get(user=world.resident).body == "您已成功到甲社区报到。"
    assert list(PartyMemberRegistration.objects.confirmed_in(world.com_a)) == [reg]


@pytest.mark.parametrize("staff", ["admin_b", "worker_b1", "worker_a1", "other_resident"])
def test_staff_of_another_community_cannot_confirm_and_nothing_changes(world, gql, staff):
    reg = make_member(world.resident, world.com_a, status=PartyRegistrationStatus.PENDING)
    status, body = gql(CONFIRM, {"registrationId": gid("PartyMemberRegistration", reg.pk)}, user=getattr(world, staff))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    reg.refresh_from_db()
    assert reg.status == PartyRegistrationStatus.PENDING and reg.confirmed_by is None


def test_staff_of_another_community_cannot_see_the_registration(world, gql):
    reg = make_member(world.resident, world.com_a, status=PartyRegistrationStatus.PENDING)
    assert gql.data(LIST, user=world.admin_b)["partyMemberRegistrations"]["totalCount"] == 0
    node = "query($id: ID!) { node(id: $id) { ... on PartyMemberRegistration { name } } }"
    assert gql.data(node, {"id": gid("PartyMemberRegistration", reg.pk)}, user=world.admin_b) == {"node": None}
    assert gql.data(node, {"id": gid("PartyMemberRegistration", reg.pk)}, user=world.admin_a)["node"]["name"]


def test_staff_list_filters_and_masks_for_commanders(world, gql):
    make_member(world.resident, world.com_a, status=PartyRegistrationStatus.PENDING)
    make_member(new_user("乙党员"), world.com_b)
    pending = gql.data(LIST, {"status": "PENDING"}, user=world.admin_a)["partyMemberRegistrations"]["edges"]
    assert [e["node"]["name"] for e in pending] == ["resident"]
    assert pending[0]["node"]["homeAddress"] == "解放路1号"
    by_commander = gql.data(LIST, user=world.commander)["partyMemberRegistrations"]
    assert by_commander["totalCount"] == 2
    assert all(e["node"]["homeAddress"] is None for e in by_commander["edges"])


def test_residents_cannot_list_registrations(world, gql):
    status, body = gql(LIST, user=world.resident)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_rejection_needs_a_reason_the_member_sees(world, gql):
    reg = make_member(world.resident, world.com_a, status=PartyRegistrationStatus.PENDING)
    rid = gid("PartyMemberRegistration", reg.pk)
    assert codes(gql.data(REJECT, {"registrationId": rid, "reason": ""}, user=world.admin_a)["rejectPartyMemberRegistration"]) == ["required"]
    gql.data(REJECT, {"registrationId": rid, "reason": "不在本社区居住"}, user=world.admin_a)
    mine = gql.data(MINE, user=world.resident)["myPartyMemberRegistration"]
    assert mine["status"] == "REJECTED" and mine["reason"] == "不在本社区居住"


def test_a_confirmed_registration_cannot_be_confirmed_or_rejected_again(world, gql):
    reg = make_member(world.resident, world.com_a)
    rid = gid("PartyMemberRegistration", reg.pk)
    assert codes(gql.data(CONFIRM, {"registrationId": rid}, user=world.admin_a)["confirmPartyMemberRegistration"]) == ["invalid_status_transition"]
    assert codes(gql.data(REJECT, {"registrationId": rid, "reason": "x"}, user=world.admin_a)["rejectPartyMemberRegistration"]) == ["invalid_status_transition"]


def test_another_member_cannot_end_my_registration(world, gql):
    reg = make_member(world.resident, world.com_a)
    status, body = gql(END, {"registrationId": gid("PartyMemberRegistration", reg.pk)}, user=world.other_resident)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_confirmed_in_covers_the_community_its_grids_and_the_areas_above(world):
    a = make_member(world.resident, world.com_a)
    b = make_member(world.other_resident, world.com_b)
    make_member(new_user("待确认"), world.com_a, status=PartyRegistrationStatus.PENDING)
    ended = make_member(new_user("已结束"), world.com_a)
    PartyMemberRegistration.objects.filter(pk=ended.pk).update(status=PartyRegistrationStatus.ENDED)
    pool = PartyMemberRegistration.objects.confirmed_in
    assert list(pool(world.grid_a1)) == [a]
    assert list(pool(world.com_a)) == [a]
    assert set(pool(world.district)) == {a, b}


def test_a_confirmed_member_sees_their_community_through_the_home_area_provider(world):
    assert not can_view_area(world.resident, world.com_a)
    registration = make_member(world.resident, world.com_a, status=PartyRegistrationStatus.PENDING)
    assert not can_view_area(world.resident, world.com_a)  # registering is no way into an area
    PartyMemberRegistration.objects.filter(pk=registration.pk).update(status=PartyRegistrationStatus.CONFIRMED)
    from community.permissions import forget_cached_roles

    forget_cached_roles(world.resident)
    assert can_view_area(world.resident, world.com_a) and can_view_area(world.resident, world.city)
    assert not can_view_area(world.resident, world.com_b)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_of_one_person_leave_exactly_one(world):
    """Two requests of the same person at the same moment (PostgreSQL, real transactions)."""
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    spec = RegistrationSpec(name="张党员", work_unit="单位", party_branch="支部", home_address="地址")

    def attempt(community):
        try:
            barrier.wait(timeout=5)
            do_register_party_member(world.resident, community, spec)
            outcomes.append("ok")
        except Exception as exc:
            outcomes.append(getattr(exc, "code", None) or getattr(exc, "error_list", [exc])[0].code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(c,)) for c in (world.com_a, world.com_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(outcomes) == ["already_registered", "ok"]
    assert PartyMemberRegistration.objects.filter(user=world.resident).count() == 1
